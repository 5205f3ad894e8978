"""Reviews per second and peak memory: sentiscore's file scoring against the plain Hugging Face pipeline loop,
over the same model and the same reviews, each in its own process.

plain:      transformers pipeline("feature-extraction") called review by review (its first 512 tokens), then
            mean pooling and the same two heads: what one writes with the transformers docs in hand.
sentiscore: `sentiscore score` from a CSV (``--input-format parquet``: a Parquet file) of the same reviews to a
            Parquet file (reads whole reviews in windows, length-grouped batches of windows, the next chunk
            tokenised while the model runs, bf16 where the processor has it), end to end with the I/O.
            ``--compare-model-thread`` runs it twice instead, with the model in a thread of its own (the default
            on a GPU) and in the main thread, taking turns with building and handing on each chunk's output (the
            default on a CPU). Each run also prints the CPU time of its main process's threads per review beside
            the wall time per review: on a GPU, where the two come close, the main process is what bounds the
            job.

Run: python benchmarks/throughput.py [--reviews 200] [--device cpu|cuda] [--model sentiscore-e5-ru] [--texts FILE]
                                    [--plain-reviews 1000] [--plain-model NAME] [--profile] [--compare-model-thread]
                                    [--rounds 1] [--input-format csv|parquet]
``--rounds N`` runs every way N times, taking turns, and prints each round's speed-ups and their median: on a
shared machine single runs vary by 10-15 %.
``--plain-model`` runs the plain loop over another model than sentiscore's (the default: the same), to set a faster
model against the plain loop over the default one.
``--profile`` prints where sentiscore spends its time (cProfile): the main thread's under Python 3.11, every
thread's under 3.12 and later (cProfile counts through sys.monitoring there), where the model thread's waits for
the GPU show as the operations that wait (copies to the host, attention).
The plain loop reads at most ``--plain-reviews`` of them (one at a time it needs minutes for what sentiscore
does in seconds on a GPU); both rates are reviews per second.
Reviews: the documented dev split of ../shared/data (ratings stripped), or the ``text`` column of ``--texts`` (a
CSV or Parquet file, e.g. the dev texts scripts/prepare_training.py carries to a GPU machine), or the bundled
example; repeated when fewer than ``--reviews``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

PLAIN_MAX_LENGTH = 512
"""Tokens the plain loop reads of each review, as the transformers pipeline's truncation gives them."""
OWN_THREAD, MAIN_THREAD = "sentiscore, model in its own thread", "sentiscore, model in the main thread"
WAYS = {"plain": None, "sentiscore": None, OWN_THREAD: True, MAIN_THREAD: False}
"""The runs, and for sentiscore's where its model runs (``model_thread`` of ``score_file``; None: its default)."""


