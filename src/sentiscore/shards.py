"""A job's output shards: each written whole or not at all, bound to the job that wrote them by a manifest,
and merged in order into one output file."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from .files import compressing, compression_of
from .preprocess import is_missing

MANIFEST = "manifest.json"


def check_manifest(parts: Path, files: list[Path], chunk_rows: int, columns: list[str | None],
                    model: tuple[str, str]) -> None:
    """Shards left by an earlier run are reused only if that run read the same files the same way with the
    same model; anything else would mix two jobs in one output."""
    job = {"inputs": [[str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns] for p in files],
           "chunk_rows": chunk_rows, "columns": columns, "model": list(model)}
    manifest = parts / MANIFEST
    if manifest.exists() and any(parts.glob("part-*")):  # a run that stopped before its first shard binds nothing
        if json.loads(manifest.read_text()) != job:
            raise ValueError(f"{parts} holds shards of another job (other input, chunk size or model): "
                             f"remove it to start again")
        return
    if any(parts.glob("part-*")):
        raise ValueError(f"{parts} already holds shards but no {MANIFEST}: remove them or choose another output")
    manifest.write_text(json.dumps(job))


def write_atomically(frame: pd.DataFrame, path: Path, fmt: str):
    """Write to a temporary name in the same folder, flush to disk, then rename: the shard is whole or absent.
    Returns the Arrow table a Parquet shard was written from (None for the other formats)."""
    temporary = path.with_name(f".{path.name}.tmp")
    table = None
    if fmt == "parquet":
        import pyarrow.parquet as pq

        table = arrow_table(frame)
        pq.write_table(table, temporary)
    elif fmt == "jsonl":
        frame.to_json(temporary, orient="records", lines=True, force_ascii=False)
    else:
        write_delimited(frame, temporary, "\t" if fmt == "tsv" else ",")
    with temporary.open("rb") as written:
        os.fsync(written.fileno())
    temporary.replace(path)
    return table


def write_delimited(frame: pd.DataFrame, path: Path, separator: str) -> None:
    """A CSV or TSV file, by pyarrow's writer: 5-7x as fast as pandas' on scored dev reviews (8-13 against 61-62
    µs per review, benchmarks/cpu_side.py), and it lets go of Python's lock, which the model's thread needs on a
    GPU."""
    import pyarrow.csv as pa_csv

    pa_csv.write_csv(arrow_table(frame, flat=True), path,
                     pa_csv.WriteOptions(delimiter=separator, quoting_style="needed"))


def arrow_table(frame: pd.DataFrame, flat: bool = False):
    """The frame as an Arrow table, whatever its cells. A column Arrow cannot type, as a JSON field that is 5 in
    one record and "пять" in the next, becomes text; so does, with ``flat`` (CSV, TSV), a column of lists or
    objects, written as JSON."""
    import pyarrow as pa

    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        # pyarrow re-raises from a frame that holds the error: a cycle that would keep the chunk's Arrow buffers
        # until Python's slowest garbage collection (benchmarks/memory.py --mixed-json: 371 MB peak, not 306)
        error.__traceback__ = None
        untyped = {name: frame[name].map(text_cell) for name in frame.columns
                   if frame[name].dtype == object and not _arrow_can_type(frame[name])}
        table = pa.Table.from_pandas(frame.assign(**untyped), preserve_index=False)
    if flat:
        for index, field_ in enumerate(table.schema):
            if pa.types.is_nested(field_.type):
                table = table.set_column(index, field_.name, column_as_text(table[index]))
    return table


def _arrow_can_type(column: pd.Series) -> bool:
    import pyarrow as pa

    try:
        pa.array(column, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return False
    return True


def column_as_text(column):
    """An Arrow column as strings: lists and objects as JSON, nulls kept."""
    import pyarrow as pa

    return pa.array([text_cell(value) for value in column.to_pylist()], pa.string())


def text_cell(value: object) -> str | None:
    """A cell as text: lists and objects (numpy arrays among them, from Parquet) as JSON, missing values None."""
    if isinstance(value, (list, tuple, dict, np.ndarray)):
        return json.dumps(value, ensure_ascii=False, default=lambda inner: inner.tolist())
    return None if is_missing(value) or value is pd.NA else str(value)


def merge_shards(parts: Path, output: Path, fmt: str) -> int:
    """Concatenate the shards, in order, into ``output`` (renamed into place at the end); returns the rows.
    Shards may differ in their columns (input files or JSON records that do): the output has them all, in the
    order they first appear, empty where a shard lacks one."""
    shards = sorted(parts.glob(f"part-*.{fmt}"))
    temporary = _temporary(output)
    rows = _merge_parquet(shards, temporary) if fmt == "parquet" else _merge_text(shards, temporary, output, fmt)
    temporary.replace(output)
    remove_parts(parts)
    return rows


def remove_parts(parts: Path) -> None:
    """The shards folder, once its shards are in the output file."""
    for shard in parts.glob("part-*"):
        shard.unlink()
    (parts / MANIFEST).unlink(missing_ok=True)
    parts.rmdir()


def _temporary(output: Path) -> Path:
    return output.with_name(f".{output.name}.tmp")


class OutputAssembly:
    """The output file put together while the job runs: each shard appended, in order, once it is whole.
    Merged only after the last shard, the shards cost the main process 6-8 µs per review to CSV and 30-37 to
    Parquet after scoring had finished, while a GPU would wait (benchmarks/cpu_side.py); appended by the thread
    that writes them, they cost it nothing. That holds while every shard is laid out as the first (the same
    header, the same Arrow types); from the first that is not, the output is given up and ``finish`` merges all
    the shards into the columns of them all, as ``merge_shards`` does."""

    def __init__(self, parts: Path, output: Path, fmt: str) -> None:
        self.parts, self.output, self.fmt = parts, output, fmt
        self.temporary = _temporary(output)
        self.rows = 0
        self.layout = None
        """The first shard's header line, or its Arrow schema."""
        self.sink = None
        self.opened = contextlib.ExitStack()
        self.given_up = False

    def append(self, shard: Path, rows: int | None = None, table=None) -> None:
        """Add ``shard`` after the shards before it; ``rows``: its rows, if known (else counted); ``table``: a
        Parquet shard's Arrow table, if at hand (else read back: 49-53 µs per scored dev review)."""
        if self.given_up:
            return
        if self.fmt == "parquet":
            self._append_parquet(shard, table)
        else:
            self._append_text(shard, rows)

    def _append_text(self, shard: Path, rows: int | None) -> None:
        with shard.open("rb") as text:
            header = text.readline() if self.fmt != "jsonl" else b""
            if self.sink is None:
                self.layout = header
                self.sink = self.opened.enter_context(_open_output(self.temporary, self.output))
                self.sink.write(header)
            elif header != self.layout:
                return self._give_up()
            shutil.copyfileobj(text, self.sink)
        self.rows += count_rows(shard, self.fmt) if rows is None else rows

    def _append_parquet(self, shard: Path, table) -> None:
        import pyarrow.parquet as pq

        table = pq.read_table(shard) if table is None else table
        if self.sink is None:
            self.layout = table.schema
            self.sink = self.opened.enter_context(pq.ParquetWriter(self.temporary, self.layout))
        elif not table.schema.equals(self.layout, check_metadata=False):
            return self._give_up()
        self.sink.write_table(table)
        self.rows += table.num_rows

    def _give_up(self) -> None:
        self.discard()
        self.given_up = True

    def discard(self) -> None:
        """Close and remove the output begun (a job that failed: its shards stay for the rerun)."""
        self.opened.close()
        self.temporary.unlink(missing_ok=True)

    def finish(self) -> int:
        """The output renamed into place and the shards removed; returns its rows."""
        self.opened.close()
        if self.given_up or self.sink is None:
            return merge_shards(self.parts, self.output, self.fmt)
        self.temporary.replace(self.output)
        remove_parts(self.parts)
        return self.rows


