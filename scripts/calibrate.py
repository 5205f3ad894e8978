"""Calibrate the default model on held-out reviews that none of its members trained on, and save the result:
the ensemble's sentiment temperature and its encoder's score-interval mass.

The reviews: the title-disjoint held-out parts of every corpus except Kinopoisk's (the dev split, kept for the
model card).

- Temperature: one parameter, fitted by log-loss on the reviews with a sentiment. It never changes which class
  wins, so accuracies stay as they were; only the probabilities move.
- Interval mass: the smallest central mass of the encoder's 1..10 distribution whose interval holds the promised
  share (``interval``, 80 %) of the self-reported scores. It never changes the point score.

Prints log-loss, ECE and interval coverage before and after, and how the point score the model ships (the
distribution's median, a whole number) compares there with the mean, with a median interpolated inside its bin,
and with the median of the distribution sharpened or softened by a temperature.

Run: python scripts/calibrate.py [models/sentiscore-e5-lite] [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.metrics import log_loss as sklearn_log_loss

from sentiscore.data import CORPORA, load_rows
from sentiscore.ensemble import CONFIG_FILE, Ensemble, member_path, with_temperature
from sentiscore.evaluate import calibration, score_metrics, truth
from sentiscore.inference import TransformerScorer, infer_ids
from sentiscore.labels import SENTIMENTS
from sentiscore.model import CONFIG_FILE as MODEL_CONFIG_FILE
from sentiscore.model import SCORE_BINS, median_score, score_interval
from sentiscore.predict import load_model, prepare_batch

UNSEEN_BY_BOTH = [name for name in CORPORA if name != "kinopoisk"]
MASSES = np.round(np.arange(0.30, 0.96, 0.01), 2)
SCORE_TEMPERATURES = (0.5, 0.8, 1.25, 2.0)
"""Sharpened (below 1) or softened before its median is read: would a score distribution that is too spread,
or not spread enough, err less so?"""


def log_loss(true: np.ndarray, probabilities: np.ndarray) -> float:
    return float(sklearn_log_loss(true, probabilities, labels=range(len(SENTIMENTS))))


def fit_temperature(true: np.ndarray, probabilities: np.ndarray) -> float:
    fitted = minimize_scalar(lambda t: log_loss(true, with_temperature(probabilities, t)), bounds=(0.1, 10.0),
                             method="bounded").x
    for name, t in (("before", 1.0), ("after", fitted)):
        calibrated = with_temperature(probabilities, t)
        print(f"  {name}: temperature {t:.3f}, log-loss {log_loss(true, calibrated):.4f}, "
              f"ECE {calibration(true, calibrated)['ece']:.4f}")
    return round(float(fitted), 3)


def fit_interval_mass(true: np.ndarray, distributions: np.ndarray, target: float) -> float:
    point = median_score(distributions)

    def metrics(mass: float) -> dict:
        return score_metrics(true, point, np.stack(score_interval(distributions, mass), axis=1))

    fitted = next((m for m in MASSES if metrics(m)["interval_coverage"] >= target), target)
    for name, mass in (("before", target), ("after", fitted)):
        m = metrics(mass)
        print(f"  {name}: mass {mass:.2f}, coverage {m['interval_coverage']:.3f}, mean width {m['interval_width']:.2f}")
    return float(fitted)


def interpolated_median(distributions: np.ndarray) -> np.ndarray:
    """The median with each bin's probability spread evenly over [k - 0.5, k + 0.5]: sentiscore's point score
    before version 2.1, kept here for the comparison."""
    cumulative = np.cumsum(distributions, axis=-1)
    rows = np.arange(len(distributions))
    index = np.minimum((cumulative < 0.5).sum(-1), SCORE_BINS - 1)
    below = np.where(index > 0, cumulative[rows, np.maximum(index - 1, 0)], 0.0)
    return np.clip(index + 0.5 + (0.5 - below) / np.maximum(distributions[rows, index], 1e-9), 1.0, SCORE_BINS)


def compare_point_scores(true: np.ndarray, distributions: np.ndarray, domains: np.ndarray) -> None:
    points = {"mean": distributions @ np.arange(1, SCORE_BINS + 1), "interpolated median":
              interpolated_median(distributions), "median (shipped)": median_score(distributions)}
    for temperature in SCORE_TEMPERATURES:
        points[f"median at temperature {temperature}"] = median_score(with_temperature(distributions, temperature))
    for domain in ["all", *np.unique(domains)]:
        rows = np.ones(len(true), bool) if domain == "all" else domains == domain
        for name, point in points.items():
            m = score_metrics(true[rows], point[rows])
            print(f"  {domain} ({rows.sum():,}), {name}: MAE {m['mae']:.3f}, within ±1 {m['within_1']:.3f}, "
                  f"Spearman {m['spearman']:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ensemble", type=Path, nargs="?", default=Path("models/sentiscore-e5-lite"))
    parser.add_argument("--data-dir", default="../shared/data")
    args = parser.parse_args()
    ensemble = load_model(args.ensemble, "cpu")
    if not isinstance(ensemble, Ensemble) or not isinstance(ensemble.members[ensemble.score_from], TransformerScorer):
        raise SystemExit(f"{args.ensemble} is not an ensemble whose score comes from a transformer model")
    rows = load_rows(UNSEEN_BY_BOTH, args.data_dir, part="held_out")
    batch = prepare_batch(ensemble, [row["text"] for row in rows])
    rows = [rows[i] for i in batch.ready]
    probabilities, distributions = [], None
    for index, (member, prepared) in enumerate(zip(ensemble.members, batch.model_input)):
        if index == ensemble.score_from:
            sentiment, distributions = infer_ids(member.model, prepared, member.device, precision=member.precision)
        else:
            sentiment = member.run(prepared)[0]
        probabilities.append(sentiment)
    print(f"{len(rows):,} held-out reviews of {', '.join(UNSEEN_BY_BOTH)}")

    true_sentiment, true_score = truth(rows)
    labelled, scored = true_sentiment >= 0, ~np.isnan(true_score)
    print(f"sentiment, {labelled.sum():,} labelled reviews:")
    temperature = fit_temperature(true_sentiment[labelled], ensemble.average([p[labelled] for p in probabilities]))

    encoder = ensemble.members[ensemble.score_from].model
    print(f"score interval, {scored.sum():,} reviews with a self-reported score, "
          f"{encoder.config.interval:.0%} promised:")
    mass = fit_interval_mass(true_score[scored], distributions[scored], encoder.config.interval)
    print("point score, same reviews:")
    compare_point_scores(true_score[scored], distributions[scored], np.array([row["domain"] for row in rows])[scored])

    ensemble_config = args.ensemble / CONFIG_FILE
    config = json.loads(ensemble_config.read_text())
    config["temperature"] = temperature
    ensemble_config.write_text(json.dumps(config, indent=2) + "\n")
    encoder_folder = member_path(args.ensemble, config["members"][ensemble.score_from])
    encoder.config.interval_mass = mass
    encoder.config.save(encoder_folder / MODEL_CONFIG_FILE)
    print(f"saved the temperature into {ensemble_config} and the interval mass into {encoder_folder}")


if __name__ == "__main__":
    main()
