"""Fit the temperature of a saved ensemble on held-out reviews that neither member trained on, and save it.

The reviews: the title-disjoint held-out parts of every corpus except Kinopoisk's (the dev split, kept for the
model card) and LiveLib's (the shipped encoder was trained before LiveLib's held-out part existed). One parameter
is fitted, by log-loss, so it never changes which class wins: accuracies stay as they were, only the probabilities
move. Prints log-loss and ECE before and after.

Run: python scripts/calibrate_ensemble.py [models/sentiscore-e5-lite] [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy.optimize import minimize_scalar

from sentiscore.data import CORPORA, load_rows
from sentiscore.ensemble import CONFIG_FILE, Ensemble, with_temperature
from sentiscore.evaluate import calibration
from sentiscore.labels import SENTIMENTS
from sentiscore.predict import load_model, prepare_batch

UNSEEN_BY_BOTH = [name for name in CORPORA if name not in ("kinopoisk", "livelib")]


def log_loss(true: np.ndarray, probabilities: np.ndarray) -> float:
    return float(-np.log(np.clip(probabilities[np.arange(len(true)), true], 1e-12, 1.0)).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ensemble", type=Path, nargs="?", default=Path("models/sentiscore-e5-lite"))
    parser.add_argument("--data-dir", default="../shared/data")
    args = parser.parse_args()
    rows = [row for row in load_rows(UNSEEN_BY_BOTH, args.data_dir, part="held_out") if row["sentiment"]]
    ensemble = load_model(args.ensemble, "cpu")
    if not isinstance(ensemble, Ensemble):
        raise SystemExit(f"{args.ensemble} is not an ensemble")
    batch = prepare_batch(ensemble, [row["text"] for row in rows])
    members = [member.run(part)[0] for member, part in zip(ensemble.members, batch.model_input)]
    true = np.array([SENTIMENTS.index(row["sentiment"]) for row in rows])[batch.ready]
    ensemble.temperature = 1.0
    before = ensemble.combine(members)
    fitted = minimize_scalar(lambda t: log_loss(true, with_temperature(before, t)), bounds=(0.1, 10.0),
                             method="bounded").x
    after = with_temperature(before, fitted)
    print(f"{len(true):,} held-out reviews of {', '.join(UNSEEN_BY_BOTH)}")
    print(f"temperature 1.000: log-loss {log_loss(true, before):.4f}, ECE {calibration(true, before)['ece']:.4f}")
    print(f"temperature {fitted:.3f}: log-loss {log_loss(true, after):.4f}, ECE {calibration(true, after)['ece']:.4f}")
    config_path = args.ensemble / CONFIG_FILE
    config = json.loads(config_path.read_text())
    config["temperature"] = round(float(fitted), 3)
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    print(f"saved into {config_path}")


if __name__ == "__main__":
    main()