def _merge_parquet(shards: list[Path], temporary: Path) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = 0
    schema = _merged_schema([pq.read_schema(s) for s in shards])
    with pq.ParquetWriter(temporary, schema) as writer:
        for shard in shards:
            table = pq.read_table(shard)
            for field_ in schema:
                if field_.name not in table.column_names:
                    table = table.append_column(field_.name, pa.nulls(table.num_rows, field_.type))
                elif field_.type == pa.string() and not _is_text(table.schema.field(field_.name).type):
                    index = table.column_names.index(field_.name)
                    table = table.set_column(index, field_.name, column_as_text(table[index]))
            rows += table.num_rows
            writer.write_table(table.select(schema.names).cast(schema))
    return rows


def _is_text(arrow_type) -> bool:
    import pyarrow as pa

    return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)


def _merged_schema(schemas: list):
    """One schema for shards whose columns may differ: types widened where Arrow can (null to int to float),
    text where it cannot (a field that is a number in one shard and text or a list in another)."""
    import pyarrow as pa

    fields: dict[str, pa.Field] = {}
    for schema in schemas:
        for field_ in schema:
            known = fields.setdefault(field_.name, field_)
            if field_.type == known.type:  # nearly every shard: the same columns as the one before
                continue
            try:
                fields[field_.name] = pa.unify_schemas([pa.schema([known]), pa.schema([field_])],
                                                       promote_options="permissive").field(0)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                fields[field_.name] = pa.field(field_.name, pa.string())
    return pa.schema(list(fields.values()), metadata=schemas[0].metadata)


def _merge_text(shards: list[Path], temporary: Path, output: Path, fmt: str) -> int:
    import csv

    separator = "\t" if fmt == "tsv" else ","
    headers = []
    if fmt != "jsonl":
        for shard in shards:
            with shard.open(encoding="utf-8", newline="") as text:
                headers.append(next(csv.reader(text, delimiter=separator), []))
    columns = list(dict.fromkeys(name for header in headers for name in header))
    rows = 0
    with _open_output(temporary, output) as out:
        for number, shard in enumerate(shards):
            if headers and headers[number] != columns:  # rows laid out as the whole output's header says
                frame = pd.read_csv(shard, sep=separator, dtype=str, keep_default_na=False)
                out.write(frame.reindex(columns=columns).to_csv(sep=separator, header=number == 0, index=False)
                          .encode("utf-8"))
                rows += len(frame)
                continue
            with shard.open("rb") as text:  # bytes: UTF-8 in, UTF-8 out, nothing to decode
                header = text.readline() if fmt != "jsonl" else b""
                if number == 0:
                    out.write(header)
                shutil.copyfileobj(text, out)
            rows += count_rows(shard, fmt)
    return rows


def count_rows(shard: Path, fmt: str) -> int:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(shard).metadata.num_rows
    if fmt == "jsonl":
        with shard.open(encoding="utf-8") as lines:
            return sum(1 for _ in lines)
    # A quoted review may span lines: let the CSV parser count records, reading one column only.
    return len(pd.read_csv(shard, sep="\t" if fmt == "tsv" else ",", usecols=["status"], dtype=str))


@contextlib.contextmanager
def _open_output(path: Path, named: Path) -> Iterator[BinaryIO]:
    """``path`` opened to write bytes, compressed as the name ``named`` (what the file will be renamed to) says."""
    with path.open("wb") as raw, compressing(raw, compression_of(named), named.name) as out:
        yield out
