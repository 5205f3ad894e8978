"""Scoring files of reviews: CSV, TSV, JSONL or Parquet (compressed too; a file, a glob or a folder of shards)
in, every row with its predictions out, in order.

The input is streamed in chunks of ``chunk_rows`` rows; chunk *k* becomes the shard ``part-<k>`` of the output,
written to a temporary name and renamed, so a shard on disk is always whole. A rerun of the same job skips the
shards already there: a killed job resumes where it stopped, with no row lost or written twice. With an output
file (``scored.csv``) the shards are appended to it as they are written, and it is renamed into place at the
end; with an output folder they are the output.
While the model scores one chunk, the next are prepared (checked, normalised, tokenised): by a thread, or on a
GPU by forked worker processes, since that work holds Python's lock and one thread cannot keep a GPU busy; the
input is then parsed by a process of its own too, as the main process's time is what bounds the job. On a GPU
the model also runs in a thread of its own, so that the GPU does not wait while a chunk's output is built.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import pickle
import sys
import threading
import time
import weakref
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty, Full, Queue

import numpy as np
import pandas as pd

from .files import (
    FALLBACK_ENCODING,
    TEXT_COLUMN_GUESSES,
    compression_of,
    field_at,
    file_format,
    guess_text_column,
    input_files,
    read_chunks,
    text_encoding,
)
from .labels import SENTIMENTS
from .predict import PreparedBatch, ScoredBatch, Scorer, as_scorer, prepare_batch, score_prepared
from .preprocess import STATUS_DECODE_ERROR
from .shards import OutputAssembly, check_manifest, count_rows, write_atomically

OUTPUT_COLUMNS = ("sentiment", "score", "score_low", "score_high", *(f"p_{s}" for s in SENTIMENTS), "status", "model",
                  "model_version")


def column_values(frame: pd.DataFrame, column: str) -> list[object]:
    """A column's cells; or, for a dotted name that is not a column (``review.text``), that field of the objects
    in the column its first part names (nested JSON, a Parquet struct), missing where a row has none."""
    cells = column_cells(frame, column)
    return cells.tolist() if isinstance(cells, pd.Series) else cells


def column_cells(frame: pd.DataFrame, column: str) -> pd.Series | list[object]:
    """``column_values``, but a column as it is, to send to a worker process: pandas' Arrow-backed text pickles as
    its buffers, ~4 µs per dev review against 18-23 to make Python strings of it and pickle those
    (benchmarks/cpu_side.py); the worker makes the strings."""
    if column in frame.columns:
        return frame[column]
    top, _, path = column.partition(".")
    return [field_at(cell, path) for cell in frame[top].tolist()]


def add_predictions(frame: pd.DataFrame, scorer: Scorer, scored: ScoredBatch) -> pd.DataFrame:
    """The frame with the prediction columns of ``scorer`` added; every row kept, unscorable ones flagged in
    ``status``."""
    out = frame.rename(columns=kept_input_names(frame.columns))
    out["sentiment"] = scored.sentiments
    out["score"] = scored.scores
    intervals = np.full((len(out), 2), np.nan) if scored.intervals is None else scored.intervals
    out["score_low"], out["score_high"] = intervals[:, 0], intervals[:, 1]
    for label, probabilities in zip(SENTIMENTS, scored.probabilities.T):
        out[f"p_{label}"] = probabilities
    out["status"] = scored.statuses
    out["model"] = scorer.name
    out["model_version"] = scorer.version
    return out


def kept_input_names(columns: Iterable) -> dict[str, str]:
    """New names for the input columns that a prediction column would overwrite (``score`` → ``input_score``):
    scraped files often hold the reviewer's own score or a site's sentiment label, and no input cell is lost."""
    taken = set(columns)
    renamed = {}
    for name in columns:
        if name in OUTPUT_COLUMNS:
            kept = f"input_{name}"
            while kept in taken:
                kept = f"input_{kept}"
            renamed[name] = kept
            taken.add(kept)
    return renamed


@dataclass
class JobSummary:
    rows: int
    """Rows in the output, the shards of earlier runs included."""
    scored: int
    """Rows scored by this run."""
    shards: int
    skipped_shards: int
    seconds: float
    output: Path
    statuses: dict[str, int] = field(default_factory=dict)
    """Rows of this run per ``status``, most frequent first."""
    sentiments: dict[str, int] = field(default_factory=dict)
    """Rows of this run per predicted ``sentiment``, most frequent first."""
    mean_score: float | None = None
    """The mean predicted score of this run's rows, where there is one."""


