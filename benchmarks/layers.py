"""How much faster an encoder of fewer layers reads (`sentiscore train --layers`): the shipped encoder cut to its
first N layers, timed on the same windows, against its share of the arithmetic (the layers' share: they do all of
the matrix products). Speed only: a cut encoder needs
fine-tuning before its predictions mean anything (scripts/gpu_run.py --shallow measures what that costs).

Run: python benchmarks/layers.py [--layers 12 8 6 4] [--windows 8] [--window 512] [--device cpu] [--model NAME]
"""

from __future__ import annotations

import argparse
import copy
import time

import torch

from sentiscore.inference import autocast, pick_device
from sentiscore.model import ReviewModel, keep_first_layers
from sentiscore.predict import resolve_model_path


def seconds_per_pass(encoder: torch.nn.Module, tokens: torch.Tensor, device: torch.device, repeats: int) -> float:
    synchronize = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    with torch.inference_mode(), autocast(device):
        encoder(input_ids=tokens)  # kernels chosen, memory pooled
        synchronize()
        timings = []
        for _ in range(repeats):
            started = time.perf_counter()
            encoder(input_ids=tokens)
            synchronize()
            timings.append(time.perf_counter() - started)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, nargs="+", default=[12, 8, 6, 4])
    parser.add_argument("--windows", type=int, default=8)
    parser.add_argument("--window", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--model", default="sentiscore-e5-ru", help="a transformer model: shipped name or folder")
    args = parser.parse_args()
    device = pick_device(args.device)
    shipped = ReviewModel.load(resolve_model_path(args.model)).encoder.to(device).eval()
    config = shipped.config
    tokens = torch.randint(5, config.vocab_size, (args.windows, args.window), device=device)
    print(f"{args.windows} windows of {args.window} tokens on {device}, best of {args.repeats}")
    print(f"{'layers':>6}{'seconds':>9}{'windows/s':>11}{'speed-up':>10}{'arithmetic':>12}")
    first = None
    for layers in args.layers:
        seconds = seconds_per_pass(keep_first_layers(copy.deepcopy(shipped), layers), tokens, device, args.repeats)
        first = first or (seconds, layers)
        print(f"{layers:>6}{seconds:>9.3f}{args.windows / seconds:>11.1f}{first[0] / seconds:>9.2f}x"
              f"{layers / first[1]:>11.0%}", flush=True)


if __name__ == "__main__":
    main()
