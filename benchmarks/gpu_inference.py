"""The encoder's forward pass alone on a GPU, in the ways it could run: what file scoring's model half can reach.

Each way reads the same dev reviews whole (token ids prepared once, no file I/O) after a warm-up pass, and is
compared with fp32 weights under bf16 autocast (the way scoring ran before it took bf16 weights) on the
predictions it gives:

- autocast:     fp32 weights, bf16 autocast, at the model's window and at 256 tokens, two batch sizes;
- bf16 weights: the encoder cast to bf16, no autocast (no casts between layers, half the weight traffic): the way
                ``inference.TransformerScorer`` reads wherever its precision is bf16;
- compiled:     bf16 weights and ``torch.compile(dynamic=True)`` on the encoder (its compile time is printed).

Each way's arithmetic rate is printed too (TFLOP/s: the encoder's matrix products, counted from its shape and
the windows read), next to what 10,000 reviews/s of these reviews would take; ``--count-only`` prints that count
and stops (seconds on any machine).

Run: python benchmarks/gpu_inference.py [--model sentiscore-e5-ru] [--texts FILE] [--reviews 8000] [--count-only]
Reviews: as in benchmarks/throughput.py. On a CPU (``--device cpu``) it runs, slowly, as a smoke test.
"""

from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path

import numpy as np
import torch
from throughput import PLAIN_MAX_LENGTH, reviews

from sentiscore.inference import infer_ids, pick_device
from sentiscore.model import ReviewModel, window_ids
from sentiscore.predict import resolve_model_path


def multiply_adds_per_token(config, window: int | np.ndarray) -> tuple[int, int | np.ndarray]:
    """Multiply-adds per token and layer in a window of ``window`` tokens: the four attention projections and the
    two feed-forward ones (4 h² + 2 h·inner), and the attention scores and their weighted sum (2 · window · h).
    The embeddings, norms, activations and heads are left out."""
    hidden = config.hidden_size
    return 4 * hidden**2 + 2 * hidden * config.intermediate_size, 2 * window * hidden


def encoder_flops(model: ReviewModel, ids: list[np.ndarray], first_window_only: bool = False) -> float:
    """Floating-point operations (two per multiply-add) of the encoder's matrix products over every window of
    ``ids``, special tokens included: a lower bound. ``first_window_only``: what a loop that truncates each review
    to one window reads."""
    windows = [window_ids(review, model.content_size) for review in ids]
    lengths = np.array([len(w) + 2 for review in windows for w in (review[:1] if first_window_only else review)],
                       dtype=np.float64)
    linear, attention = multiply_adds_per_token(model.encoder.config, lengths)
    return 2.0 * model.encoder.config.num_hidden_layers * float((lengths * (linear + attention)).sum())


def timed(model: ReviewModel, ids: list[np.ndarray], device: torch.device, batch_tokens: int,
          precision: str) -> tuple[float, np.ndarray, np.ndarray]:
    infer_ids(model, ids[:64], device, batch_tokens, precision=precision)  # kernels chosen, memory pooled
    synchronize = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    synchronize()
    started = time.perf_counter()
    sentiment, distribution = infer_ids(model, ids, device, batch_tokens, precision=precision)
    synchronize()
    return len(ids) / (time.perf_counter() - started), sentiment, distribution


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="sentiscore-e5-ru")
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--texts", type=Path, help="a CSV or Parquet file with a text column to read instead")
    parser.add_argument("--reviews", type=int, default=8000)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-tokens", type=int, nargs="+", default=[65_536, 262_144])
    parser.add_argument("--count-only", action="store_true", help="print the arithmetic per review, time nothing")
    args = parser.parse_args()
    device = pick_device(args.device)
    shipped = ReviewModel.load(resolve_model_path(args.model)).to(device).eval()
    ids = shipped.encode_text(reviews(args.reviews, args.data_dir, args.texts))
    print(f"{args.model} on {torch.cuda.get_device_name() if device.type == 'cuda' else 'cpu'}: {len(ids):,} reviews, "
          f"{sum(map(len, ids)):,} tokens")
    trained = shipped.config.window
    flops = {window: encoder_flops(with_window(shipped, window), ids) / len(ids)
             for window in dict.fromkeys([trained, 256])}
    for window, per_review in flops.items():
        print(f"  {window}-token windows: {per_review / 1e9:.1f} GFLOP per review; 10,000 reviews/s would take "
              f"{per_review * 1e4 / 1e12:.0f} TFLOP/s")
    truncated = encoder_flops(with_window(shipped, PLAIN_MAX_LENGTH), ids, first_window_only=True) / len(ids)
    print(f"  the first {PLAIN_MAX_LENGTH} tokens only, as the plain pipeline loop reads: {truncated / 1e9:.1f} "
          "GFLOP per review")
    if args.count_only:
        return
    print(f"{'way':<34}{'window':>7}{'batch tokens':>13}{'reviews/s':>11}{'TFLOP/s':>9}{'same sentiment':>16}"
          f"{'score moved':>12}")
    reference = None

    def report(way: str, model: ReviewModel, window: int, batch_tokens: int, precision: str) -> None:
        nonlocal reference
        rate, sentiment, distribution = timed(with_window(model, window), ids, device, batch_tokens, precision)
        expected = distribution @ np.arange(1, 11)
        if reference is None:
            reference = (sentiment.argmax(1), expected)
        same = (sentiment.argmax(1) == reference[0]).mean()
        moved = np.abs(expected - reference[1]).mean()
        print(f"{way:<34}{window:>7}{batch_tokens:>13,}{rate:>11,.1f}{rate * flops[window] / 1e12:>9.1f}"
              f"{same:>16.4f}{moved:>12.4f}", flush=True)

    for window in flops:
        for batch_tokens in args.batch_tokens:
            report("autocast bf16", shipped, window, batch_tokens, "bf16")
    half = copy.deepcopy(shipped)
    half.encoder.to(torch.bfloat16)  # the heads stay in fp32, as the pooled sums they read
    for batch_tokens in args.batch_tokens:
        report("bf16 weights (shipped)", half, trained, batch_tokens, "fp32")
    started = time.perf_counter()
    try:
        half.encoder = torch.compile(half.encoder, dynamic=True)
        infer_ids(half, ids[:64], device, args.batch_tokens[-1], precision="fp32")
        print(f"torch.compile: first pass {time.perf_counter() - started:.0f} s", flush=True)
        report("bf16 weights, compiled", half, trained, args.batch_tokens[-1], "fp32")
    except Exception as error:  # the measurements above stand
        print(f"torch.compile failed after {time.perf_counter() - started:.0f} s: {error!r}"[:2000])


def with_window(model: ReviewModel, window: int) -> ReviewModel:
    model.config.window = window
    return model


if __name__ == "__main__":
    main()
