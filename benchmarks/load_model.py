"""Start-up cost of the default model: seconds to load and resident memory once loaded, in a fresh process.

Run: python benchmarks/load_model.py [--model sentiscore-e5-ru]
"""

from __future__ import annotations

import argparse
import resource
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    started = time.perf_counter()
    import torch  # noqa: F401  (the import is part of what a user waits for)

    imported = time.perf_counter()
    from sentiscore import load_model, predict

    scorer = load_model(args.model, "cpu")
    loaded = time.perf_counter()
    predict("Отличный фильм, пересмотрю ещё не раз", scorer)
    first = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"model {scorer.name} {scorer.version}")
    print(f"import torch: {imported - started:.2f} s; load model: {loaded - imported:.2f} s; "
          f"first prediction: {first - loaded:.2f} s")
    print(f"peak resident memory: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
