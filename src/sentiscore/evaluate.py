"""Metrics of predictions against known labels and self-reported scores, with bootstrap intervals."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .labels import SCORE_MAX, SCORE_MIN, SENTIMENTS

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
    reliability = calibration(true, probabilities)
    return {
        "n_sentiment": int(len(true)),
        "accuracy": float((predicted == true).mean()),
        "macro_f1": float(f1_score(true, predicted, labels=[c for c in labels if support[c]], average="macro",
                                   zero_division=0)),
        "posneg_accuracy": float((polar_predicted[polar] == true[polar]).mean()) if polar.any() else None,
        "per_class": {label: {"precision": float(precision[c]), "recall": float(recall[c]),
                              "support": int(support[c])} for c, label in enumerate(SENTIMENTS)},
        "confusion": confusion_matrix(true, predicted, labels=labels).tolist(),
        "ece": reliability["ece"],
        "reliability": reliability["bins"],
    }


def calibration(true: np.ndarray, probabilities: np.ndarray, bins: int = 10) -> dict:
    """How far the top class's probability is from how often the top class is right: per equal-width bin of that
    probability its mean, the accuracy and the count, and the expected calibration error (ECE), the count-weighted
    mean gap between the two."""
    true = np.asarray(true, dtype=int)
    confidence = probabilities.max(1)
    correct = probabilities.argmax(1) == true
    index = np.minimum((confidence * bins).astype(int), bins - 1)
    table, ece = [], 0.0
    for b in np.unique(index):
        inside = index == b
        mean_confidence, accuracy = float(confidence[inside].mean()), float(correct[inside].mean())
        table.append({"low": b / bins, "high": (b + 1) / bins, "confidence": mean_confidence,
                      "accuracy": accuracy, "count": int(inside.sum())})
        ece += inside.mean() * abs(accuracy - mean_confidence)
    return {"ece": float(ece), "bins": table}


def spearman(true: np.ndarray, predicted: np.ndarray) -> float:
    """Spearman's rank correlation; NaN, without scipy's warning, where one side is constant (a small file, a
    bootstrap resample) and it is undefined."""
    from scipy.stats import spearmanr

    if np.ptp(true) == 0 or np.ptp(predicted) == 0:
        return float("nan")
    return float(spearmanr(true, predicted).statistic)


def score_metrics(true: np.ndarray, predicted: np.ndarray, intervals: np.ndarray | None = None) -> dict:
    """MAE, RMSE, share within ±1, Spearman and quadratic weighted kappa, over the rows with a true score; with
    predicted intervals [n, 2], also the share of true scores inside them and their mean width."""
    from sklearn.metrics import cohen_kappa_score

    true, predicted = np.asarray(true, dtype=float), np.asarray(predicted, dtype=float)
    known = ~np.isnan(true) & ~np.isnan(predicted)
    true, predicted = true[known], predicted[known]
    if len(true) < 2:
        return {"n_score": int(len(true))}
    error = predicted - true
    coverage = {}
    if intervals is not None and not np.isnan(intervals[known]).any():
        low, high = np.asarray(intervals, dtype=float)[known].T
        coverage = {"interval_coverage": float(((low <= true) & (true <= high)).mean()),
                    "interval_width": float((high - low).mean())}
    return {**coverage,
        "n_score": int(len(true)),
        "mae": float(np.abs(error).mean()),
        "rmse": float(np.sqrt((error**2).mean())),
        "within_1": float((np.abs(error) <= 1.0).mean()),
        "spearman": spearman(true, predicted),
        "qwk": float(cohen_kappa_score(np.rint(true).astype(int),
                                       np.clip(np.rint(predicted), SCORE_MIN, SCORE_MAX).astype(int),
                                       weights="quadratic")),
    }


def bootstrap(metric: Callable[[np.ndarray], float], n: int, rounds: int = 1000, seed: int = 0,
              level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of ``metric(indices)`` over ``n`` rows resampled with replacement."""
    rng = np.random.default_rng(seed)
    values = np.array([metric(rng.integers(0, n, n)) for _ in range(rounds)], dtype=float)
    values = values[~np.isnan(values)]
    if not len(values):
        return float("nan"), float("nan")
    tail = (1 - level) / 2 * 100
    return float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))


def truth(rows: Sequence[dict]) -> tuple[np.ndarray, np.ndarray]:
    """What rows of the corpus schema say: each one's sentiment as an index into ``SENTIMENTS`` (-1 where it has
    none) and its self-reported 1–10 score (NaN where it has none)."""
    sentiments = np.array([SENTIMENTS.index(r["sentiment"]) if r.get("sentiment") else -1 for r in rows], dtype=int)
    scores = np.array([np.nan if r.get("score10") is None else float(r["score10"]) for r in rows], dtype=float)
    return sentiments, scores


