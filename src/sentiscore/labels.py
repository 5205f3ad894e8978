"""The label set shared by every model and report."""

from __future__ import annotations

SENTIMENTS = ("negative", "neutral", "positive")
SCORE_MIN, SCORE_MAX = 1.0, 10.0


def sentiment_from_mark(mark: float) -> str:
    """Sentiment told by a 1–5 mark: 1–2 negative, 3 neutral, 4–5 positive."""
    if mark < 2.75:
        return "negative"
    if mark < 3.75:
        return "neutral"
    return "positive"
