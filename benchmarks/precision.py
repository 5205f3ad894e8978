"""fp32 against bf16 (and, for the record, torch's dynamic int8, per tensor and per channel) for a shipped
encoder on the CPU: speed and agreement on the same dev reviews. bf16 two ways: fp32 weights under autocast (what
a CPU runs) and the encoder's weights cast to bf16 (what a GPU runs, ``inference.TransformerScorer``).

``--rounds N`` runs every way N times, taking turns, and prints each way's median rate and its rounds: single
runs on a shared machine vary by 10-15 %. ``--ways`` runs only some of them (fp32, the reference, always runs).

Run: python benchmarks/precision.py [--reviews 60] [--model sentiscore-e5-ru] [--rounds 1] [--ways bf16 ...]
                                    [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from torch.ao import quantization

from sentiscore.inference import infer_ids
from sentiscore.model import ReviewModel, median_score
from sentiscore.predict import resolve_model_path

WAYS = ("fp32", "bf16", "bf16 weights", "int8", "int8 per channel")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=60)
    parser.add_argument("--model", default="sentiscore-e5-ru")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--ways", nargs="+", choices=WAYS[1:], default=WAYS[1:])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from throughput import reviews

    texts = reviews(args.reviews, args.data_dir)
    model = ReviewModel.load(resolve_model_path(args.model)).eval()
    ids = model.encode_text(texts)
    cpu = torch.device("cpu")
    int8_configs = {"int8": quantization.default_dynamic_qconfig,
                    "int8 per channel": quantization.per_channel_dynamic_qconfig}
    runners = {name: quantization.quantize_dynamic(model, {torch.nn.Linear: int8_configs[name]})
               if name in int8_configs else model for name in ("fp32", *args.ways)}
    if "bf16 weights" in runners:  # a copy of the model only where it is asked for
        runners["bf16 weights"] = copy.deepcopy(model)
        runners["bf16 weights"].encoder.to(torch.bfloat16)
    seconds, outputs = {name: [] for name in runners}, {}
    for _ in range(args.rounds):
        for name, runner in runners.items():
            started = time.perf_counter()
            sentiment, scores = infer_ids(runner, ids, cpu, precision="bf16" if name.startswith("bf16") else "fp32")
            seconds[name].append(time.perf_counter() - started)
            outputs[name] = (sentiment, median_score(scores))
    base_sentiment, base_score = outputs["fp32"]
    base_rate = len(texts) / statistics.median(seconds["fp32"])
    print(f"{len(texts)} reviews, {sum(len(i) for i in ids):,} tokens, {torch.get_num_threads()} threads, "
          f"{args.rounds} round(s)")
    for name, (sentiment, score) in outputs.items():
        rates = [len(texts) / s for s in seconds[name]]
        rate = statistics.median(rates)
        same = (sentiment.argmax(1) == base_sentiment.argmax(1)).mean()
        rounds = f" (rounds: {', '.join(f'{r:.2f}' for r in rates)})" if args.rounds > 1 else ""
        print(f"  {name}: {rate:5.2f} reviews/s ({rate / base_rate:4.2f}x fp32){rounds}, same sentiment as fp32 on "
              f"{same:.1%}, mean |score - fp32 score| {np.abs(score - base_score).mean():.3f}")


if __name__ == "__main__":
    main()
