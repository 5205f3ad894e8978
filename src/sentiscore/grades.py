"""Self-reported scores: find the rating a reviewer wrote into a review ("8 из 10") and strip it.

A rating counts only where it reads as a verdict: either after a verdict word ("Оценка: 8", "ставлю 9/10")
or alone at the end of a line ("...\n\n7 из 10"). That keeps "в 9 из 10 случаев", "1/2 фильма", dates and
fractions in prose out. When a review holds several ratings, the last one is the final verdict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .labels import SCORE_MAX, clamp_score

SCALES = (5, 10, 100)

_NUMBER = r"(?P<value>\d{1,3}(?:[.,]\d{1,2})?)"
_SCALE = r"(?:\s*(?:балл(?:ов|а)?\s*)?(?:из|/)\s*(?P<scale>\d{1,3})(?![\d/.,]\d))"
_KEYWORD = (
    r"(?:(?:мо[яй]|итогов(?:ая|ый)|общ(?:ая|ий))\s+)?"
    r"(?:оценк[аиу]|оцениваю(?:\s+(?:фильм|книгу|его|её|ее))?(?:\s+на)?|ставлю|рейтинг|вердикт|итог(?:о)?)"
)
_TAIL = r"(?=[ \t\u00a0]*[.!)»\"'…]*[ \t\u00a0]*(?:\n|$))"

# A verdict word, then a number with an optional scale: the text after it does not matter. A number not followed
# by its scale must not run on into more digits ("Оценка 12.05.2020" is a date).
_KEYWORD_RATING = re.compile(
    rf"(?<!\w){_KEYWORD}\s*[:\-—–=]?\s*(?:-\s*)?{_NUMBER}(?:{_SCALE}|(?![\d/.,]\d))(?:\s*балл(?:ов|а)?)?(?!\w)",
    re.IGNORECASE,
)
# A bare "N из M" / "N/M" ending its line, opening a line before a pause ("3 из 10, и те за зрелищность"),
# or in brackets ("(5 из 10)").
_BARE_RATINGS = (
    re.compile(rf"(?<![\w/.,])(?<!\bв\s)(?<!\bВ\s){_NUMBER}{_SCALE}{_TAIL}"),
    re.compile(rf"(?:^|(?<=\n))[ \t\u00a0]*{_NUMBER}{_SCALE}(?=[ \t\u00a0]*[,.!;:(–—-])"),
    re.compile(rf"(?<=\()\s*{_NUMBER}{_SCALE}\s*(?=\))"),
)
_STARS = re.compile(r"(?P<full>★+)(?P<empty>☆*)")


@dataclass(frozen=True)
class Score:
    """A rating found in a text: its value on its own scale, and where it stands."""

    value: float
    scale: int
    start: int
    end: int

    @property
    def score10(self) -> float:
        """The rating on the 1–10 scale (a 0 is taken as the lowest mark, 1; "12 из 10" as the highest, 10)."""
        return clamp_score(self.value * SCORE_MAX / self.scale)

    @property
    def span(self) -> tuple[int, int]:
        return self.start, self.end


def _candidates(text: str) -> list[Score]:
    found: list[Score] = []
    for pattern in (_KEYWORD_RATING, *_BARE_RATINGS):
        for match in pattern.finditer(text):
            value = float(match.group("value").replace(",", "."))
            scale = int(match.group("scale")) if match.group("scale") else 10
            # Over the top of a written scale of 10 ("12/10", "11 из 10") is the top mark, overstated; over an
            # unwritten scale ("Рейтинг 16+": an age limit) or another one ("15/05": a date) is no verdict
            if scale not in SCALES or (value > scale and match.group("scale") != "10"):
                continue
            found.append(Score(value, scale, match.start(), match.end()))
    for match in _STARS.finditer(text):
        full, empty = len(match.group("full")), len(match.group("empty"))
        scale = full + empty if empty else 5
        if scale in SCALES and full <= scale:
            found.append(Score(float(full), scale, match.start(), match.end()))
    return _drop_overlaps(found)


def _drop_overlaps(scores: list[Score]) -> list[Score]:
    """Keep the widest of overlapping matches (a keyword match covers the bare one inside it)."""
    kept: list[Score] = []
    for score in sorted(scores, key=lambda s: (s.start, -(s.end - s.start))):
        if kept and score.start < kept[-1].end:
            continue
        kept.append(score)
    return kept


def find_scores(text: str) -> list[Score]:
    """Every rating in the text, in order of appearance."""
    if not isinstance(text, str):
        return []
    return _candidates(text)


def extract_score(text: str) -> Score | None:
    """The reviewer's final verdict, or None when the text holds no rating."""
    scores = find_scores(text)
    return scores[-1] if scores else None


def strip_score(text: str) -> str:
    """The text with every rating removed, so that a model never reads the answer; nothing else changes."""
    if not isinstance(text, str):
        return text
    pieces, last = [], 0
    for score in find_scores(text):
        pieces.append(text[last : score.start])
        last = score.end
    pieces.append(text[last:])
    return "".join(pieces)
