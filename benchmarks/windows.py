"""Speed against quality of the encoder's reading window on the CPU: the same dev reviews read whole in windows of
512, 256 or 128 tokens, and head + tail only, each with the dev metrics it gives.

The encoder was trained on 512-token windows; shorter windows run faster on a CPU because its attention kernel is
far slower per operation than its matrix products (37 % of a 512-token forward pass in bf16 with 18 % of the
arithmetic: benchmarks/attention_share.py). This measures what that speed costs before any default changes.

Run: python benchmarks/windows.py [--reviews 1311] [--model sentiscore-e5-ru] [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from sentiscore.data import dev_split
from sentiscore.evaluate import score_metrics, sentiment_metrics, truth
from sentiscore.inference import infer_ids
from sentiscore.model import ReviewModel, median_score
from sentiscore.predict import resolve_model_path

READINGS = {"whole, 512-token windows": (512, None), "whole, 256-token windows": (256, None),
            "whole, 128-token windows": (128, None), "head + tail, 2 windows of 256": (256, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=1311)
    parser.add_argument("--model", default="sentiscore-e5-ru")
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    rows = list(dev_split(args.data_dir))[: args.reviews]
    model = ReviewModel.load(resolve_model_path(args.model)).eval()
    ids = model.encode_text([row["text"] for row in rows])
    true_sentiment, true_score = truth(rows)
    print(f"{args.model}, {len(rows)} dev reviews, {sum(map(len, ids)):,} tokens, "
          f"{torch.get_num_threads()} threads, bf16 where the CPU has it")
    print(f"{'reading':<32}{'reviews/s':>10}{'speed-up':>9}{'pos/neg':>9}{'MAE':>7}{'±1':>7}{'Spearman':>9}")
    baseline = None
    for label, (window, max_windows) in READINGS.items():
        model.config.window, model.config.max_windows = window, max_windows
        started = time.perf_counter()
        sentiment, distribution = infer_ids(model, ids, torch.device("cpu"))
        seconds = time.perf_counter() - started
        baseline = baseline or seconds
        polar = sentiment_metrics(true_sentiment, sentiment)
        scores = score_metrics(true_score, median_score(distribution))
        print(f"{label:<32}{len(rows) / seconds:>10.2f}{baseline / seconds:>8.2f}x{polar['posneg_accuracy']:>9.3f}"
              f"{scores['mae']:>7.3f}{scores['within_1']:>7.3f}{scores['spearman']:>9.3f}", flush=True)


if __name__ == "__main__":
    main()
