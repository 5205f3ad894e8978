"""The label set shared by every model and report."""

from __future__ import annotations

SENTIMENTS = ("negative", "neutral", "positive")
SCORE_MIN, SCORE_MAX = 1.0, 10.0
"""The score scale: every corpus's and site's rating is mapped onto it."""


def clamp_score(value: float) -> float:
    """A score held to the scale: a 0 is the lowest mark, anything over the top the highest."""
    return min(SCORE_MAX, max(SCORE_MIN, float(value)))


def sentiment_from_mark(mark: float) -> str:
    """Sentiment told by a 1–5 mark: 1–2 negative, 3 neutral, 4–5 positive."""
    if mark < 2.75:
        return "negative"
    if mark < 3.75:
        return "neutral"
    return "positive"


_SENTIMENT_NAMES = {
    "negative": ("negative", "neg", "bad", "отрицательный", "отрицательная", "негативный", "негативная", "негатив"),
    "neutral": ("neutral", "neu", "нейтральный", "нейтральная", "нейтрально"),
    "positive": ("positive", "pos", "good", "положительный", "положительная", "позитивный", "позитивная", "позитив"),
}
_SENTIMENT_OF_NAME = {name: sentiment for sentiment, names in _SENTIMENT_NAMES.items() for name in names}


def sentiment_of_label(label: object) -> str:
    """A sentiment as files name it ("good", "Отрицательный", "NEG"). Numbers are refused: 0 means negative on
    a 0/1 scale and neutral on a -1/0/1 one."""
    sentiment = _SENTIMENT_OF_NAME.get(str(label).strip().lower())
    if sentiment is None:
        raise ValueError(f"unknown sentiment label {label!r}: use one of {sorted(_SENTIMENT_OF_NAME)}")
    return sentiment
