"""Peak memory of scoring a large CSV: `sentiscore score` (streamed in chunks) against the plain way
(pandas reads the whole file, then predict_batch over every row), each in its own process.

Run: python benchmarks/memory.py [--rows 1000000] [--model sentiscore-lite] [--skip-plain]
The CSV holds real-looking Russian reviews built from the test fixtures' sentences (~120 characters a row).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

PLAIN = """
import sys, pandas as pd
from sentiscore import predict_batch
frame = pd.read_csv(sys.argv[1], dtype=str)
predictions = predict_batch(frame["text"].tolist(), sys.argv[2])
frame["sentiment"] = [p.sentiment for p in predictions]
frame["score"] = [p.score for p in predictions]
frame.to_csv(sys.argv[3], index=False)
"""


def write_reviews(path: Path, rows: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.test_batch import reviews_frame

    block = reviews_frame(10_000)
    with path.open("w", encoding="utf-8") as out:
        for start in range(0, rows, len(block)):
            part = block.iloc[: min(len(block), rows - start)].copy()
            part["review_id"] = [f"r{start + i:08d}" for i in range(len(part))]
            part.to_csv(out, index=False, header=start == 0)


def measure(command: list[str]) -> tuple[float, float]:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    return seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--model", default="sentiscore-lite")
    parser.add_argument("--skip-plain", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "reviews.csv"
        write_reviews(source, args.rows)
        print(f"{args.rows:,} rows, {source.stat().st_size / 1e6:,.0f} MB of CSV, model {args.model}")
        seconds, peak = measure([sys.executable, "-m", "sentiscore.cli", "score", str(source), "-o",
                                 str(Path(folder) / "streamed.csv"), "--model", args.model, "--quiet"])
        written = sum(len(chunk) for chunk in pd.read_csv(Path(folder) / "streamed.csv", usecols=["status"],
                                                          chunksize=100_000, dtype=str))
        print(f"  sentiscore score: peak RSS {peak:7,.0f} MB, {seconds:6.0f} s, {args.rows / seconds:8,.0f} rows/s, "
              f"{written:,} rows written")
        if not args.skip_plain:
            # RUSAGE_CHILDREN keeps the largest child so far: the plain run is measured after the streamed one.
            seconds, peak = measure([sys.executable, "-c", PLAIN, str(source), args.model,
                                     str(Path(folder) / "plain.csv")])
            print(f"  read all + predict_batch: peak RSS {peak:7,.0f} MB, {seconds:6.0f} s")


if __name__ == "__main__":
    main()
