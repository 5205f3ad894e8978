"""The evaluation report's plots, each drawn on a matplotlib axis so that notebooks can lay them side by side."""

from __future__ import annotations

import io

import numpy as np

from .labels import SENTIMENTS


def score_pairs(rows: list[dict], predictions: list) -> tuple[np.ndarray, np.ndarray]:
    """Self-reported and predicted scores of the rows that have both."""
    pairs = [(r["score10"], p.score) for r, p in zip(rows, predictions) if r.get("score10") is not None and p.ok]
    true, predicted = np.array(pairs, dtype=float).reshape(-1, 2).T
    return true, predicted


def draw_confusion(axis, confusion: list[list[int]]) -> None:
    """Counts of true (rows) against predicted (columns) sentiment."""
    image = axis.imshow(confusion, cmap="Blues")
    for i, row in enumerate(confusion):
        for j, value in enumerate(row):
            axis.text(j, i, str(value), ha="center", va="center",
                      color="white" if value > max(map(max, confusion)) / 2 else "black")
    axis.set_xticks(range(3), SENTIMENTS)
    axis.set_yticks(range(3), SENTIMENTS)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    axis.figure.colorbar(image, ax=axis, shrink=0.8)


def draw_scores(axis, true: np.ndarray, predicted: np.ndarray) -> None:
    """How many reviews got each predicted score for each self-reported one, both rounded to whole scores: a cell
    per pair, its colour on a log scale (hundreds of tens beside single reviews), its count written in it."""
    from matplotlib.colors import LogNorm

    edges = np.arange(0.5, 11.0)
    counts = np.histogram2d(np.clip(predicted, 1, 10), np.clip(true, 1, 10), bins=[edges, edges])[0]
    axis.imshow(np.ma.masked_equal(counts, 0), origin="lower", extent=(0.5, 10.5, 0.5, 10.5), cmap="Blues",
                norm=LogNorm(vmin=1, vmax=max(counts.max(), 2)))
    for (row, column), count in np.ndenumerate(counts):
        if count:
            axis.text(column + 1, row + 1, f"{count:.0f}", ha="center", va="center", fontsize=6,
                      color="white" if count > counts.max() ** 0.7 else "black")
    axis.plot([0.5, 10.5], [0.5, 10.5], color="grey", linewidth=0.8)
    axis.set_xticks(range(1, 11))
    axis.set_yticks(range(1, 11))
    axis.set_xlabel("self-reported score")
    axis.set_ylabel("predicted score")


def draw_errors(axis, error: np.ndarray, **style) -> None:
    """Histogram of predicted minus self-reported scores in half-point bins."""
    axis.hist(error, bins=np.arange(-9.25, 9.5, 0.5), **{"color": "tab:blue", **style})
    axis.axvline(0, color="grey", linewidth=1)
    axis.set_xlabel("predicted − self-reported score")
    axis.set_ylabel("reviews")


def draw_reliability(axis, bins: list[dict], ece: float) -> None:
    """Reliability diagram: per bin of the predicted sentiment's probability, the share predicted right."""
    confidence, accuracy = [b["confidence"] for b in bins], [b["accuracy"] for b in bins]
    axis.bar([(b["low"] + b["high"]) / 2 for b in bins], accuracy, width=[b["high"] - b["low"] for b in bins],
             edgecolor="white", color="tab:blue", alpha=0.6, label="share right, per bin")
    axis.plot([0, 1], [0, 1], color="grey", linewidth=1, label="perfect calibration")
    axis.plot(confidence, accuracy, "o-", color="black", markersize=3, label="at the bin's mean probability")
    axis.set_xlabel("probability of the predicted sentiment")
    axis.set_ylabel("share predicted right")
    axis.set_xlim(0.3, 1)
    axis.set_ylim(0, 1)
    axis.set_title(f"ECE {ece:.3f}")
    axis.legend(loc="upper left", fontsize=8)


def plot_images(report: dict, rows: list[dict], predictions: list) -> dict[str, bytes]:
    """PNG images by file name: the confusion matrix, predicted against self-reported scores, the distribution of
    score errors and the reliability diagram of the sentiment probabilities."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    overall = report["overall"]
    true, predicted = score_pairs(rows, predictions)
    drawings = {
        "confusion.png": ((4.2, 3.6), lambda axis: draw_confusion(axis, overall["confusion"]),
                          bool(overall.get("confusion"))),
        "scores.png": ((4.6, 4.2), lambda axis: draw_scores(axis, true, predicted), len(true) > 0),
        "errors.png": ((4.6, 3.6), lambda axis: draw_errors(axis, predicted - true), len(true) > 0),
        "reliability.png": ((4.6, 4.2), lambda axis: draw_reliability(axis, overall["reliability"], overall["ece"]),
                            bool(overall.get("reliability"))),
    }
    images = {}
    for name, (size, draw, wanted) in drawings.items():
        if wanted:
            figure, axis = plt.subplots(figsize=size)
            draw(axis)
            figure.tight_layout()
            images[name] = _png(figure)
            plt.close(figure)
    return images


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()
