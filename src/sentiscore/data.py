"""Review files read as scrapers write them (``read_chunks``, ``read_records``), corpora in one schema, and
group-disjoint splits.

Every loader returns a ``datasets.Dataset`` with the columns of ``SCHEMA``: the review ``text`` (normalised,
self-reported rating stripped), ``sentiment`` (negative / neutral / positive, or None), ``score10`` (1–10, or
None), ``domain``, ``group`` (the film, book, game or other object reviewed: rows of one group are alike, so
splits never cut a group) and ``source`` (the corpus name).
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import hashlib
import io
import itertools
import json
import lzma
import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TextIO

if TYPE_CHECKING:
    import pandas as pd

from .grades import extract_score, strip_score
from .labels import sentiment_from_mark, sentiment_of_label
from .preprocess import is_missing, normalize

SCHEMA = ("text", "sentiment", "score10", "domain", "group", "source")

DEFAULT_DATA_DIR = Path("../shared/data")

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


FORMATS = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv",
           ".parquet": "parquet"}
COMPRESSIONS = {".gz": "gzip", ".zst": "zstd", ".zstd": "zstd", ".bz2": "bz2", ".xz": "xz"}


def file_format(path: str | Path) -> str:
    """``jsonl``, ``csv``, ``tsv`` or ``parquet``, from the file name (a compression suffix is looked through)."""
    name = str(path).lower()
    for suffix in COMPRESSIONS:
        name = name.removesuffix(suffix)
    for suffix, fmt in FORMATS.items():
        if name.endswith(suffix):
            return fmt
    raise ValueError(f"cannot tell the format of {path}: use .csv, .tsv, .jsonl or .parquet (.gz / .zst too)")


def compression_of(path: str | Path) -> str | None:
    """pandas' name of the file's compression, or None."""
    return COMPRESSIONS.get(Path(path).suffix.lower())


FALLBACK_ENCODING = "cp1251"
"""What a text file that is not UTF-8 is read as: the code page of Russian Windows, in which Excel saves CSV."""

SNIFFED_BYTES = 1 << 20


def text_encoding(path: str | Path) -> str:
    """The encoding to read a text file with, from its first megabyte (decompressed): UTF-8 (``utf-8-sig`` with
    a byte-order mark), UTF-16 with a byte-order mark, or ``FALLBACK_ENCODING`` when most of its non-ASCII bytes
    are not UTF-8. A few bad bytes in a UTF-8 file leave it UTF-8: readers replace them, and the rows that hold
    them come out as ``decode_error``."""
    with _open(path, "rb") as raw:
        sample = raw.read(SNIFFED_BYTES)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode text"
        return "utf-16"
    invalid = sample.decode("utf-8", errors="replace").count("\ufffd")
    non_ascii = len(sample) - len(sample.decode("ascii", errors="ignore"))
    return "utf-8" if invalid <= max(2, non_ascii // 100) else FALLBACK_ENCODING


def read_records(path: str | Path | Iterable[str | Path]) -> Iterator[dict]:
    """Rows of JSONL, JSON, CSV, TSV or Parquet files (compressed too), read as ``sentiscore score`` reads them.

    A JSON record that is not an object is left out, with one warning per file.
    """
    paths = [Path(path)] if isinstance(path, (str, Path)) else [Path(p) for p in path]
    for one in paths:
        if file_format(one) == "jsonl":
            yield from _json_records(str(one))
            continue
        for frame, _ in read_chunks(one, 10_000):
            yield from frame.to_dict("records")


def read_chunks(path: Path, chunk_rows: int, encoding: str | None = None) -> Iterator[tuple[pd.DataFrame, float]]:
    """The file's rows in order, ``chunk_rows`` at a time, each with the share of the file read so far.

    CSV and TSV cells stay strings exactly as written (no type guessing that turns "007" into 7). Text files are
    read in ``encoding`` (None: ``data.text_encoding``, UTF-8 or cp1251); bytes it cannot decode are replaced,
    so that their rows come out flagged instead of stopping the job."""
    import pandas as pd

    fmt = file_format(path)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(path)
        done, total = 0, max(parquet.metadata.num_rows, 1)
        for batch in parquet.iter_batches(batch_size=chunk_rows):
            done += batch.num_rows
            yield batch.to_pandas(integer_object_nulls=True), done / total  # ids with gaps stay whole numbers
        return
    size = max(path.stat().st_size, 1)
    encoding = encoding or text_encoding(path)
    with path.open("rb") as raw:
        if fmt == "jsonl":
            text = io.TextIOWrapper(decompressed(raw, compression_of(path), str(path)), encoding=encoding,
                                    errors="replace")
            for frame in record_frames(json_records(text, str(path)), chunk_rows):
                yield frame, min(raw.tell() / size, 1.0)
            return
        stream = decompressed(raw, compression_of(path), str(path))
        try:
            reader = pd.read_csv(stream, **delimited_options(path, encoding), chunksize=chunk_rows, dtype=str,
                                 keep_default_na=False, na_values=[""], encoding=encoding, encoding_errors="replace")
        except pd.errors.EmptyDataError:  # not even a header: no rows
            return
        rows = 0
        with reader:
            try:
                for frame in reader:
                    rows += len(frame)
                    yield frame, min(raw.tell() / size, 1.0)
            except pd.errors.ParserError as error:  # a quote left open: a file cut short, or not CSV
                raise ValueError(f"{path} cannot be read as {fmt.upper()} after its first {rows:,} rows: {error}") \
                    from None


def record_frames(records: Iterable[dict | None], chunk_rows: int) -> Iterator[pd.DataFrame]:
    """JSON records as frames of ``chunk_rows`` rows. A record that could not be read (None: a scraper's
    cut-off last line) becomes an empty row, its position in ``frame.attrs["unreadable"]``: it comes out
    flagged ``decode_error`` instead of stopping the job."""
    rows: list[dict] = []
    unreadable: list[int] = []
    for record in records:
        if record is None:
            unreadable.append(len(rows))
        rows.append(record or {})
        if len(rows) == chunk_rows:
            yield _records_frame(rows, unreadable)
            rows, unreadable = [], []
    if rows:
        yield _records_frame(rows, unreadable)


def _records_frame(records: list[dict], unreadable: list[int]) -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame(records, index=pd.RangeIndex(len(records)), dtype=object)  # 123 stays 123, not 123.0
    frame.attrs["unreadable"] = unreadable
    return frame


JSON_BLOCK_CHARS = 1 << 16
MAX_JSON_RECORD_CHARS = 1 << 24
"""Past this many characters without a complete element, a JSON array is taken as broken, not as long."""
_JSON_SEPARATORS = re.compile(r"[\s,]*")


def json_records(text: TextIO, name: str = "JSON") -> Iterator[dict | None]:
    """The records of JSON text, in order and read in blocks: JSON lines, or one array of objects (as many
    scrapers save them, often indented over many lines). A line or element that is not an object, or one cut
    short at the end of the file, gives None, so that its row can be flagged instead of stopping the job."""
    head = text.read(JSON_BLOCK_CHARS)
    while head.isspace() and (more := text.read(JSON_BLOCK_CHARS)):
        head += more
    if head.lstrip().startswith("["):
        yield from _json_array_records(head, text, name)
        return
    for line in filter(str.strip, itertools.chain(io.StringIO(head + text.readline()), text)):
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        yield record if isinstance(record, dict) else None


def _json_array_records(buffer: str, text: TextIO, name: str) -> Iterator[dict | None]:
    decoder = json.JSONDecoder()
    position, offset, ended = buffer.index("[") + 1, 0, False
    while True:
        position = _JSON_SEPARATORS.match(buffer, position).end()
        if buffer.startswith("]", position):
            return
        try:
            value, end = decoder.raw_decode(buffer, position)
            complete = end < len(buffer) or ended  # a number at the block's end may go on in the next block
        except json.JSONDecodeError:
            complete = False
        if complete:
            yield value if isinstance(value, dict) else None
            position = end
            continue
        rest = buffer[position:].rstrip()
        if (ended and rest.endswith("]")) or len(rest) > MAX_JSON_RECORD_CHARS:
            raise ValueError(f"{name}: the JSON array is broken in the element at character {offset + position + 1:,}: "
                             f"mend it, or save the file as JSON lines, where a broken line costs only its row")
        if ended:
            if rest:
                yield None
            return
        more = text.read(JSON_BLOCK_CHARS)
        ended = not more
        buffer, offset, position = buffer[position:] + more, offset + position, 0


def _json_records(path: str) -> Iterator[dict]:
    unreadable = 0
    with _open_text(path) as text:
        for record in json_records(text, path):
            if record is None:
                unreadable += 1
            else:
                yield record
    if unreadable:
        warnings.warn(f"{path}: {unreadable} record(s) are not JSON objects (cut short?) and were left out",
                      stacklevel=3)


def delimited_options(path: str | Path, encoding: str | None = None) -> dict:
    """How pandas reads a CSV or TSV file: its separator and, for TSV, what its quotes are (``tsv_quoting``)."""
    if file_format(path) == "tsv":
        return {"sep": "\t", "quoting": tsv_quoting(path, encoding)}
    return {"sep": csv_separator(path, encoding)}


_QUOTED_FIELD = re.compile(r'"(?:[^"]|"")*"')


def tsv_quoting(path: str | Path, encoding: str | None = None) -> int:
    """``csv.QUOTE_NONE`` when a TSV file's quotes are characters of its text, as in a file written by joining
    fields with tabs, where a review may open with a quote it closes mid-field (CSV-style reading would drop
    them, or swallow the rest of the file into one cell): every line of its first megabyte splits by tabs into
    the header's fields, and some field opens with a quote that does not close it. Else ``csv.QUOTE_MINIMAL``,
    the quoting pandas and Excel write."""
    with _open(path, "rt", encoding=encoding or text_encoding(path), errors="replace") as text:
        sample = text.read(SNIFFED_BYTES)
    lines = sample.split("\n")
    if len(sample) == SNIFFED_BYTES:  # the last line may be cut
        lines.pop()
    rows = [line.rstrip("\r").split("\t") for line in lines if line.strip()]
    if len(rows) < 2 or any(len(row) != len(rows[0]) for row in rows):
        return csv.QUOTE_MINIMAL
    literal = any(cell.startswith('"') and not _QUOTED_FIELD.fullmatch(cell) for row in rows for cell in row)
    return csv.QUOTE_NONE if literal else csv.QUOTE_MINIMAL


def csv_separator(path: str | Path, encoding: str | None = None) -> str:
    """``;`` when the header line holds more semicolons than commas (Excel's CSV in a Russian locale), else ``,``."""
    with _open(path, "rt", encoding=encoding or text_encoding(path), errors="replace") as text:
        header = text.readline()
    return ";" if header.count(";") > header.count(",") else ","


def decompressed(raw: BinaryIO, compression: str | None, name: str = "", close_raw: bool = False) -> BinaryIO:
    """A binary stream of ``raw``'s decompressed bytes (``compression`` as ``compression_of`` names it). A file
    cut off mid-write (a scraper stopped) ends where its bytes end, where gzip, bz2 and xz raise at the end of the
    job; a warning names it where ``name`` is given (not for a look at a file's first megabyte). ``close_raw``:
    closing the stream closes ``raw`` too."""
    if compression is None:
        return raw
    if compression == "zstd":
        import zstandard

        stream = zstandard.ZstdDecompressor().stream_reader(raw, closefd=close_raw)
    elif compression == "gzip":
        stream = gzip.GzipFile(fileobj=raw)
    else:
        stream = {"bz2": bz2.BZ2File, "xz": lzma.LZMAFile}[compression](raw)
    return io.BufferedReader(_EndsWhereCut(stream, name, raw if close_raw else None))


class _EndsWhereCut(io.RawIOBase):
    """A decompressed stream that ends where its file was cut off, where the decompressor raises EOFError."""

    def __init__(self, stream: BinaryIO, name: str, raw: BinaryIO | None) -> None:
        self.stream, self.name, self.raw, self.cut = stream, name, raw, False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.cut:
            return 0
        try:
            data = self.stream.read(len(buffer))
        except EOFError:
            self.cut = True
            if self.name:
                warnings.warn(f"{self.name} ends before its compressed stream does (cut short?): read up to there",
                              stacklevel=2)
            return 0
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.stream.close()
        if self.raw is not None:
            self.raw.close()
        super().close()


def _open(path: str | Path, mode: str, warn_cut: bool = False, **text_options):
    compression = compression_of(path)
    if compression is None:
        return open(path, mode, **text_options)
    raw = open(path, "rb")  # noqa: SIM115 -- closed with the stream that reads it (close_raw)
    stream = decompressed(raw, compression, str(path) if warn_cut else "", close_raw=True)
    return io.TextIOWrapper(stream, **text_options) if "t" in mode else stream


def _open_text(path: str):
    return _open(path, "rt", warn_cut=True, encoding=text_encoding(path), errors="replace")


def review_row(text: str, *, sentiment: str | None, score10: float | None, domain: str, group: str,
               source: str, score_from_text: bool = True) -> dict:
    """One row of the schema: the text normalised, its rating stripped, and the score taken from it if unset
    (unless ``score_from_text`` is False: a corpus whose score column is its reference)."""
    text = normalize(text)
    if score10 is None and score_from_text:
        found = extract_score(text)
        score10 = found.score10 if found else None
    elif score10 is not None:
        score10 = min(10.0, max(1.0, float(score10)))
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


def load_reviews(path: str | Path | Iterable[str | Path], *, text_column: str = "text",
                 score_column: str | None = None, score_scale: float = 10.0, sentiment_column: str | None = None,
                 domain: str = "unknown", group_column: str | None = None):
    """A user's file of reviews in the common schema. The score is the rating written in the text ("8 из 10"),
    or, with ``score_column``, that column's number on a 1..``score_scale`` scale (5: a star rating, brought to
    1–10 as 2 × stars); ``sentiment_column`` holds labels such as positive / neutral / negative or good / bad."""
    from datasets import Dataset

    if score_scale <= 0:
        raise ValueError(f"the score scale must be positive, not {score_scale}")
    rows, unreadable_scores = [], 0
    for index, record in enumerate(read_records(path)):
        text = record.get(text_column)
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