class Progress:
    """A tqdm bar with rows/s and ETA on a terminal; otherwise a plain log line every ``every`` seconds."""

    def __init__(self, files: int, enabled: bool = True, every: float = 30.0) -> None:
        self.files, self.enabled, self.every = files, enabled, every
        self.rows, self.started, self.last_line = 0, time.time(), 0.0
        self.resumed_at = 0.0
        """Where the shards of an earlier run end: the rate and ETA count the work of this run only."""
        self.bar = None
        if enabled and sys.stderr.isatty():
            from tqdm.auto import tqdm

            self.bar = tqdm(total=100 * files, unit="%", bar_format="{l_bar}{bar}| {elapsed}<{remaining}{postfix}")

    def update(self, rows: int, file_index: int, share: float) -> None:
        self.rows += rows
        done = 100 * (file_index + share)
        if not self.rows:  # only shards of an earlier run so far: this run's clock starts here
            self.resumed_at, self.started = done, time.time()
            if self.bar is not None:
                self.bar.initial, self.bar.start_t = done, self.started
        elapsed = time.time() - self.started
        rate = self.rows / max(elapsed, 1e-9)
        if self.bar is not None:
            self.bar.n = done
            self.bar.set_postfix_str(f"{self.rows:,} rows, {rate:,.0f} rows/s")
        elif self.enabled and (time.time() - self.last_line >= self.every):
            self.last_line = time.time()
            progressed, remaining = done - self.resumed_at, 100 * self.files - done
            if remaining <= 0:
                eta = "0 s"
            elif progressed:
                eta = f"{elapsed * remaining / progressed:,.0f} s"
            else:
                eta = "unknown"
            print(f"sentiscore: {self.rows:,} rows, {done / self.files:.1f} % of the input, "
                  f"{rate:,.0f} rows/s, ETA {eta}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


@dataclass
class Chunk:
    """One chunk of the input on its way to becoming the shard ``shard``; ``frame`` is None when an earlier run
    already wrote that shard."""

    shard: Path
    frame: pd.DataFrame | None
    text_column: str | None
    id_column: str | None
    file_index: int
    share: float
    unreadable: list[int] = field(default_factory=list)
    """Rows whose record could not be read (see ``record_frames``)."""


class ChunkScorer:
    """Scores chunks with one copy of a model: used in-process, and as a Ray actor (one per model copy)."""

    def __init__(self, model: str | Path | Scorer | None = None, device: str = "auto") -> None:
        self.scorer = as_scorer(model, device)

    def prepare_texts(self, texts: list[object]) -> PreparedBatch:
        return prepare_batch(self.scorer, texts)

    def score(self, batch: PreparedBatch) -> ScoredBatch:
        return score_prepared(self.scorer, batch, progress=False)

    def finish(self, frame: pd.DataFrame, scored: ScoredBatch, id_column: str | None) -> pd.DataFrame:
        if id_column in frame.columns:
            frame = frame[[id_column]]
        elif id_column:  # a field of nested records ("user.id"), under the name it was asked by
            frame = pd.DataFrame({id_column: pd.Series(column_values(frame, id_column), index=frame.index,
                                                       dtype=object)})
        return add_predictions(frame, self.scorer, scored)

    def __call__(self, frame: pd.DataFrame, text_column: str = "text", id_column: str | None = None) -> pd.DataFrame:
        return self.finish(frame, self.score(self.prepare_texts(column_values(frame, text_column))), id_column)


def score_frame(frame: pd.DataFrame, text_column: str | None = None, *, model: str | Path | Scorer | None = None,
                device: str = "auto", progress: bool = True) -> pd.DataFrame:
    """A table in memory (a notebook's DataFrame) with the columns that ``sentiscore score`` adds, its index
    kept; files of any size go through ``score_file``. ``text_column`` is guessed as ``score`` guesses it."""
    scorer = as_scorer(model, device)
    texts = column_values(frame, text_column or guess_text_column(frame))
    return add_predictions(frame, scorer, score_prepared(scorer, prepare_batch(scorer, texts), progress))


def scored_locally(chunks: Iterator[Chunk], scorer: ChunkScorer, workers: int = 0,
                   model_thread: bool = False) -> Iterator[tuple[Chunk, pd.DataFrame | None]]:
    """Chunks scored in this process, in order, while the next ones are prepared: by one thread, or by
    ``workers`` forked processes (where the platform can fork), each holding a copy of the model's CPU half.

    With ``model_thread`` the model runs in a thread of its own, one chunk ahead of this one, which meanwhile
    builds the previous chunk's output and hands it on: a GPU then waits only for the model's own launches, not
    for that work between chunks (torch lets go of Python's lock while its operations run). On a CPU, where the
    model keeps every core busy, it was 3–4 % slower (60 dev reviews, 2 cores: 5.97 and 6.28 reviews/s with it,
    6.24 and 6.46 without; benchmarks/throughput.py --compare-model-thread)."""
    forking = forks_workers(workers)
    pool = _forked_pool(scorer, workers) if forking else ThreadPoolExecutor(max_workers=1)
    prepare, cells = (_prepare_in_worker, column_cells) if forking else (scorer.prepare_texts, column_values)
    runner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sentiscore-model") if model_thread else None
    in_flight = max(workers, 1) + (1 if model_thread else 0)
    pending: deque[tuple[Chunk, Future | None]] = deque()
    with pool, runner or contextlib.nullcontext():
        for chunk in chunks:
            work = None
            if chunk.frame is not None:
                work = pool.submit(prepare, cells(chunk.frame, chunk.text_column))
                if runner is not None:
                    work = runner.submit(_score_when_prepared, scorer, work)
            pending.append((chunk, work))
            while len(pending) > in_flight:
                yield _finish(scorer, *pending.popleft(), scored_already=model_thread)
        while pending:
            yield _finish(scorer, *pending.popleft(), scored_already=model_thread)


def _score_when_prepared(scorer: ChunkScorer, prepared: Future) -> ScoredBatch:
    return scorer.score(prepared.result())


def _finish(scorer: ChunkScorer, chunk: Chunk, work: Future | None,
            scored_already: bool) -> tuple[Chunk, pd.DataFrame | None]:
    """The chunk's output from its work: a scored batch (model thread) or a prepared one, scored here."""
    if work is None:
        return chunk, None
    scored = work.result() if scored_already else scorer.score(work.result())
    return chunk, scorer.finish(chunk.frame, scored, chunk.id_column)


_worker_scorer: ChunkScorer | None = None


def _forked_pool(scorer: ChunkScorer, workers: int) -> Executor:
    """Worker processes forked from this one, so that they share the loaded model instead of loading it again
    (a forked child gets ``initargs`` as they are, unpickled). They fork at once, before the threads that read
    and write chunks start."""
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"), initializer=_start_worker,
                               initargs=(scorer,))
    pool.submit(int).result()
    return pool


