"""Where a forward pass of the shipped encoder spends its CPU time: the attention kernel's share of the time against
its share of the arithmetic, for 8 windows of 512 tokens in bf16 (why shorter windows read faster here).

Run: python benchmarks/attention_share.py [--window 512] [--windows 8]
"""

from __future__ import annotations

import argparse

import torch
from gpu_inference import multiply_adds_per_token
from torch.profiler import ProfilerActivity, profile

from sentiscore.model import ReviewModel
from sentiscore.predict import resolve_model_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=int, default=512)
    parser.add_argument("--windows", type=int, default=8)
    args = parser.parse_args()
    encoder = ReviewModel.load(resolve_model_path("sentiscore-e5-ru")).encoder.eval()
    config = encoder.config
    tokens = torch.randint(5, config.vocab_size, (args.windows, args.window))
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        encoder(input_ids=tokens)
        with profile(activities=[ProfilerActivity.CPU]) as profiled:
            encoder(input_ids=tokens)
    events = profiled.key_averages()
    total = sum(event.self_cpu_time_total for event in events)
    attention = sum(event.self_cpu_time_total for event in events if "attention" in event.key)
    linear, products = multiply_adds_per_token(config, args.window)
    print(f"{args.windows} windows of {args.window} tokens, bf16, {torch.get_num_threads()} threads")
    print(f"attention kernel: {attention / total:.0%} of the time, {products / (linear + products):.0%} of the "
          f"multiply-adds; forward pass {total / 1e6:.2f} s")


if __name__ == "__main__":
    main()
