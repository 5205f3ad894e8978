"""Text preparation: normalisation of scraped text, input checks, word tokenisation and lemmatisation."""

from __future__ import annotations

import html
import math
import re
import unicodedata
from functools import lru_cache

import numpy as np

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
_CYRILLIC_RUN = re.compile(r"[а-яёА-ЯЁ]+")
_LETTER_RUN = re.compile(r"[^\W\d_]+")
# Unicode categories Cc (minus tab, newline, carriage return), Cs and Co.
_CONTROL_RUN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ue000-\uf8ff"
                          "\U000f0000-\U000ffffd\U00100000-\U0010fffd]+")
# What check_text counts in a text: each character is one of these kinds. Cyrillic letters and the Latin-1
# letters (À to ÿ) that cp1251 or UTF-8 bytes turn into when decoded with the wrong code page are letters of
# their own kinds; × and ÷, which the wrong code page makes too, are signs of that; control characters are no letters.
_KINDS = 6
_OTHER, _LETTER, _CYRILLIC, _CONTROL, _LATIN1_LETTER, _LATIN1_SIGN = range(_KINDS)
_KIND_RUNS = ((_LETTER_RUN, _LETTER), (_CYRILLIC_RUN, _CYRILLIC), (_CONTROL_RUN, _CONTROL))
_LATIN1_FIRST, _LATIN1_LAST = 0xC0, 0xFF


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


def as_text(value: object) -> object:
    """Bytes decoded as UTF-8, bytes that are not replaced (``check_text`` then flags the text ``decode_error``):
    a Parquet file written without its columns' text annotation hands over its reviews as bytes. Anything else
    as it is."""
    return value.decode("utf-8", errors="replace") if isinstance(value, (bytes, bytearray)) else value


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
    codes = np.frombuffer(sample.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    counts = _kind_counts(codes).tolist()
    letters = counts[_LETTER] + counts[_CYRILLIC] + counts[_LATIN1_LETTER]
    mojibake = counts[_LATIN1_LETTER] + counts[_LATIN1_SIGN]
    if sample.count("\ufffd") > max(2, len(sample) // 100) or letters >= 10 and mojibake > 0.3 * letters:
        return STATUS_DECODE_ERROR
    if counts[_CONTROL] > len(sample) // 20:
        return STATUS_NOT_TEXT
    cyrillic = counts[_CYRILLIC]
    if cyrillic == 0 and letters >= 3 or letters >= 20 and cyrillic < 0.3 * letters:
        return STATUS_NOT_RUSSIAN
    if len(value) > MAX_CHARS:
        return STATUS_TOO_LONG
    return STATUS_OK


def _kind_counts(codes: np.ndarray) -> np.ndarray:
    """How many of the code points are of each kind (``_OTHER``, ``_LETTER``, ...), by a table of the Basic
    Multilingual Plane: 11x as fast as counting by regular expressions on Kinopoisk reviews, about as fast on
    short comments (benchmarks/check_text.py); the few characters beyond the plane (emoji) are told by the
    expressions themselves."""
    if len(codes) == 0 or codes.max() <= 0xFFFF:
        return np.bincount(_plane_kinds()[codes], minlength=_KINDS)
    beyond = codes > 0xFFFF
    return (np.bincount(_plane_kinds()[codes[~beyond]], minlength=_KINDS)
            + np.bincount(_kinds("".join(map(chr, codes[beyond]))), minlength=_KINDS))


@lru_cache(maxsize=1)
def _plane_kinds() -> np.ndarray:
    """The kind of each of the Basic Multilingual Plane's 65,536 code points (~10 ms, once per process)."""
    kinds = _kinds("".join(map(chr, range(0x10000))))
    latin1 = kinds[_LATIN1_FIRST:_LATIN1_LAST + 1]
    latin1[:] = np.where(latin1 == _LETTER, _LATIN1_LETTER, _LATIN1_SIGN)
    return kinds


def _kinds(text: str) -> np.ndarray:
    kinds = np.full(len(text), _OTHER, dtype=np.uint8)
    for run, kind in _KIND_RUNS:  # in this order: Cyrillic letters are letters, marked again as Cyrillic
        for match in run.finditer(text):
            kinds[match.start():match.end()] = kind
    return kinds


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
