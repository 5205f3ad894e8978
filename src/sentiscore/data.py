"""Corpora in one schema, and group-disjoint splits.

Every loader returns a ``datasets.Dataset`` with the columns of ``SCHEMA``: the review ``text`` (normalised,
self-reported rating stripped), ``sentiment`` (negative / neutral / positive, or None), ``score10`` (1–10, or
None), ``domain``, ``group`` (the film, book, game or other object reviewed: rows of one group are alike, so
splits never cut a group) and ``source`` (the corpus name).
"""

from __future__ import annotations

import hashlib
import itertools
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

from .files import field_at, guess_text_column, read_records
from .grades import extract_score, strip_score
from .labels import clamp_score, sentiment_from_mark, sentiment_of_label
from .preprocess import is_missing, normalize

SCHEMA = ("text", "sentiment", "score10", "domain", "group", "source")

DEFAULT_DATA_DIR = Path("../shared/data")

GUESS_FROM_RECORDS = 1_000

HOLDOUT_BUCKETS = 10
SALTED_SOURCES = ("livelib",)
"""Corpora whose groups are hashed with the corpus name in front: the LiveLib file holds no title whose plain
md5 is 0 modulo 10, so the plain rule would hold out no book at all."""


def in_holdout(group: str, source: str = "kinopoisk") -> bool:
    """Whether a group belongs to the held-out part of its corpus: the md5 of its name is 0 modulo 10.

    On Kinopoisk titles that is the documented dev split (a film shared by two Kinopoisk files is held out in
    both); the corpora of ``SALTED_SOURCES`` hash ``"<corpus>:<group>"`` instead.
    """
    key = f"{source}:{group}" if source in SALTED_SOURCES else group
    return int(hashlib.md5(key.encode("utf-8")).hexdigest(), 16) % HOLDOUT_BUCKETS == 0


def review_row(text: str, *, sentiment: str | None, score10: float | None, domain: str, group: str,
               source: str, score_from_text: bool = True) -> dict:
    """One row of the schema: the text normalised, its rating stripped, and the score taken from it if unset
    (unless ``score_from_text`` is False: a corpus whose score column is its reference)."""
    text = normalize(text)
    if score10 is None and score_from_text:
        found = extract_score(text)
        score10 = found.score10 if found else None
    elif score10 is not None:
        score10 = clamp_score(score10)
    if sentiment is None and score10 is not None:
        sentiment = sentiment_from_mark(score10 / 2)
    return {"text": strip_score(text).strip(), "sentiment": sentiment, "score10": score10, "domain": domain,
            "group": group, "source": source}


_KINOPOISK_LABELS = {"good": "positive", "bad": "negative", "neutral": "neutral"}
_SENTIRUEVAL_LABELS = {"positive": "positive", "negative": "negative", "neutral": "neutral", "both": "neutral"}
_APP_LABELS = {"негативная": "negative", "позитивная": "positive", "нейтральная": "neutral"}


def _kinopoisk(record: dict, source: str) -> dict:
    return review_row(record["text"], sentiment=_KINOPOISK_LABELS.get(record.get("label")),
                      score10=record.get("score10"), domain="film", score_from_text=False,
                      group=record.get("title") or record.get("movie_link") or "", source=source)


def _by_mark(domain: str, group_field: str) -> Callable[[dict, str], dict | None]:
    def convert(record: dict, source: str) -> dict:
        mark = record.get("rating") or 0
        return review_row(record["text"], sentiment=sentiment_from_mark(mark) if mark else None,
                          score10=2.0 * mark if mark else None, domain=domain,
                          group=str(record.get(group_field) or record.get("id")), source=source)
    return convert


def _steam(record: dict, source: str) -> dict:
    return review_row(record["text"], sentiment=record.get("label"), score10=None, domain="game",
                      group=str(record.get("title")), source=source)


def _sentirueval(record: dict, source: str) -> dict:
    aspects = [v for v in (record.get("scores") or {}).values() if v is not None]
    whole = (record.get("category_sentiment") or {}).get("Whole")
    return review_row(record["text"], sentiment=_SENTIRUEVAL_LABELS.get(whole),
                      score10=sum(aspects) / len(aspects) if aspects else None, domain=record["domain"],
                      group=str(record.get("object")), source=source)


def _rusentiment(record: dict, source: str) -> dict | None:
    if record.get("label") not in ("positive", "negative", "neutral"):
        return None
    return review_row(record["text"], sentiment=record["label"], score10=None, domain="social",
                      group=f"post-{record['id']}", source=source)


def _app(record: dict, source: str) -> dict | None:
    sentiment = _APP_LABELS.get(record.get("label"))
    if sentiment is None:
        return None
    # The corpus repeats comments many times: grouping by text keeps copies on one side of a split.
    return review_row(record["text"], sentiment=sentiment, score10=None, domain="app",
                      group=normalize(record["text"]).lower(), source=source)


