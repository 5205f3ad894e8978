"""What each corpus adds, measured on the lexical model (cheap enough for a CPU): the lite model trained on
growing sets of corpora, each evaluated on the dev split and on the held-out part of every domain.

The transformer's version of this needs a GPU (scripts/gpu_run.py runs it inside its time budget).

Run: PYTHONPATH=src python scripts/lite_corpus_ablation.py [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from sentiscore.data import CORPORA, dev_split, load_rows
from sentiscore.evaluate import evaluate_predictions
from sentiscore.lite import LiteModel
from sentiscore.predict import predict_batch

FILMS = ["kinopoisk", "kinopoisk_more", "kinopoisk_neutral"]
STEPS = {
    "films": FILMS,
    "+ books": [*FILMS, "livelib"],
    "+ banks": [*FILMS, "livelib", "otzovik"],
    "+ games, restaurants, apps": [*FILMS, "livelib", "otzovik", "steam", "sentirueval", "app_reviews"],
    "+ social (all)": list(CORPORA),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    train = load_rows(CORPORA, args.data_dir, part="train")
    held_out = load_rows([c for c in CORPORA if c != "kinopoisk"], args.data_dir, part="held_out")
    dev = list(dev_split(args.data_dir))
    domains = sorted({row["domain"] for row in held_out})
    print("| trained on | reviews | dev pos/neg | dev MAE | " + " | ".join(f"{d} pos/neg" for d in domains) + " |")
    print("|---" * (4 + len(domains)) + "|")
    for step, corpora in STEPS.items():
        rows = [row for row in train if row["source"] in corpora]
        started = time.perf_counter()
        model = LiteModel.fit([r["text"] for r in rows], [r["sentiment"] for r in rows], [r["score10"] for r in rows])
        seconds = time.perf_counter() - started
        on_dev = evaluate_predictions(dev, predict_batch([r["text"] for r in dev], model), bootstrap_rounds=0)
        on_held = evaluate_predictions(held_out, predict_batch([r["text"] for r in held_out], model),
                                       bootstrap_rounds=0)["by_domain"]
        cells = [f"{on_held[d].get('posneg_accuracy') or 0:.3f}" for d in domains]
        print(f"| {step} | {len(rows):,} ({seconds:.0f} s) | {on_dev['overall']['posneg_accuracy']:.3f} | "
              f"{on_dev['overall']['mae']:.3f} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