def _start_worker(scorer: ChunkScorer) -> None:
    global _worker_scorer
    _worker_scorer = scorer
    # One text at a time in each worker: the workers are the parallelism, the tokenizer's threads would oversubscribe.
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """A job killed outright (SIGKILL, OOM killer) leaves its workers waiting for work forever; they look once a
    second whether their parent is still there."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _prepare_in_worker(cells: pd.Series | list[object]) -> PreparedBatch:
    return _worker_scorer.prepare_texts(cells.tolist() if isinstance(cells, pd.Series) else cells)


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def forks_workers(workers: int) -> bool:
    """Whether ``workers`` worker processes prepare the texts (forked, where the platform can fork), rather than
    a thread."""
    return workers > 0 and can_fork()


def ray_started() -> bool:
    """Whether this process is a Ray driver already (without importing Ray)."""
    ray = sys.modules.get("ray")
    return ray is not None and ray.is_initialized()


_END = object()


def read_ahead(items: Iterator, depth: int = 2) -> Iterator:
    """``items`` produced by a thread, up to ``depth`` ahead: the next chunks are read and parsed while this thread
    runs the model (the parsers let go of Python's lock for much of their work). An error there is raised here."""
    queue: Queue = Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
        except Exception as error:  # handed to the consumer, which raises it
            put((_END, error))
        else:
            put((_END, None))

    threading.Thread(target=produce, daemon=True, name="sentiscore-reader").start()
    try:
        while True:
            item, error = queue.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item
    finally:
        stop.set()


def read_in_process(items: Iterator) -> Iterator:
    """``items`` produced by a forked process, up to two ahead, for a main process whose own time is what bounds the job
    (a GPU's, fed by worker processes; a Ray cluster's driver): parsing a CSV took it 26–85 µs per dev review, taking
    the parsed chunk from a pipe takes it 1–4 (benchmarks/cpu_side.py). The process forks now, before the job's
    threads start; it stops when the items end, when they are no longer wanted, and when this process dies. An error
    there is raised here."""
    fork = multiprocessing.get_context("fork")
    queue = fork.Queue(maxsize=2)
    reader = fork.Process(target=_produce_into, args=(queue, items), daemon=True, name="sentiscore-reader")
    reader.start()
    taken = _taken_from(queue, reader)
    weakref.finalize(taken, _stop, reader)  # also where the items were never asked for
    return taken


def _stop(reader) -> None:
    reader.terminate()
    reader.join()


def _produce_into(queue, items: Iterator) -> None:
    """Puts ``(True, item)`` for each item, then ``(False, None)``, or ``(False, error)`` where one stopped them."""
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    try:
        for item in items:
            queue.put((True, item))
    except Exception as error:
        try:
            pickle.dumps(error)
        except Exception:
            error = RuntimeError(f"{type(error).__name__}: {error}")
        queue.put((False, error))
    else:
        queue.put((False, None))
    queue.close()
    queue.join_thread()


def _taken_from(queue, reader) -> Iterator:
    try:
        while True:
            try:
                more, item = queue.get(timeout=1.0)
            except Empty:
                if not reader.is_alive():
                    raise RuntimeError(f"the process reading the input stopped (exit code {reader.exitcode})") \
                        from None
                continue
            if more:
                yield item
            elif item is None:
                return
            else:
                raise item
    finally:
        _stop(reader)


def runs_on_gpu(scorer: Scorer) -> bool:
    """Asks the loaded model, so that a lexical model never imports torch (180 MB)."""
    members = getattr(scorer, "members", [scorer])
    return any(getattr(getattr(member, "device", None), "type", None) == "cuda" for member in members)


def default_workers(scorer: Scorer) -> int:
    """Processes that prepare texts: where the model runs on a GPU, enough to keep it fed, leaving cores to this
    process; on a CPU none (one thread), since the model itself uses every core."""
    return min(8, max(1, (os.cpu_count() or 1) - 2)) if runs_on_gpu(scorer) else 0


def scored_on_ray(chunks: Iterator[Chunk], model: str | Path | None, *, address: str | None, actors: int,
                  gpus_per_actor: float, device: str) -> Iterator[tuple[Chunk, pd.DataFrame | None]]:
    """Chunks scored by a pool of Ray actors, each holding one copy of the model; results come back in order."""
    import ray
    from ray.util import ActorPool

    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    remote = ray.remote(num_gpus=gpus_per_actor)(ChunkScorer)
    pool = ActorPool([remote.remote(None if model is None else str(model), device) for _ in range(actors)])
    pending: deque[tuple[Chunk, bool]] = deque()
    for chunk in chunks:
        if chunk.frame is not None:
            pool.submit(lambda actor, c: actor.__call__.remote(c.frame, c.text_column, c.id_column), chunk)
        pending.append((chunk, chunk.frame is not None))
        while len(pending) > 2 * actors:
            yield _next_in_order(pending, pool)
    while pending:
        yield _next_in_order(pending, pool)


def _next_in_order(pending, pool) -> tuple[Chunk, pd.DataFrame | None]:
    chunk, submitted = pending.popleft()
    return chunk, pool.get_next() if submitted else None


def file_frames(files: list[Path], chunk_rows: int, progress: bool = True) -> Iterator[tuple[int, pd.DataFrame, float]]:
    """The files' chunks in order, each with its file's index and the share of that file read so far."""
    for file_index, path in enumerate(files):
        encoding = None if file_format(path) == "parquet" else text_encoding(path)
        if progress and encoding == FALLBACK_ENCODING:
            print(f"sentiscore: {path} is not UTF-8: read as {FALLBACK_ENCODING}", file=sys.stderr)
        for frame, share in read_chunks(path, chunk_rows, encoding):
            yield file_index, frame, share


def score_file(input_spec: str | Path, output: str | Path, *, model: str | Path | Scorer | None = None,
               text_column: str | None = None, id_column: str | None = None, chunk_rows: int = 2_000,
               progress: bool = True, engine: str = "local", address: str | None = None, actors: int = 1,
               gpus_per_actor: float = 0.0, device: str = "auto", workers: int | None = None,
               model_thread: bool | None = None) -> JobSummary:
    """Score every row of the input into ``output`` (a file: format from its extension; or a folder of shards
    in the input's format), resuming a job that was stopped. With ``id_column`` the output holds that column
    and the predictions only, not the reviews again. ``engine="ray"`` scores on a Ray cluster (``address``;
    None starts a local one) with ``actors`` copies of the model; the rows come out the same. ``workers``: processes
    that prepare the texts for the local engine (None: ``default_workers``; 0: a thread); ``model_thread``: see
    ``scored_locally`` (None: where the model runs on a GPU)."""
    for name, value in (("chunk_rows (--batch-size)", chunk_rows), ("actors", actors)):
        if value < 1:
            raise ValueError(f"{name} must be 1 or more, not {value}")
    to_folder = str(output).endswith(("/", os.sep)) or Path(output).is_dir() or not Path(output).suffix
    output = Path(output)
    if not to_folder and file_format(output) == "parquet" and compression_of(output):
        raise ValueError(f"{output}: Parquet compresses its own columns; name the output .parquet")
    files = input_files(input_spec)
    if to_folder:  # an output folder inside the input folder: its shards are not input
        files = [path for path in files if output.resolve() not in path.resolve().parents]
        if not files:
            raise ValueError(f"{output} holds the input: write the predictions to another folder")
    if any(output.resolve() == path.resolve() for path in files):
        raise ValueError(f"{output} is the input: write the predictions to another file")
    shard_format = file_format(files[0]) if to_folder else file_format(output)
    parts = output if to_folder else output.with_name(output.name + ".parts")
    if engine == "ray":
        if not (model is None or isinstance(model, (str, Path))):
            raise ValueError("the ray engine takes a model name or folder, which every actor loads itself")
        from .predict import resolve_model_path

        config = json.loads(_model_config(resolve_model_path(model)))
        identity = (config["name"], config["version"])
    else:
        local = ChunkScorer(model, device)
        identity = (local.scorer.name, local.scorer.version)
    parts.mkdir(parents=True, exist_ok=True)
    check_manifest(parts, files, chunk_rows, [text_column, id_column], identity)

    announced: set[str] = set()
    guesses_told: set[str] = set()

    def chunks(frames: Iterator[tuple[int, pd.DataFrame, float]]) -> Iterator[Chunk]:
        index, column, column_of = 0, text_column, None
        for file_index, frame, share in frames:
            path = files[file_index]
            if column_of != file_index:
                column, column_of = text_column, file_index
            shard = parts / f"part-{index:06d}.{shard_format}"
            index += 1
            # Guessed once per file, from its first chunk with columns, even one whose shard an earlier
            # run wrote: a resumed job reads the column the first run read.
            if column is None and len(frame.columns):
                column = guess_text_column(frame)
                if progress and str(column).lower() not in TEXT_COLUMN_GUESSES and column not in guesses_told:
                    guesses_told.add(column)
                    print(f"sentiscore: the reviews are read from column {column!r} (else name it with "
                          f"--text-column)", file=sys.stderr)
            if shard.exists():
                yield Chunk(shard, None, None, None, file_index, share)
                continue
            unreadable = frame.attrs.get("unreadable", [])
            chunk_column = column or "text"  # None only while no chunk had columns to guess from
            if len(unreadable) == len(frame):  # not one record to take the columns from
                frame = frame.assign(**{name: None for name in (chunk_column, id_column) if name})
            renamed = kept_input_names(frame.columns if id_column is None else [id_column])
            if progress and renamed.keys() - announced:
                announced.update(renamed)
                print("sentiscore: input columns kept as " +
                      ", ".join(f"{name} → {kept}" for name, kept in renamed.items()) +
                      ": the predictions take their names", file=sys.stderr)
            for name in filter(None, (chunk_column, id_column)):
                if name not in frame.columns and name.split(".")[0] not in frame.columns:
                    raise ValueError(f"no column {name!r} in {path}; its columns: {list(frame.columns)}")
            yield Chunk(shard, frame, chunk_column, id_column, file_index, share, unreadable)

    frames = file_frames(files, chunk_rows, progress)
    if engine == "ray":
        # The driver's own time bounds a cluster as the main process's bounds a GPU; it can fork a reader
        # only before Ray starts its threads in it.
        if can_fork() and not ray_started():
            frames = read_in_process(frames)
        results = scored_on_ray(read_ahead(chunks(frames)), model, address=address, actors=actors,
                                gpus_per_actor=gpus_per_actor, device=device)
    elif engine == "local":
        workers = default_workers(local.scorer) if workers is None else workers
        if forks_workers(workers):  # the main process's time is then what bounds the job
            frames = read_in_process(frames)
        results = scored_locally(read_ahead(chunks(frames)), local, workers,
                                 runs_on_gpu(local.scorer) if model_thread is None else model_thread)
    else:
        raise ValueError(f"engine must be local or ray, not {engine!r}")

    started, shards, skipped, rows, statuses, sentiments = time.time(), 0, 0, 0, Counter(), Counter()
    score_sum, score_count = 0.0, 0
    meter = Progress(len(files), progress)
    assembly = None if to_folder else OutputAssembly(parts, output, shard_format)

    def write(scored: pd.DataFrame, shard: Path) -> None:
        table = write_atomically(scored, shard, shard_format)
        if assembly is not None:
            assembly.append(shard, len(scored), table)

    try:
        # Shards are written, and appended to the output file, by a thread while the model scores the next
        # chunk; at most two wait to be written.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sentiscore-writer") as writer:
            writes: deque[Future] = deque()
            for chunk, scored in results:
                shards += 1
                if scored is None:
                    skipped += 1
                    if assembly is not None:
                        writes.append(writer.submit(assembly.append, chunk.shard))
                else:
                    if chunk.unreadable:
                        scored.iloc[chunk.unreadable, scored.columns.get_loc("status")] = STATUS_DECODE_ERROR
                    writes.append(writer.submit(write, scored, chunk.shard))
                    rows += len(scored)
                    statuses.update(scored["status"].value_counts().to_dict())
                    sentiments.update(scored["sentiment"].value_counts().to_dict())
                    score_sum, score_count = score_sum + scored["score"].sum(), score_count + scored["score"].count()
                while writes and (writes[0].done() or len(writes) > 2):
                    writes.popleft().result()
                meter.update(0 if scored is None else len(scored), chunk.file_index, chunk.share)
            for pending_write in writes:
                pending_write.result()
        if shards == 0:
            raise ValueError(f"{input_spec} holds no rows")
    except BaseException:
        if assembly is not None:
            assembly.discard()
        raise
    finally:
        meter.close()
    if to_folder:
        total = sum(count_rows(shard, shard_format) for shard in parts.glob(f"part-*.{shard_format}"))
    else:
        total = assembly.finish()
    return JobSummary(total, rows, shards, skipped, time.time() - started, output, dict(statuses.most_common()),
                      dict(sentiments.most_common()), float(score_sum / score_count) if score_count else None)


def _model_config(path: Path) -> str:
    from . import ensemble, lite, model

    for name in (model.CONFIG_FILE, lite.CONFIG_FILE, ensemble.CONFIG_FILE):
        if (path / name).is_file():
            return (path / name).read_text()
    raise FileNotFoundError(f"{path} holds no sentiscore model")


def score_dataset(dataset, *, model: str | Path | None = None, text_column: str = "text",
                  id_column: str | None = None, batch_size: int = 2_000, actors: int = 1,
                  gpus_per_actor: float = 0.0, device: str = "auto"):
    """Add sentiscore's prediction columns to a ``ray.data.Dataset`` inside an existing Ray pipeline.

    Each of ``actors`` Ray actors loads one copy of the model (by shipped name or folder: every node needs
    sentiscore installed) and scores pandas batches of ``batch_size`` rows; an input column named like a
    prediction column is kept under a new name (``kept_input_names``)::

        import ray
        from sentiscore.batch import score_dataset

        reviews = ray.data.read_parquet("s3://bucket/reviews/")
        score_dataset(reviews, text_column="review", actors=8, gpus_per_actor=1).write_parquet("s3://bucket/out/")
    """
    return dataset.map_batches(
        ChunkScorer, fn_constructor_kwargs={"model": None if model is None else str(model), "device": device},
        fn_kwargs={"text_column": text_column, "id_column": id_column}, batch_format="pandas",
        batch_size=batch_size, concurrency=actors, num_gpus=gpus_per_actor)
