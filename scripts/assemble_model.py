"""Put the weights a GPU run sent back (scripts/gpu_run.py) into a model folder that sentiscore loads.

Run: python scripts/assemble_model.py RUN_OUTPUT models/sentiscore-e5-ru [--carry .carry] [--window 256]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gpu_run import trained_model

from sentiscore.base import E5_LICENSE_NOTE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--carry", type=Path, default=Path(".carry"))
    parser.add_argument("--window", type=int, help="the reading window to ship, if not the trained one")
    args = parser.parse_args()
    model = trained_model(args.carry, args.run)
    model.config.window = args.window or model.config.window
    model.save(args.output)
    (args.output / "LICENSE-multilingual-e5-small.txt").write_text(E5_LICENSE_NOTE)
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