CORPORA: dict[str, tuple[str, Callable[[dict, str], dict | None]]] = {
    "kinopoisk": ("kinopoisk_itsecd_labs.jsonl.gz", _kinopoisk),
    "kinopoisk_more": ("kinopoisk_more.jsonl.gz", _kinopoisk),
    "kinopoisk_neutral": ("kinopoisk_32r81b.jsonl.gz", _kinopoisk),
    "livelib": ("livelib_books.jsonl.gz", _by_mark("book", "title")),
    "otzovik": ("otzovik_sberbank.jsonl.gz", _by_mark("bank", "id")),
    "steam": ("steam_reviews_rus.jsonl.gz", _steam),
    "sentirueval": ("sentirueval2015_rest_car.jsonl.gz", _sentirueval),
    "rusentiment": ("rusentiment.jsonl.gz", _rusentiment),
    "app_reviews": ("app_reviews_ilywio.jsonl.gz", _app),
}
"""Corpora of ../shared/data by short name: file name and the function mapping a record to the schema."""


def load_corpus(name: str, data_dir: str | Path = DEFAULT_DATA_DIR):
    """One corpus of ``data_dir`` in the common schema, as a ``datasets.Dataset``."""
    from datasets import Dataset

    if name not in CORPORA:
        raise ValueError(f"unknown corpus {name!r}; known: {', '.join(CORPORA)}")
    file_name, convert = CORPORA[name]
    path = Path(data_dir) / file_name
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: the shared corpora live in ../shared/data (see its README)")
    rows = [row for record in read_records(path) if record.get("text") and (row := convert(record, name))]
    rows = [row for row in rows if row["text"]]
    return Dataset.from_dict({column: [row[column] for row in rows] for column in SCHEMA})


def load_reviews(path: str | Path | Iterable[str | Path], *, text_column: str | None = None,
                 score_column: str | None = None, score_scale: float = 10.0, sentiment_column: str | None = None,
                 domain: str = "unknown", group_column: str | None = None):
    """A user's file of reviews in the common schema. The score is the rating written in the text ("8 из 10"),
    or, with ``score_column``, that column's number on a 1..``score_scale`` scale (5: a star rating, brought to
    1–10 as 2 × stars); ``sentiment_column`` holds labels such as positive / neutral / negative or good / bad.
    ``text_column`` None: guessed from the first records as ``sentiscore score`` guesses it."""
    import pandas as pd
    from datasets import Dataset

    if score_scale <= 0:
        raise ValueError(f"the score scale must be positive, not {score_scale}")
    records = read_records(path)
    first = list(itertools.islice(records, GUESS_FROM_RECORDS))
    text_column = text_column or guess_text_column(pd.DataFrame(first))
    if first and not any(text_column in record or field_at(record, text_column) is not None for record in first):
        raise ValueError(f"no column {text_column!r} in {path}; its columns: {list(first[0])}")
    rows, unreadable_scores = [], 0
    for index, record in enumerate(itertools.chain(first, records)):
        text = field_at(record, text_column)
        if not isinstance(text, str) or not text.strip():
            continue
        score10 = label = None
        if score_column and not _blank(cell := record.get(score_column)):
            mark = _number(cell)
            unreadable_scores += mark is None
            score10 = None if mark is None else mark * 10.0 / score_scale
        if sentiment_column and not _blank(cell := record.get(sentiment_column)):
            label = sentiment_of_label(cell)
        rows.append(review_row(
            text, sentiment=label, score10=score10, domain=domain, score_from_text=not score_column,
            group=str(record.get(group_column)) if group_column else str(index), source=str(path)))
    if unreadable_scores:
        warnings.warn(f"{path}: {unreadable_scores} cell(s) of {score_column!r} are not numbers and count as "
                      f"unscored", stacklevel=2)
    return Dataset.from_dict({column: [row[column] for row in rows] for column in SCHEMA})


def _blank(cell: object) -> bool:
    return is_missing(cell) or not str(cell).strip()


def _number(cell: object) -> float | None:
    """A cell's number ("4", "4,5", 4.5), or None."""
    try:
        return float(str(cell).strip().replace(",", "."))
    except ValueError:
        return None


def split_by_group(dataset, holdout: bool):
    """The rows whose group is (``holdout=True``) or is not in the held-out part."""
    import datasets

    datasets.disable_progress_bars()
    return dataset.filter(lambda group, source: in_holdout(group, source) == holdout,
                          input_columns=["group", "source"])


def dev_split(data_dir: str | Path = DEFAULT_DATA_DIR):
    """The documented development split: Kinopoisk titles whose md5 is 0 modulo 10 (1,311 reviews)."""
    return split_by_group(load_corpus("kinopoisk", data_dir), holdout=True)


def load_rows(names: Iterable[str], data_dir: str | Path = DEFAULT_DATA_DIR, part: str = "all") -> list[dict]:
    """Rows of several corpora: ``part`` is ``train`` (groups outside the held-out part), ``held_out`` or ``all``."""
    if part not in ("train", "held_out", "all"):
        raise ValueError(f"part must be train, held_out or all, not {part!r}")
    rows = []
    for name in names:
        for row in load_corpus(name, data_dir):
            held_out = in_holdout(row["group"], row["source"])
            if part == "all" or held_out == (part == "held_out"):
                rows.append(row)
    return rows
