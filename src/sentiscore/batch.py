"""Scoring files of reviews: CSV, TSV, JSONL or Parquet in, the same rows with predictions out, in chunks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from .labels import SENTIMENTS
from .predict import Scorer, load_model, predictions_from

TEXT_COLUMN_GUESSES = ("text", "review", "content", "body", "comment", "отзыв", "текст")
OUTPUT_COLUMNS = ("sentiment", "score", *(f"p_{s}" for s in SENTIMENTS), "status", "model", "model_version")


def file_format(path: str | Path) -> str:
    name = str(path).lower()
    for suffix in (".gz", ".bz2", ".xz", ".zst"):
        name = name.removesuffix(suffix)
    for fmt, suffixes in (("jsonl", (".jsonl", ".json", ".ndjson")), ("csv", (".csv",)), ("tsv", (".tsv",)),
                          ("parquet", (".parquet",))):
        if name.endswith(suffixes):
            return fmt
    raise ValueError(f"cannot tell the format of {path}: use .csv, .tsv, .jsonl or .parquet")


def read_chunks(path: str | Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """The file's rows in order, ``chunk_rows`` at a time, every cell kept as read (strings stay strings)."""
    fmt = file_format(path)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows):
            yield batch.to_pandas()
    elif fmt == "jsonl":
        yield from pd.read_json(path, lines=True, chunksize=chunk_rows, dtype=False)
    else:
        yield from pd.read_csv(path, sep="\t" if fmt == "tsv" else ",", chunksize=chunk_rows, dtype=str,
                               keep_default_na=False, na_values=[""])


def guess_text_column(columns: list[str]) -> str:
    for guess in TEXT_COLUMN_GUESSES:
        for column in columns:
            if column.lower() == guess:
                return column
    raise ValueError(f"no text column among {columns}: name it with --text-column")


def score_frame(frame: pd.DataFrame, scorer: Scorer, text_column: str) -> pd.DataFrame:
    """The frame with the prediction columns added; every row kept, unscorable ones flagged in ``status``."""
    predictions = predictions_from(scorer, frame[text_column].tolist())
    out = frame.copy()
    out["sentiment"] = [p.sentiment for p in predictions]
    out["score"] = [p.score for p in predictions]
    for label in SENTIMENTS:
        out[f"p_{label}"] = [p.probabilities.get(label) if p.ok else None for p in predictions]
    out["status"] = [p.status for p in predictions]
    out["model"] = scorer.name
    out["model_version"] = scorer.version
    return out


def score_file(input_path: str | Path, output_path: str | Path, *, model: str | Scorer | None = None,
               text_column: str | None = None, chunk_rows: int = 1000, progress: bool = True) -> int:
    """Score every row of ``input_path`` into ``output_path`` (format from its extension); returns rows written."""
    from tqdm.auto import tqdm

    scorer = model if hasattr(model, "score_texts") else load_model(model)
    output_path = Path(output_path)
    output_format = file_format(output_path)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    partial = output_path.with_name(output_path.name + ".partial")
    partial.unlink(missing_ok=True)
    writer, written = None, 0
    with tqdm(desc="scoring", unit="row", disable=not progress) as bar:
        for chunk in read_chunks(input_path, chunk_rows):
            column = text_column or guess_text_column(list(chunk.columns))
            if column not in chunk.columns:
                raise ValueError(f"no column {column!r} in {input_path}; columns: {list(chunk.columns)}")
            scored = score_frame(chunk, scorer, column)
            writer = _write(scored, partial, output_format, writer, first=written == 0)
            written += len(scored)
            bar.update(len(scored))
    if writer is not None:
        writer.close()
    if written == 0:
        raise ValueError(f"{input_path} holds no rows")
    partial.replace(output_path)
    return written


def _write(frame: pd.DataFrame, path: Path, fmt: str, writer, first: bool):
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table.cast(writer.schema))
        return writer
    if fmt == "jsonl":
        frame.to_json(path, orient="records", lines=True, force_ascii=False, mode="w" if first else "a")
    else:
        frame.to_csv(path, sep="\t" if fmt == "tsv" else ",", index=False, header=first, mode="w" if first else "a")
    return writer