def reviews(count: int, data_dir: Path, source: Path | None = None) -> list[str]:
    from sentiscore.data import dev_split
    from sentiscore.files import read_chunks

    if source is not None:
        texts = [text for frame, _ in read_chunks(source, 100_000) for text in frame["text"].dropna()]
    elif (data_dir / "kinopoisk_itsecd_labs.jsonl.gz").exists():
        texts = [row["text"] for row in dev_split(data_dir)]
    else:
        texts = pd.read_csv("data/example_reviews.csv")["text"].dropna().tolist()
    return (texts * (count // len(texts) + 1))[:count]


def run_plain(texts: list[str], model_name: str, device: str) -> float:
    import torch
    from transformers import pipeline

    from sentiscore.inference import pick_device
    from sentiscore.model import ReviewModel
    from sentiscore.predict import resolve_model_path

    target = pick_device(device)
    model = ReviewModel.load(resolve_model_path(model_name)).to(target).eval()
    extract = pipeline("feature-extraction", model=model.encoder, tokenizer=model.tokenizer, device=target,
                       framework="pt", return_tensors=True,
                       tokenize_kwargs={"truncation": True, "max_length": PLAIN_MAX_LENGTH})
    with torch.inference_mode():
        extract(texts[0])  # the first call pays for the device's start-up, as in run_sentiscore
        started = time.perf_counter()
        for text in texts:
            pooled = extract(text)[0].mean(0, keepdim=True).to(target)
            model.sentiment_head(pooled).softmax(-1), model.score_head(pooled).softmax(-1)
    return time.perf_counter() - started


def run_sentiscore(texts: list[str], model_name: str, device: str, profile: bool = False,
                   model_thread: bool | None = None, input_format: str = "csv") -> tuple[float, float]:
    """Seconds of file scoring, and the CPU seconds of this process's threads in them (not its workers')."""
    import cProfile
    import pstats

    from sentiscore.batch import score_file
    from sentiscore.predict import load_model

    scorer = load_model(model_name, device)
    scorer.run(scorer.prepare(texts[:64]), progress=False)
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / f"reviews.{input_format}"
        if input_format == "parquet":
            pd.DataFrame({"text": texts}).to_parquet(source, index=False)
        else:
            pd.DataFrame({"text": texts}).to_csv(source, index=False)
        profiler = cProfile.Profile()
        started, cpu_started = time.perf_counter(), time.process_time()
        with profiler if profile else contextlib.nullcontext():
            score_file(source, Path(folder) / "scored.parquet", model=scorer, progress=False, model_thread=model_thread)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    if profile:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
    return seconds, cpu_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=200)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--model", default="sentiscore-e5-ru")
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--texts", type=Path, help="a CSV or Parquet file with a text column to read instead")
    parser.add_argument("--plain-reviews", type=int, default=1000)
    parser.add_argument("--plain-model", help="the model of the plain loop, if not --model")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--compare-model-thread", action="store_true")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--input-format", choices=["csv", "parquet"], default="csv",
                        help="the file sentiscore reads the reviews from (it writes Parquet)")
    parser.add_argument("--only", choices=list(WAYS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only:
        texts = reviews(args.reviews, args.data_dir, args.texts)
        seconds, cpu_seconds = (run_plain(texts, args.model, args.device), None) if args.only == "plain" else \
            run_sentiscore(texts, args.model, args.device, args.profile, WAYS[args.only], args.input_format)
        print(json.dumps({"reviews": len(texts), "seconds": seconds, "main_process_cpu_seconds": cpu_seconds,
                          "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
        return
    ways = ["plain", *([OWN_THREAD, MAIN_THREAD] if args.compare_model_thread else ["sentiscore"])]
    speed_ups: dict[str, list[float]] = {way: [] for way in ways[1:]}
    for round_ in range(1, args.rounds + 1):
        results = {way: run_way(way, args) for way in ways}
        print(f"{args.model} on {args.device}, {args.input_format.upper()} to Parquet, the plain loop over "
              f"{args.plain_model or args.model}"
              + (f", round {round_} of {args.rounds}" if args.rounds > 1 else ""))
        rates = {way: r["reviews"] / r["seconds"] for way, r in results.items()}
        for way, r in results.items():
            print(f"  {way:<37} {rates[way]:8.2f} reviews/s over {r['reviews']:,} reviews   "
                  f"peak RSS {r['peak_rss_mb']:6.0f} MB")
            if r["main_process_cpu_seconds"] is not None:  # near the wall time per review: that process bounds it
                print(f"  {'':<37} {r['seconds'] / r['reviews'] * 1e6:8,.0f} µs per review; CPU time of the main "
                      f"process's threads {r['main_process_cpu_seconds'] / r['reviews'] * 1e6:,.0f} µs per review")
        for way in ways[1:]:
            speed_ups[way].append(rates[way] / rates["plain"])
            print(f"  speed-up, {way:<27} {speed_ups[way][-1]:8.2f}x")
    if args.rounds > 1:
        for way, values in speed_ups.items():
            print(f"speed-up, {way}, median of {args.rounds} rounds: {statistics.median(values):.2f}x "
                  f"(rounds: {', '.join(f'{v:.2f}' for v in values)})")


def run_way(way: str, args: argparse.Namespace) -> dict:
    """One way's run in a process of its own: its reviews, seconds and peak memory."""
    count = min(args.reviews, args.plain_reviews) if way == "plain" else args.reviews
    model = (args.plain_model or args.model) if way == "plain" else args.model
    done = subprocess.run([sys.executable, __file__, "--only", way, "--reviews", str(count), "--device",
                           args.device, "--model", model, "--data-dir", str(args.data_dir),
                           *(["--texts", str(args.texts)] if args.texts else []),
                           *(["--profile"] if args.profile else []), "--input-format", args.input_format],
                          capture_output=True, text=True, check=True)
    *printed, last = done.stdout.strip().splitlines()
    if printed:
        print("\n".join(printed))
    return json.loads(last)


if __name__ == "__main__":
    main()
