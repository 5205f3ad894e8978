"""Put the weights a GPU run sent back (scripts/gpu_run.py) into a model folder that sentiscore loads.

Run: python scripts/assemble_model.py RUN_OUTPUT models/sentiscore-e5-ru [--carry .carry] [--window 256]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gpu_run import fresh_model
from safetensors.torch import load_file

from sentiscore.base import E5_LICENSE_NOTE
from sentiscore.model import ModelConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--carry", type=Path, default=Path(".carry"))
    parser.add_argument("--window", type=int, help="the reading window to ship, if not the trained one")
    args = parser.parse_args()
    config = ModelConfig.load(args.run / "sentiscore.json")
    config.window = args.window or config.window
    model = fresh_model(args.carry, config.window)
    state = {}
    for shard in sorted(args.run.glob("weights-*.safetensors")):
        state |= {key: value.float() for key, value in load_file(str(shard)).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or [key for key in missing if "position_ids" not in key]:
        raise SystemExit(f"weights do not fit: missing {missing}, unexpected {unexpected}")
    model.config = config
    model.save(args.output)
    (args.output / "LICENSE-multilingual-e5-small.txt").write_text(E5_LICENSE_NOTE)
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
