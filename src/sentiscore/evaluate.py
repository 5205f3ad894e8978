"""Metrics of predictions against known labels and self-reported scores, with bootstrap intervals and reports."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .labels import SENTIMENTS

NEGATIVE, NEUTRAL, POSITIVE = (SENTIMENTS.index(s) for s in ("negative", "neutral", "positive"))


def sentiment_metrics(true: np.ndarray, probabilities: np.ndarray) -> dict:
    """Accuracy, macro-F1, per-class precision/recall and the confusion matrix over three classes, and the
    positive-vs-negative accuracy: on reviews labelled positive or negative, is P(pos) above P(neg)?"""
    from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

    true = np.asarray(true, dtype=int)
    if len(true) == 0:
        return {"n_sentiment": 0}
    predicted = probabilities.argmax(1)
    labels = list(range(len(SENTIMENTS)))
    precision, recall, _, support = precision_recall_fscore_support(true, predicted, labels=labels,
                                                                    zero_division=0)
    polar = true != NEUTRAL
    polar_predicted = np.where(probabilities[:, POSITIVE] > probabilities[:, NEGATIVE], POSITIVE, NEGATIVE)
    return {
        "n_sentiment": int(len(true)),
        "accuracy": float((predicted == true).mean()),
        "macro_f1": float(f1_score(true, predicted, labels=[c for c in labels if support[c]], average="macro",
                                   zero_division=0)),
        "posneg_accuracy": float((polar_predicted[polar] == true[polar]).mean()) if polar.any() else None,
        "per_class": {label: {"precision": float(precision[c]), "recall": float(recall[c]),
                              "support": int(support[c])} for c, label in enumerate(SENTIMENTS)},
        "confusion": confusion_matrix(true, predicted, labels=labels).tolist(),
    }


def score_metrics(true: np.ndarray, predicted: np.ndarray) -> dict:
    """MAE, RMSE, share within ±1, Spearman and quadratic weighted kappa, over the rows with a true score."""
    from scipy.stats import spearmanr
    from sklearn.metrics import cohen_kappa_score

    true, predicted = np.asarray(true, dtype=float), np.asarray(predicted, dtype=float)
    known = ~np.isnan(true) & ~np.isnan(predicted)
    true, predicted = true[known], predicted[known]
    if len(true) < 2:
        return {"n_score": int(len(true))}
    error = predicted - true
    return {
        "n_score": int(len(true)),
        "mae": float(np.abs(error).mean()),
        "rmse": float(np.sqrt((error**2).mean())),
        "within_1": float((np.abs(error) <= 1.0).mean()),
        "spearman": float(spearmanr(true, predicted).statistic),
        "qwk": float(cohen_kappa_score(np.rint(true).astype(int), np.clip(np.rint(predicted), 1, 10).astype(int),
                                       weights="quadratic")),
    }


def bootstrap(metric: Callable[[np.ndarray], float], n: int, rounds: int = 1000, seed: int = 0,
              level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of ``metric(indices)`` over ``n`` rows resampled with replacement."""
    rng = np.random.default_rng(seed)
    values = np.array([metric(rng.integers(0, n, n)) for _ in range(rounds)], dtype=float)
    values = values[~np.isnan(values)]
    tail = (1 - level) / 2 * 100
    return float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))
