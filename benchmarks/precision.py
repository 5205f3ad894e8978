"""fp32 against bf16 (and, for the record, torch's dynamic int8, per tensor and per channel) for a shipped
encoder on the CPU: speed and agreement on the same dev reviews. bf16 two ways: fp32 weights under autocast (what
a CPU runs) and the encoder's weights cast to bf16 (what a GPU runs, ``inference.TransformerScorer``).

Run: python benchmarks/precision.py [--reviews 60] [--model sentiscore-e5-ru] [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path

import numpy as np
import torch
from torch.ao import quantization

from sentiscore.inference import infer_ids
from sentiscore.model import ReviewModel, median_score
from sentiscore.predict import resolve_model_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=60)
    parser.add_argument("--model", default="sentiscore-e5-ru")
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from throughput import reviews

    texts = reviews(args.reviews, args.data_dir)
    model = ReviewModel.load(resolve_model_path(args.model)).eval()
    ids = model.encode_text(texts)
    cpu = torch.device("cpu")
    runs = {}
    int8_configs = {"int8": quantization.default_dynamic_qconfig,
                    "int8 per channel": quantization.per_channel_dynamic_qconfig}
    half = copy.deepcopy(model)
    half.encoder.to(torch.bfloat16)
    for name in ("fp32", "bf16", "bf16 weights", *int8_configs):
        runner = quantization.quantize_dynamic(model, {torch.nn.Linear: int8_configs[name]}) \
            if name in int8_configs else half if name == "bf16 weights" else model
        started = time.perf_counter()
        sentiment, scores = infer_ids(runner, ids, cpu, precision="bf16" if name.startswith("bf16") else "fp32")
        runs[name] = (time.perf_counter() - started, sentiment, median_score(scores))
    base_seconds, base_sentiment, base_score = runs["fp32"]
    print(f"{len(texts)} reviews, {sum(len(i) for i in ids):,} tokens, {torch.get_num_threads()} threads")
    for name, (seconds, sentiment, score) in runs.items():
        same = (sentiment.argmax(1) == base_sentiment.argmax(1)).mean()
        print(f"  {name}: {len(texts) / seconds:5.2f} reviews/s ({base_seconds / seconds:4.2f}x fp32), same sentiment "
              f"as fp32 on {same:.1%}, mean |score - fp32 score| {np.abs(score - base_score).mean():.3f}")


if __name__ == "__main__":
    main()
