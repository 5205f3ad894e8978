"""The CPU half of file scoring on its own: how many reviews/s reading, checks, normalisation, tokenisation,
windows, batching, the heads, building the output and writing it sustain when the encoder's forward pass costs
nothing. That is the ceiling a GPU runs into: file scoring cannot go faster than this, whatever the accelerator.

Prints the time per review of each step (the workers' steps, then the main process's, whose threads share
Python's lock), then whole `score_file` runs with the stub encoder, the next chunks prepared by a thread (workers
0) or by forked worker processes (and, with workers, the input read by a process of its own), with the CPU time
per review of the main thread and of the main process (all its threads, not its worker or reader processes): with
enough workers, the main process is what bounds file scoring on a GPU. The stub reads batches of a GPU's size
(262,144 padded tokens).

With ``--gpu-rate`` the stub also waits, letting go of Python's lock as a thread waiting for a GPU does, as long
as a GPU reading that many reviews/s would take over the windows of each batch (the H100's model-only rate in
512-token windows was 2,874 dev reviews/s): each run is then made with the model in a thread of its own (the
default on a GPU) and in the main thread, which shows how much of the GPU's time the CPU half costs when the two
take turns.

The stub still sums its zeros into per-review sums and runs the heads, on the CPU. On a GPU those are kernels
that the main thread only launches, so by default they get one torch thread here (``--torch-threads``), as they
otherwise compete for the cores the workers keep busy.

Run: python benchmarks/cpu_side.py [--reviews 4000] [--model sentiscore-e5-ru] [--texts FILE] [--workers 0 2 4]
                                   [--torch-threads 1] [--gpu-rate 2874]
Reviews: as in benchmarks/throughput.py (the dev split, ``--texts``, or the bundled example), repeated as needed.
"""

from __future__ import annotations

import argparse
import pickle
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import torch
from throughput import reviews

from sentiscore.batch import add_predictions, score_file
from sentiscore.files import read_chunks
from sentiscore.inference import TransformerScorer, default_batch_tokens
from sentiscore.model import window_ids
from sentiscore.predict import load_model, prepare_batch, score_prepared
from sentiscore.preprocess import MAX_CHARS, check_text, normalize
from sentiscore.shards import merge_shards, write_atomically

CHUNK_ROWS = 2_000
"""As ``sentiscore score``'s default --batch-size."""


def stub_encoder(scorer: TransformerScorer, seconds_per_window: float = 0.0) -> None:
    """Window sums of zeros instead of the encoder's, after ``seconds_per_window`` of waiting per window:
    everything around the forward pass still runs."""
    hidden = scorer.model.encoder.config.hidden_size

    def pooled_windows(input_ids: torch.Tensor, attention_mask: torch.Tensor | None):
        if seconds_per_window:
            time.sleep(len(input_ids) * seconds_per_window)
        if attention_mask is None:
            return torch.zeros(len(input_ids), hidden), torch.full((len(input_ids), 1), float(input_ids.shape[1]))
        return torch.zeros(len(input_ids), hidden), attention_mask.sum(1, keepdim=True).float()

    scorer.model.pooled_windows = pooled_windows


