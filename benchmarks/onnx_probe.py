"""ONNX Runtime against torch for the default encoder on the CPU: seconds per batch of 8 full 512-token windows.

torch fp32, torch bf16 (autocast) and ONNX Runtime fp32 with its BERT graph fusions, on the same random ids.
Not a dependency of sentiscore: `pip install onnxruntime onnx` first.

Run: python benchmarks/onnx_probe.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


class Body(torch.nn.Module):
    """The encoder returning its token states only, the part the heads pool."""

    def __init__(self, encoder: torch.nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.encoder(input_ids=input_ids).last_hidden_state


def seconds(run, repeats: int) -> float:
    run()
    started = time.perf_counter()
    for _ in range(repeats):
        run()
    return (time.perf_counter() - started) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    import onnxruntime
    from onnxruntime.transformers.optimizer import optimize_model

    from sentiscore.model import ReviewModel
    from sentiscore.predict import resolve_model_path

    model = ReviewModel.load(resolve_model_path("sentiscore-e5-ru"))
    body = Body(model.encoder).eval()
    ids = torch.randint(5, model.tokenizer.vocab_size, (8, 512), generator=torch.Generator().manual_seed(0))
    config = model.encoder.config
    with tempfile.TemporaryDirectory() as folder, torch.inference_mode():
        exported, fused = Path(folder) / "encoder.onnx", Path(folder) / "encoder_fused.onnx"
        torch.onnx.export(body, (ids,), exported, input_names=["input_ids"], output_names=["states"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "states": {0: "batch", 1: "tokens"}},
                          opset_version=17, dynamo=False)
        optimize_model(str(exported), model_type="bert", num_heads=config.num_attention_heads,
                       hidden_size=config.hidden_size).save_model_to_file(str(fused))
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        session = onnxruntime.InferenceSession(str(fused), options, providers=["CPUExecutionProvider"])
        feeds = {"input_ids": ids.numpy()}
        reference = body(ids).numpy()
        fp32 = seconds(lambda: body(ids), args.repeats)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            bf16 = seconds(lambda: body(ids), args.repeats)
        ort = seconds(lambda: session.run(None, feeds), args.repeats)
        difference = np.abs(session.run(None, feeds)[0] - reference).max()
    print(f"8 x 512 tokens, {torch.get_num_threads()} threads: torch fp32 {fp32:.3f} s, torch bf16 {bf16:.3f} s, "
          f"onnxruntime {onnxruntime.__version__} fp32 {ort:.3f} s (max |difference| from torch fp32 {difference:.1e})")


if __name__ == "__main__":
    main()
