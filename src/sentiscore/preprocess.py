"""Text preparation: normalisation of scraped text, input checks, word tokenisation and lemmatisation."""

from __future__ import annotations

import html
import math
import re
import unicodedata
from functools import lru_cache

MAX_CHARS = 100_000
"""Longer texts are flagged ``too_long`` and read up to this many characters."""

STATUS_OK = "ok"
STATUS_EMPTY = "empty"
STATUS_NOT_TEXT = "not_text"
STATUS_NOT_RUSSIAN = "not_russian"
STATUS_TOO_LONG = "too_long"
STATUS_DECODE_ERROR = "decode_error"
SCORABLE = frozenset({STATUS_OK, STATUS_TOO_LONG})

_TAG = re.compile(r"<(?:/?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?|!--.*?--)>", re.DOTALL)
_BREAK_TAG = re.compile(r"<\s*(?:br|/p|/div|/li|/h\d)\s*/?>", re.IGNORECASE)
# Excel's escaped carriage return, left in texts that went through a spreadsheet.
_EXCEL_CR = re.compile(r"_x000[dD]_")
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
# Runs of horizontal white space other than one plain space: matching every single space between words would
# be work for nothing.
_ODD_SPACE = re.compile(r" [^\S\n]+|[^\S\n ][^\S\n]*")
_NEWLINE_AND_SPACE = re.compile(r"\n\s*")
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*|\d+(?:[.,]\d+)?", re.UNICODE)
# Counted by runs, not one by one: findall of single letters builds a string per letter.
_CYRILLIC_RUN = re.compile(r"[а-яёА-ЯЁ]+")
_LETTER_RUN = re.compile(r"[^\W\d_]+")
# Unicode categories Cc (minus tab, newline, carriage return), Cs and Co.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ue000-\uf8ff"
                      "\U000f0000-\U000ffffd\U00100000-\U0010fffd]")
# Latin-1 letters that cp1251 or UTF-8 bytes turn into when decoded with the wrong code page.
_MOJIBAKE = re.compile(r"[\u00c0-\u00ff]|Ð|Ñ")


def normalize(text: str) -> str:
    """Unicode NFC, HTML entities and tags gone, invisible characters dropped, spaces collapsed."""
    text = _EXCEL_CR.sub("", text)
    if "<" in text:
        text = _BREAK_TAG.sub("\n", text)
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    text = _INVISIBLE.sub("", unicodedata.normalize("NFC", text))
    text = _ODD_SPACE.sub(" ", text).replace(" \n", "\n")
    return _NEWLINE_AND_SPACE.sub("\n", text).strip()


def check_text(value: object) -> str:
    """Why a value cannot be scored, or ``ok``: one of the ``STATUS_*`` names. A missing cell (None, NaN) is
    ``empty``, like an empty string: CSV files cannot tell them apart."""
    if is_missing(value):
        return STATUS_EMPTY
    if not isinstance(value, str):
        return STATUS_NOT_TEXT
    if not value.strip():
        return STATUS_EMPTY
    sample = value[:5000]
    letters = _count(_LETTER_RUN, sample)
    if sample.count("\ufffd") > max(2, len(sample) // 100) or _looks_like_mojibake(sample, letters):
        return STATUS_DECODE_ERROR
    if len(_CONTROL.findall(sample)) > len(sample) // 20:
        return STATUS_NOT_TEXT
    cyrillic = _count(_CYRILLIC_RUN, sample)
    if cyrillic == 0 and letters >= 3 or letters >= 20 and cyrillic < 0.3 * letters:
        return STATUS_NOT_RUSSIAN
    if len(value) > MAX_CHARS:
        return STATUS_TOO_LONG
    return STATUS_OK


def _looks_like_mojibake(sample: str, letters: int) -> bool:
    return letters >= 10 and len(_MOJIBAKE.findall(sample)) > 0.3 * letters


def _count(run: re.Pattern, text: str) -> int:
    return sum(map(len, run.findall(text)))


def is_missing(value: object) -> bool:
    """None and float NaN, as pandas and pyarrow hand over empty cells."""
    return value is None or isinstance(value, float) and math.isnan(value)


def tokenize(text: str) -> list[str]:
    """Words (hyphenated ones kept whole, ё kept) and numbers, in order."""
    return _WORD.findall(text)


class Lemmatizer:
    """pymorphy3 lemmas behind a bounded cache shared by every call in the process.

    Review vocabulary is Zipfian, so a cache of a few hundred thousand words answers nearly every lookup
    without asking pymorphy3 (about 11 k words/s on its own).
    """

    def __init__(self, cache_size: int = 300_000) -> None:
        import pymorphy3

        self._morph = pymorphy3.MorphAnalyzer(lang="ru")
        self.lemma = lru_cache(maxsize=cache_size)(self._lemma)

    def _lemma(self, word: str) -> str:
        if not _CYRILLIC_RUN.search(word):
            return word
        return self._morph.parse(word)[0].normal_form

    def __call__(self, text: str) -> list[str]:
        lemma = self.lemma
        return [lemma(word) for word in tokenize(text.lower())]


@lru_cache(maxsize=1)
def shared_lemmatizer() -> Lemmatizer:
    return Lemmatizer()


def lemmatize(text: str) -> list[str]:
    """Lower-cased pymorphy3 lemmas of the words of ``text``."""
    return shared_lemmatizer()(normalize(text))
