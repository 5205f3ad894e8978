"""The Ray engine's driver: its CPU time per review while a job runs, with the input parsed by a thread of the
driver (as before) or by a process of its own (what ``score_file`` does when it starts Ray itself). On a cluster
the driver reads the input, sends every chunk to the actors and writes every result, so its time per review bounds
the job's rate however many actors there are.

Each way runs in a fresh process (Ray starts once per process), the rounds taking turns, on a local Ray cluster.
The driver's CPU time (all its threads, not its reader process) is counted from the first chunk's arrival at the
job to the end, so starting Ray is not in it. The actors' speed is not what is measured: the lexical model scores.

Run: python benchmarks/ray_driver.py [--reviews 12000] [--rounds 2] [--model sentiscore-lite] [--actors 1]
                                     [--chunk-rows 1000]
Reviews: as in benchmarks/throughput.py (the dev split, ``--texts``, or the bundled example), repeated as needed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from throughput import reviews

from sentiscore import batch

WAYS = ("thread", "process")


def one_run(way: str, texts: list[str], model: str, actors: int, chunk_rows: int) -> dict:
    if way == "thread":
        batch.can_fork = lambda: False
    scored_on_ray, started = batch.scored_on_ray, []

    def timed(chunks, *args, **kwargs):
        def marked():
            for chunk in chunks:
                if not started:  # Ray is up: the rest is the job
                    started.extend((time.process_time(), time.perf_counter()))
                yield chunk
        yield from scored_on_ray(marked(), *args, **kwargs)

    batch.scored_on_ray = timed
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "reviews.csv"
        pd.DataFrame({"text": texts}).to_csv(source, index=False)
        batch.score_file(source, Path(folder) / "scored.csv", model=model, engine="ray", actors=actors,
                         chunk_rows=chunk_rows, progress=False)
        cpu, wall = time.process_time() - started[0], time.perf_counter() - started[1]
    rows = len(texts) - chunk_rows
    return {"way": way, "cpu_us": cpu / rows * 1e6, "reviews_per_s": rows / wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=12_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--model", default="sentiscore-lite")
    parser.add_argument("--actors", type=int, default=1)
    parser.add_argument("--chunk-rows", type=int, default=1_000)
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--texts", type=Path, help="a CSV or Parquet file with a text column to read instead")
    parser.add_argument("--one", choices=WAYS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        texts = reviews(args.reviews, args.data_dir, args.texts)
        print(json.dumps(one_run(args.one, texts, args.model, args.actors, args.chunk_rows)))
        return
    print(f"{args.reviews:,} reviews, chunks of {args.chunk_rows:,}, {args.actors} actor(s) of {args.model}; "
          "the driver's CPU time per review, once Ray is up")
    for round_ in range(1, args.rounds + 1):
        for way in WAYS:
            command = [sys.executable, __file__, "--one", way, *sys.argv[1:]]
            result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout
                                .strip().splitlines()[-1])
            print(f"  round {round_}, input parsed by a {way:<7}: driver {result['cpu_us']:6.1f} µs per review, "
                  f"{result['reviews_per_s']:,.0f} reviews/s", flush=True)


if __name__ == "__main__":
    main()
