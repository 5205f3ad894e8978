"""Peak memory of scoring a large CSV: `sentiscore score` (streamed in chunks) against the plain way
(pandas reads the whole file, then predict_batch over every row), each in its own process.

Run: python benchmarks/memory.py [--rows 1000000] [--model sentiscore-lite] [--skip-plain] [--mixed-json]
                                 [--to csv|parquet]
The CSV holds real-looking Russian reviews built from the test fixtures' sentences (~120 characters a row).
``--mixed-json`` writes the same rows as JSON lines whose ``price`` is a number in two rows of three and text in
the third, a field Arrow cannot type (scored by `sentiscore score` only); ``--to`` sets the output's format.
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


def write_reviews(path: Path, rows: int, mixed_json: bool = False) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.test_batch import reviews_frame

    block = reviews_frame(10_000)
    with path.open("w", encoding="utf-8") as out:
        for start in range(0, rows, len(block)):
            part = block.iloc[: min(len(block), rows - start)].copy()
            part["review_id"] = [f"r{start + i:08d}" for i in range(len(part))]
            if mixed_json:
                part["price"] = [i if i % 3 else "договорная" for i in range(start, start + len(part))]
                part.to_json(out, orient="records", lines=True, force_ascii=False)
            else:
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
    parser.add_argument("--mixed-json", action="store_true")
    parser.add_argument("--to", choices=["csv", "parquet"], default="csv")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / ("reviews.jsonl" if args.mixed_json else "reviews.csv")
        write_reviews(source, args.rows, args.mixed_json)
        print(f"{args.rows:,} rows, {source.stat().st_size / 1e6:,.0f} MB of {source.suffix[1:].upper()}, "
              f"to {args.to.upper()}, model {args.model}")
        output = Path(folder) / f"streamed.{args.to}"
        seconds, peak = measure([sys.executable, "-m", "sentiscore.cli", "score", str(source), "-o", str(output),
                                 "--model", args.model, "--quiet"])
        written = len(pd.read_parquet(output, columns=["status"])) if args.to == "parquet" else sum(
            len(chunk) for chunk in pd.read_csv(output, usecols=["status"], chunksize=100_000, dtype=str))
        print(f"  sentiscore score: peak RSS {peak:7,.0f} MB, {seconds:6.0f} s, {args.rows / seconds:8,.0f} rows/s, "
              f"{written:,} rows written")
        if not (args.skip_plain or args.mixed_json):
            # RUSAGE_CHILDREN keeps the largest child so far: the plain run is measured after the streamed one.
            seconds, peak = measure([sys.executable, "-c", PLAIN, str(source), args.model,
                                     str(Path(folder) / "plain.csv")])
            print(f"  read all + predict_batch: peak RSS {peak:7,.0f} MB, {seconds:6.0f} s")


if __name__ == "__main__":
    main()
