"""Review files read as scrapers write them: CSV, TSV, JSON lines or arrays, Parquet; gzip, zstd, bz2 or xz;
UTF-8 or cp1251; a file, a glob or a folder of shards.

``read_chunks`` streams a file in frames of rows, ``read_records`` row by row; ``input_files`` says which files a
job reads. A file cut short, a record that is not JSON or a byte that is not text costs its rows a flag, not the job.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import glob
import gzip
import io
import itertools
import json
import lzma
import re
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TextIO

if TYPE_CHECKING:
    import pandas as pd

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
    raise ValueError(f"cannot tell the format of {path}: use .csv, .tsv, .jsonl or .parquet "
                     f"(.gz / .zst / .bz2 / .xz too)")


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
    read in ``encoding`` (None: ``text_encoding``, UTF-8 or cp1251); bytes it cannot decode are replaced,
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


def compressing(raw: BinaryIO, compression: str | None, name: str = "") -> BinaryIO:
    """A binary stream that writes into ``raw`` compressed (``decompressed``'s mirror); closing it leaves ``raw``
    open. ``name``: the file name a gzip header records, which ``gunzip -N`` restores."""
    if compression is None:
        return raw
    if compression == "zstd":
        import zstandard

        return zstandard.ZstdCompressor().stream_writer(raw, closefd=False)
    if compression == "gzip":
        return gzip.GzipFile(filename=name, mode="wb", fileobj=raw)
    return {"bz2": bz2.BZ2File, "xz": lzma.LZMAFile}[compression](raw, "wb")


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


TEXT_COLUMN_GUESSES = ("text", "review", "content", "body", "comment", "отзыв", "текст")
MIN_GUESSED_CHARS = 15
"""A column guessed by part of its name holds texts this long on average, not ids or counts ("review_id")."""


def guess_text_column(frame: pd.DataFrame, where: str = "") -> str:
    """The column of reviews: the first of ``TEXT_COLUMN_GUESSES`` by name, in any case; else, of the columns
    whose name holds one of them ("review_text", "Текст отзыва"), the one with the longest texts. A column of
    objects (nested JSON, a Parquet struct) is looked into the same way: ``review.text``."""
    column = _guessed_column(frame, where)
    objects = [cell for cell in frame[column].tolist() if isinstance(cell, dict)]
    if not objects:
        return column
    import pandas as pd

    return f"{column}.{guess_text_column(pd.DataFrame(objects), f'{where}{column!r} holds objects: ')}"


def _guessed_column(frame: pd.DataFrame, where: str = "") -> str:
    for guess in TEXT_COLUMN_GUESSES:
        for column in frame.columns:
            if str(column).lower() == guess:
                return column
    named = [column for column in frame.columns if any(guess in str(column).lower() for guess in TEXT_COLUMN_GUESSES)]
    if named and frame.empty:
        return named[0]
    lengths = {column: frame[column].map(lambda cell: len(cell) if isinstance(cell, str) else 0).mean()
               for column in named}
    best = max(named, key=lengths.__getitem__, default=None)
    if best is None or lengths[best] < MIN_GUESSED_CHARS:
        raise ValueError(f"{where}no text column among {list(frame.columns)}: name it with --text-column")
    return best


def field_at(record: object, path: str) -> object:
    """A record's value under a column name, or at a dotted path inside its nested objects
    (``review.body.text``: JSON objects, Parquet structs); None where a part is missing."""
    if isinstance(record, dict) and path in record:
        return record[path]
    for key in path.split("."):
        record = record.get(key) if isinstance(record, dict) else None
    return record


def input_files(spec: str | Path) -> list[Path]:
    """The files a job reads, in order: one file, the files a glob matches (``**`` reaches into subfolders), or
    the review files of a folder and its subfolders (shards partitioned as ``date=2026-11-27/part-0.parquet``)."""
    path = Path(spec)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and _is_review_file(p, path))
    elif any(ch in str(spec) for ch in "*?["):
        files = sorted(Path(p) for p in glob.glob(str(spec), recursive=True) if _is_review_file(Path(p)))
    else:
        files = [path]
    if not files or not files[0].exists():
        raise FileNotFoundError(f"no review files at {spec}")
    return files


def _is_review_file(path: Path, folder: Path | None = None) -> bool:
    try:
        file_format(path)
    except ValueError:
        return False
    hidden = path.relative_to(folder).parts if folder else (path.name,)  # .git, a job's .parts and .tmp files
    return not any(part.startswith(".") or part.endswith(".parts") for part in hidden)
