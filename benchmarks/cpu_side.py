"""The CPU half of file scoring on its own: how many reviews/s reading, checks, normalisation, tokenisation,
windows, batching, the heads, building the output and writing it sustain when the encoder's forward pass costs
nothing. That is the ceiling a GPU runs into: file scoring cannot go faster than this, whatever the accelerator.

Prints the time per review of each step, then whole `score_file` runs with the stub encoder, the next chunks
prepared by a thread (workers 0) or by forked worker processes, with the main thread's own CPU time per review:
with enough workers, that thread is what bounds file scoring on a GPU.

The stub still sums its zeros into per-review sums and runs the heads, on the CPU. On a GPU those are kernels
that the main thread only launches, so by default they get one torch thread here (``--torch-threads``), as they
otherwise compete for the cores the workers keep busy (2 cores, 2 workers: the main thread took 71 / 71 µs per
review with one thread, 94 / 80 with torch's default two).

Run: python benchmarks/cpu_side.py [--reviews 4000] [--model sentiscore-e5-ru] [--texts FILE] [--workers 0 2 4]
                                   [--torch-threads 1]
Reviews: as in benchmarks/throughput.py (the dev split, ``--texts``, or the bundled example), repeated as needed.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch
from throughput import reviews

from sentiscore.batch import score_file
from sentiscore.inference import TransformerScorer
from sentiscore.predict import load_model, predictions_from, prepare_batch
from sentiscore.preprocess import MAX_CHARS, check_text, normalize


def stub_encoder(scorer: TransformerScorer) -> None:
    """Window sums of zeros instead of the encoder's: everything around the forward pass still runs."""
    hidden = scorer.model.encoder.config.hidden_size

    def pooled_windows(input_ids: torch.Tensor, attention_mask: torch.Tensor | None):
        if attention_mask is None:
            return torch.zeros(len(input_ids), hidden), torch.full((len(input_ids), 1), float(input_ids.shape[1]))
        return torch.zeros(len(input_ids), hidden), attention_mask.sum(1, keepdim=True).float()

    scorer.model.pooled_windows = pooled_windows


def per_review(label: str, texts: list[str], step) -> object:
    started = time.perf_counter()
    result = step()
    print(f"  {label:<34} {(time.perf_counter() - started) / len(texts) * 1e6:8.0f} µs per review")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=4000)
    parser.add_argument("--model", default="sentiscore-e5-ru")
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--texts", type=Path, help="a CSV or Parquet file with a text column to read instead")
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--torch-threads", type=int, default=1, help="0: torch's default")
    args = parser.parse_args()
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    texts = reviews(args.reviews, args.data_dir, args.texts)
    scorer = load_model(args.model, "cpu")
    transformers = [m for m in getattr(scorer, "members", [scorer]) if isinstance(m, TransformerScorer)]
    for member in transformers:
        stub_encoder(member)
    characters = sum(map(len, texts)) / len(texts)
    print(f"{args.model}, encoder stubbed, {len(texts)} reviews of {characters:,.0f} characters on average, "
          f"{torch.get_num_threads()} threads")

    per_review("check_text", texts, lambda: [check_text(t) for t in texts])
    clean = per_review("normalize", texts, lambda: [normalize(t[:MAX_CHARS]) for t in texts])
    per_review("model input (prepare)", texts, lambda: scorer.prepare(clean))
    batch = per_review("all of prepare_batch", texts, lambda: prepare_batch(scorer, texts))
    per_review("windows, batches, heads (run)", texts, lambda: predictions_from(scorer, batch, progress=False))

    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "reviews.csv"
        pd.DataFrame({"text": texts}).to_csv(source, index=False)
        for workers in args.workers:
            for output in ("scored.csv", "scored.parquet"):
                started, main_thread = time.perf_counter(), time.thread_time()
                score_file(source, Path(folder) / f"{workers}-{output}", model=scorer, progress=False, workers=workers)
                seconds = time.perf_counter() - started
                busy = (time.thread_time() - main_thread) / len(texts) * 1e6
                print(f"score_file to {output:<15} workers {workers}: {len(texts) / seconds:8.0f} reviews/s, "
                      f"main thread busy {busy:5.0f} µs per review")


if __name__ == "__main__":
    main()