def evaluate_predictions(rows: list[dict], predictions: list, *, bootstrap_rounds: int = 1000) -> dict:
    """Metrics of Predictions against rows of the corpus schema: overall with bootstrap 95 % intervals (none when
    ``bootstrap_rounds`` is 0), and by domain, and the worst errors. Rows the model could not score count as
    errors for sentiment and are left out of score metrics."""
    true_sentiment, true_score = truth(rows)
    probabilities = np.array([[p.probabilities.get(s, 0.0) for s in SENTIMENTS] if p.ok else [np.nan] * 3
                              for p in predictions], dtype=float)
    scores = np.array([p.score if p.ok else np.nan for p in predictions], dtype=float)
    intervals = np.array([p.score_interval if p.ok and p.score_interval else (np.nan, np.nan)
                          for p in predictions], dtype=float).reshape(-1, 2)
    domains = np.array([r.get("domain", "unknown") for r in rows])

    def metrics_of(mask: np.ndarray) -> dict:
        labelled = mask & (true_sentiment >= 0)
        return {**sentiment_metrics(true_sentiment[labelled], np.nan_to_num(probabilities[labelled])),
                **score_metrics(true_score[mask], scores[mask], intervals[mask])}

    everything = np.ones(len(rows), dtype=bool)
    report = {"n": len(rows), "unscored": int(sum(not p.ok for p in predictions)), "overall": metrics_of(everything),
              "by_domain": {d: metrics_of(domains == d) for d in sorted(set(domains.tolist()))}}
    if bootstrap_rounds:
        report["intervals_95"] = _bootstrap_intervals(true_sentiment, probabilities, true_score, scores,
                                                      bootstrap_rounds)
    report["worst_errors"] = worst_errors(rows, predictions)
    return report


def worst_errors(rows: list[dict], predictions: list, count: int = 10, width: int = 220) -> list[dict]:
    """Up to ``count`` reviews whose predicted score is furthest from the self-reported one, more than 1 away
    (rows without a score: the most confident wrong sentiments after them), texts shortened to ``width``."""
    def miss(row: dict, prediction) -> float:
        if not prediction.ok:
            return 0.0
        if row.get("score10") is not None:
            error = abs(prediction.score - row["score10"])
            return error if error > 1.0 else 0.0
        if row.get("sentiment") and row["sentiment"] != prediction.sentiment:
            return prediction.probabilities[prediction.sentiment]
        return 0.0

    misses = [miss(r, p) for r, p in zip(rows, predictions)]
    order = [i for i in np.argsort(misses, kind="stable")[::-1][:count] if misses[i] > 0.0]
    return [{"text": shorten(rows[i].get("text", ""), width), "domain": rows[i].get("domain", "unknown"),
             "sentiment": rows[i].get("sentiment"), "predicted_sentiment": predictions[i].sentiment,
             "score10": rows[i].get("score10"), "predicted_score": round(predictions[i].score, 2)} for i in order]


def shorten(text: str, width: int) -> str:
    """``text`` on one line, cut at a word boundary to at most ``width`` characters."""
    line = " ".join(str(text).split())
    if len(line) <= width:
        return line
    return line[: width - 1].rsplit(" ", 1)[0] + "…"


def _bootstrap_intervals(true_sentiment, probabilities, true_score, scores, rounds: int) -> dict:
    polar = np.flatnonzero(true_sentiment >= 0)
    polar = polar[true_sentiment[polar] != NEUTRAL]
    scored = np.flatnonzero(~np.isnan(true_score) & ~np.isnan(scores))
    intervals = {}
    if len(polar):
        correct = np.where(probabilities[polar, POSITIVE] > probabilities[polar, NEGATIVE], POSITIVE,
                           NEGATIVE) == true_sentiment[polar]
        intervals["posneg_accuracy"] = bootstrap(lambda i: correct[i].mean(), len(polar), rounds)
    if len(scored) > 1:
        error = np.abs(scores[scored] - true_score[scored])
        intervals["mae"] = bootstrap(lambda i: error[i].mean(), len(scored), rounds)
        intervals["within_1"] = bootstrap(lambda i: (error[i] <= 1).mean(), len(scored), rounds)
        t, p = true_score[scored], scores[scored]
        intervals["spearman"] = bootstrap(lambda i: spearman(t[i], p[i]), len(scored), min(rounds, 300))
    return intervals


HEADLINE = (("posneg_accuracy", "pos/neg accuracy"), ("accuracy", "3-way accuracy"), ("macro_f1", "macro-F1"),
            ("ece", "ECE"), ("mae", "score MAE"), ("within_1", "within ±1"), ("spearman", "Spearman"),
            ("qwk", "QWK"), ("interval_coverage", "interval coverage"))