def per_review(label: str, texts: list[str], step, repeat: int = 1) -> object:
    """Times ``step`` over all ``texts``: once, or the median of ``repeat`` runs."""
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = step()
        seconds.append(time.perf_counter() - started)
    median = sorted(seconds)[len(seconds) // 2]
    print(f"  {label:<40} {median / len(texts) * 1e6:8.0f} µs per review" + (f", median of {repeat}" if repeat > 1
                                                                              else ""))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=4000)
    parser.add_argument("--model", default="sentiscore-e5-ru")
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--texts", type=Path, help="a CSV or Parquet file with a text column to read instead")
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--torch-threads", type=int, default=1, help="0: torch's default")
    parser.add_argument("--gpu-rate", type=float, default=0.0,
                        help="reviews/s of a simulated GPU (0: the encoder costs nothing)")
    args = parser.parse_args()
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    texts = reviews(args.reviews, args.data_dir, args.texts)
    scorer = load_model(args.model, "cpu")
    members = getattr(scorer, "members", [scorer])
    characters = sum(map(len, texts)) / len(texts)
    print(f"{args.model}, encoder stubbed, {len(texts)} reviews of {characters:,.0f} characters on average, "
          f"{torch.get_num_threads()} threads")

    print("in a worker (or the prepare thread):")
    per_review("check_text", texts, lambda: [check_text(t) for t in texts])
    clean = per_review("normalize", texts, lambda: [normalize(t[:MAX_CHARS]) for t in texts])
    prepared = per_review("model input (prepare)", texts, lambda: scorer.prepare(clean))
    batch = per_review("all of prepare_batch", texts, lambda: prepare_batch(scorer, texts))

    transformers = [m for m in members if isinstance(m, TransformerScorer)]
    seconds_per_window = 0.0
    if args.gpu_rate:
        ids = prepared[members.index(transformers[0])] if hasattr(scorer, "members") else prepared
        windows = sum(len(window_ids(review, transformers[0].model.content_size)) for review in ids)
        seconds_per_window = len(texts) / windows / args.gpu_rate
        print(f"simulated GPU: {args.gpu_rate:,.0f} reviews/s, {windows / len(texts):.2f} windows per review")
    for member in transformers:
        stub_encoder(member, seconds_per_window)
        # A CPU's small batches would count per-batch work that a GPU's does 64 times less often.
        member.batch_tokens = default_batch_tokens(torch.device("cuda"))

    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "reviews.csv"
        pd.DataFrame({"text": texts}).to_csv(source, index=False)
        pd.DataFrame({"text": texts}).to_parquet(source.with_suffix(".parquet"), index=False)
        print("in the main process, by its threads (they overlap only where the work lets go of Python's lock):")
        chunks = [frame for frame, _ in read_chunks(source, CHUNK_ROWS)]
        # What crosses a pipe costs one side its pickling, the other its unpickling: the main process's share.
        pickled_chunks = [pickle.dumps(frame, protocol=5) for frame in chunks]
        pickled_batch = pickle.dumps(batch, protocol=5)
        main_process = {
            "read CSV chunks (reader)": lambda: list(read_chunks(source, CHUNK_ROWS)),
            "read Parquet chunks (reader)": lambda: list(read_chunks(source.with_suffix(".parquet"), CHUNK_ROWS)),
            "unpickle chunks from the reader process": lambda: [pickle.loads(chunk) for chunk in pickled_chunks],
            "pickle texts as strings (before)": lambda: [pickle.dumps(frame["text"].tolist(), protocol=5)
                                                         for frame in chunks],
            "pickle their column for a worker": lambda: [pickle.dumps(frame["text"], protocol=5) for frame in chunks],
            "unpickle the model input from it": lambda: pickle.loads(pickled_batch),
            "windows, batches, heads (model)": lambda: score_prepared(scorer, batch, progress=False),
        }
        # The model's step runs once per chunk in a job: timed warm, as the median of 5 runs.
        results = {label: per_review(label, texts, step, repeat=5 if "(model)" in label else 1)
                   for label, step in main_process.items()}
        frame = pd.DataFrame({"text": texts})
        scored = results["windows, batches, heads (model)"]
        output = per_review("the output frame (main)", texts, lambda: add_predictions(frame, scorer, scored))
        for fmt in ("csv", "parquet"):
            per_review(f"write a {fmt} shard (writer)", texts,
                       lambda fmt=fmt: write_atomically(output, Path(folder) / f"shard.{fmt}", fmt))
        per_review("read a parquet shard back (before)", texts,
                   lambda: pq.read_table(Path(folder) / "shard.parquet"))
        for fmt in ("csv", "parquet"):  # what an output file costs where it cannot be put together as the job runs
            parts = Path(folder) / f"merge-{fmt}.parts"
            parts.mkdir()
            for start in range(0, len(output), CHUNK_ROWS):
                write_atomically(output.iloc[start : start + CHUNK_ROWS], parts / f"part-{start:09d}.{fmt}", fmt)
            per_review(f"merge {fmt} shards at the end (fallback)", texts,
                       lambda fmt=fmt, parts=parts: merge_shards(parts, Path(folder) / f"merged.{fmt}", fmt))
        for workers in args.workers:
            for output in ("scored.csv", "scored.parquet"):
                for model_thread in (True, False) if args.gpu_rate else (None,):
                    target = Path(folder) / f"{workers}-{model_thread}-{output}"
                    started, main_thread, main_process = time.perf_counter(), time.thread_time(), time.process_time()
                    score_file(source, target, model=scorer, progress=False, workers=workers,
                               model_thread=model_thread)
                    seconds = time.perf_counter() - started
                    thread_busy = (time.thread_time() - main_thread) / len(texts) * 1e6
                    process_busy = (time.process_time() - main_process) / len(texts) * 1e6
                    where = {True: ", model in its own thread", False: ", model in the main thread", None: ""}
                    print(f"score_file to {output:<15} workers {workers}{where[model_thread]}: "
                          f"{len(texts) / seconds:8.0f} reviews/s, busy per review: main thread {thread_busy:5.0f} µs, "
                          f"main process (all its threads) {process_busy:5.0f} µs")


if __name__ == "__main__":
    main()
