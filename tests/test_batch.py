"""Batch scoring of files: formats, shards, resuming after a real kill."""

import gc
import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sentiscore import files
from sentiscore.batch import OUTPUT_COLUMNS, score_file, score_frame
from sentiscore.cli import main
from sentiscore.files import input_files
from sentiscore.shards import arrow_table
from tests.conftest import NEGATIVE, POSITIVE, ROOT

GOOD = "Отличный фильм, пересмотрю ещё не раз"
BAD = "Ужасно скучно и затянуто, зря потратил два часа. Актёры играют отвратительно, сюжет глупый."


def reviews_frame(rows: int) -> pd.DataFrame:
    """Real-looking reviews: fixture sentences combined, a few empty or foreign cells among them."""
    sentences = [text for _, text, _ in POSITIVE + NEGATIVE]
    texts = [" ".join(sentences[(i * 7 + k) % len(sentences)] for k in range(1 + i % 3)) for i in range(rows)]
    for i in range(0, rows, 97):
        texts[i] = ""
    for i in range(5, rows, 211):
        texts[i] = "Great film, would watch again."
    return pd.DataFrame({"review_id": [f"r{i:06d}" for i in range(rows)], "text": texts, "stars": "—"})


@pytest.mark.parametrize("output_suffix", ["csv", "jsonl", "parquet", "tsv", "csv.gz", "jsonl.zst", "csv.bz2",
                                           "tsv.xz"])
def test_every_row_comes_out_in_order(tmp_path, output_suffix):
    source = tmp_path / "reviews.csv"
    frame = pd.DataFrame({"id": ["007", "8", "9", "10", "11", "12", "13"],
                          "review": [GOOD, BAD, "", "Нормально, но без восторга", None, GOOD, BAD], "site": "t"})
    frame.to_csv(source, index=False)
    output = tmp_path / f"scored.{output_suffix}"
    summary = score_file(source, output, model="sentiscore-lite", chunk_rows=3, progress=False)
    assert (summary.rows, summary.shards) == (7, 3)
    if output_suffix.startswith("parquet"):
        scored = pd.read_parquet(output)
    elif output_suffix.startswith("jsonl"):
        scored = pd.read_json(output, lines=True, dtype=False)
    else:
        scored = pd.read_csv(output, sep="\t" if output_suffix.startswith("tsv") else ",", dtype=str)
    assert list(scored["id"]) == ["007", "8", "9", "10", "11", "12", "13"]  # CSV cells are kept as text
    assert list(scored.columns) == ["id", "review", "site", *OUTPUT_COLUMNS]
    assert list(scored["status"]) == ["ok", "ok", "empty", "ok", "empty", "ok", "ok"]
    assert list(scored["sentiment"].iloc[[0, 1]]) == ["positive", "negative"]
    assert not output.with_name(output.name + ".parts").exists()


def test_a_gzip_output_names_itself_not_its_temporary_file(tmp_path):
    source = tmp_path / "reviews.csv"
    pd.DataFrame({"text": [GOOD, BAD]}).to_csv(source, index=False)
    score_file(source, tmp_path / "scored.csv.gz", model="sentiscore-lite", progress=False)
    header = (tmp_path / "scored.csv.gz").read_bytes()[:64]
    assert b"scored.csv\x00" in header  # what gunzip -N restores
    assert b"tmp" not in header


def test_a_compressed_parquet_output_is_refused_before_scoring(tmp_path):
    source = tmp_path / "reviews.csv"
    pd.DataFrame({"text": [GOOD, BAD]}).to_csv(source, index=False)
    with pytest.raises(ValueError, match="Parquet compresses"):
        score_file(source, tmp_path / "scored.parquet.gz", model="sentiscore-lite", progress=False)
    assert list(tmp_path.iterdir()) == [source]


def test_an_output_named_with_a_trailing_separator_is_a_folder(tmp_path):
    source = tmp_path / "reviews.csv"
    pd.DataFrame({"text": [GOOD, BAD]}).to_csv(source, index=False)
    summary = score_file(source, f"{tmp_path / 'scored.v2'}{os.sep}", model="sentiscore-lite", progress=False)
    assert summary.rows == 2
    assert [p.name for p in (tmp_path / "scored.v2").glob("part-*")] == ["part-000000.csv"]


def test_input_columns_named_like_predictions_are_kept_under_new_names(tmp_path, capsys):
    source = tmp_path / "scraped.jsonl"
    rows = [{"text": GOOD, "score": 9, "sentiment": "good", "input_score": "site"},
            {"text": BAD, "score": 2, "sentiment": "bad", "input_score": "site"}]
    source.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    score_file(source, tmp_path / "scored.jsonl", model="sentiscore-lite")
    scored = pd.read_json(tmp_path / "scored.jsonl", lines=True)
    # "input_score" was taken by the input, so its "score" moves one name further; no other column moves
    assert list(scored.columns) == ["text", "input_input_score", "input_sentiment", "input_score", *OUTPUT_COLUMNS]
    assert list(scored["input_input_score"]) == [9, 2] and list(scored["input_sentiment"]) == ["good", "bad"]
    assert list(scored["input_score"]) == ["site", "site"]
    assert list(scored["sentiment"]) == ["positive", "negative"]
    assert "sentiment → input_sentiment" in capsys.readouterr().err


def test_a_frame_in_memory_gets_the_same_columns_and_keeps_its_index(tmp_path):
    frame = pd.DataFrame({"отзыв": [GOOD, "", BAD], "score": [9, None, 2]}, index=[10, 20, 30])
    scored = score_frame(frame, model="sentiscore-lite", progress=False)  # the Russian column name is guessed
    assert list(scored.index) == [10, 20, 30]
    assert list(scored.columns) == ["отзыв", "input_score", *OUTPUT_COLUMNS]
    assert list(scored["sentiment"].fillna("-")) == ["positive", "-", "negative"]
    assert list(scored["status"]) == ["ok", "empty", "ok"]
    source = tmp_path / "reviews.parquet"
    frame.to_parquet(source)
    score_file(source, tmp_path / "scored.parquet", model="sentiscore-lite", progress=False)
    from_file = pd.read_parquet(tmp_path / "scored.parquet")
    pd.testing.assert_frame_equal(from_file.reset_index(drop=True), scored.reset_index(drop=True))


def test_glob_of_shards_to_a_folder_with_ids_only(tmp_path):
    frame = reviews_frame(50)
    (tmp_path / "in").mkdir()
    frame.iloc[:20].to_json(tmp_path / "in" / "a.jsonl", orient="records", lines=True, force_ascii=False)
    frame.iloc[20:].to_parquet(tmp_path / "in" / "b.parquet")
    (tmp_path / "in" / "notes.txt").write_text("not reviews")
    assert [p.name for p in input_files(tmp_path / "in")] == ["a.jsonl", "b.parquet"]
    assert [p.name for p in input_files(str(tmp_path / "in" / "*.jsonl"))] == ["a.jsonl"]
    summary = score_file(tmp_path / "in", tmp_path / "out", model="sentiscore-lite", id_column="review_id",
                         chunk_rows=16, progress=False)
    assert summary.rows == 50
    shards = sorted((tmp_path / "out").glob("part-*.jsonl"))
    scored = pd.concat([pd.read_json(s, lines=True) for s in shards])
    assert list(scored["review_id"]) == list(frame["review_id"])
    assert list(scored.columns) == ["review_id", *OUTPUT_COLUMNS]


def test_a_partitioned_folder_is_read_whole_and_an_output_inside_it_is_not_input(tmp_path):
    frame = reviews_frame(30)
    for number, day in enumerate(["day=01", "day=02", "day=03"]):
        (tmp_path / "dump" / day).mkdir(parents=True)
        frame.iloc[10 * number:10 * (number + 1)].to_parquet(tmp_path / "dump" / day / "part-0.parquet")
    (tmp_path / "dump" / ".cache").mkdir()
    frame.to_parquet(tmp_path / "dump" / ".cache" / "copy.parquet")
    assert len(input_files(str(tmp_path / "dump" / "**" / "*.parquet"))) == 3
    output = tmp_path / "dump" / "scored"
    for run in range(2):  # the second run finds the first one's shards inside the input folder
        summary = score_file(tmp_path / "dump", output, model="sentiscore-lite", id_column="review_id",
                             chunk_rows=10, progress=False)
        assert (summary.rows, summary.skipped_shards) == (30, 3 * run)
    scored = pd.concat(pd.read_parquet(shard) for shard in sorted(output.glob("part-*.parquet")))
    assert list(scored["review_id"]) == list(frame["review_id"])
    with pytest.raises(ValueError, match="holds the input"):
        score_file(tmp_path / "dump" / "day=01", tmp_path / "dump" / "day=01", model="sentiscore-lite")


def test_shards_of_another_job_are_refused(tmp_path):
    source = tmp_path / "reviews.csv"
    reviews_frame(10).to_csv(source, index=False)
    parts = tmp_path / "scored.csv.parts"
    parts.mkdir()
    (parts / "manifest.json").write_text(json.dumps({"inputs": [], "chunk_rows": 1}))
    (parts / "part-000000.csv").write_text("text\nОтличный фильм\n")
    with pytest.raises(ValueError, match="another job"):
        score_file(source, tmp_path / "scored.csv", model="sentiscore-lite", progress=False)


def test_a_job_stopped_before_its_first_shard_binds_nothing(tmp_path):
    source = tmp_path / "reviews.csv"
    reviews_frame(10).to_csv(source, index=False)
    with pytest.raises(ValueError, match="must be 1 or more, not 0"):
        score_file(source, tmp_path / "scored.csv", model="sentiscore-lite", chunk_rows=0, progress=False)
    (tmp_path / "scored.csv.parts").mkdir()
    (tmp_path / "scored.csv.parts" / "manifest.json").write_text(json.dumps({"inputs": [], "chunk_rows": 1}))
    assert score_file(source, tmp_path / "scored.csv", model="sentiscore-lite", progress=False).rows == 10


def test_no_text_column_is_a_clear_error(tmp_path):
    source = tmp_path / "reviews.csv"
    pd.DataFrame({"a": ["x"], "b": ["y"]}).to_csv(source, index=False)
    with pytest.raises(ValueError, match="--text-column"):
        score_file(source, tmp_path / "o.csv", model="sentiscore-lite", progress=False)
    # named like a review column, but holding ids: not taken for the reviews
    pd.DataFrame({"review_id": ["r000001", "r000002"], "stars": ["5", "1"]}).to_csv(source, index=False)
    with pytest.raises(ValueError, match="no text column among \\['review_id', 'stars'\\]"):
        score_file(source, tmp_path / "o.csv", model="sentiscore-lite", progress=False)


def test_a_column_named_in_part_like_reviews_is_found_and_said(tmp_path, capsys):
    source = tmp_path / "scraped.csv"
    pd.DataFrame({"review_id": ["r1", "r2", "r3"], "review_title": ["Шедевр", "Провал", "Хорошо"],
                  "review_text": [GOOD, BAD, "Скучно, затянуто, актёры играют плохо, не советую"]}).to_csv(
        source, index=False)
    score_file(source, tmp_path / "scored.csv", model="sentiscore-lite", chunk_rows=2)
    scored = pd.read_csv(tmp_path / "scored.csv")
    assert list(scored["sentiment"]) == ["positive", "negative", "negative"]
    assert capsys.readouterr().err.count("the reviews are read from column 'review_text'") == 1
    frame = pd.DataFrame({"Текст отзыва": [GOOD, BAD], "Оценка": ["5", "1"]})
    assert list(score_frame(frame, model="sentiscore-lite", progress=False)["sentiment"]) == ["positive", "negative"]


def test_an_empty_file_and_an_output_over_the_input_are_clear_errors(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="holds no rows"):
        score_file(empty, tmp_path / "o.csv", model="sentiscore-lite", progress=False)
    source = tmp_path / "reviews.csv"
    reviews_frame(5).to_csv(source, index=False)
    with pytest.raises(ValueError, match="is the input"):
        score_file(source, source, model="sentiscore-lite", progress=False)
    assert len(pd.read_csv(source)) == 5


def children_of(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_killed_job_resumes_without_lost_or_repeated_rows(tmp_path, workers):
    rows = 6000
    source = tmp_path / "reviews.csv"
    reviews_frame(rows).to_csv(source, index=False)
    command = [sys.executable, "-m", "sentiscore.cli", "score", str(source), "-o", str(tmp_path / "scored.csv"),
               "--model", "sentiscore-lite", "--batch-size", "100", "--workers", workers]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    job = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    parts = tmp_path / "scored.csv.parts"
    deadline = time.time() + 120
    while len(list(parts.glob("part-*.csv"))) < 5 and time.time() < deadline and job.poll() is None:
        time.sleep(0.05)
    workers_left = children_of(job.pid) if Path("/proc").is_dir() else []
    job.send_signal(signal.SIGKILL)
    job.wait()
    # With workers, a process of its own reads the input.
    assert len(workers_left) == int(workers) + (workers != "0") or not Path("/proc").is_dir()
    deadline = time.time() + 10
    while any(map(alive, workers_left)) and time.time() < deadline:
        time.sleep(0.1)
    assert not any(map(alive, workers_left)), "worker and reader processes must not outlive a killed job"
    done_before = sorted(p.name for p in parts.glob("part-*.csv"))
    assert 5 <= len(done_before) < rows // 100, "the kill must land mid-job"
    assert not (tmp_path / "scored.csv").exists()

    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert f"{len(done_before)} of {rows // 100} shards done by an earlier run" in finished.stderr
    scored = pd.read_csv(tmp_path / "scored.csv", dtype=str, keep_default_na=False)
    assert len(scored) == rows
    assert list(scored["review_id"]) == [f"r{i:06d}" for i in range(rows)]

    fresh = tmp_path / "fresh.csv"
    score_file(source, fresh, model="sentiscore-lite", chunk_rows=100, progress=False)
    pd.testing.assert_frame_equal(scored, pd.read_csv(fresh, dtype=str, keep_default_na=False))


def score_command(source: Path, output: Path, model: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sentiscore.cli", "score", str(source), "-o", str(output),
                           "--model", model, *extra],
                          env={**os.environ, "PYTHONPATH": str(ROOT / "src")}, capture_output=True, text=True)


def test_log_lines_when_not_a_terminal(tmp_path):
    source = tmp_path / "reviews.csv"
    reviews_frame(30).to_csv(source, index=False)
    done = score_command(source, tmp_path / "o.parquet", "sentiscore-lite")
    assert done.returncode == 0
    assert "rows/s" in done.stderr and "30 rows scored" in done.stderr and "\r" not in done.stderr
    quiet = score_command(source, tmp_path / "q.parquet", "sentiscore-lite", "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert Path(tmp_path / "q.parquet").exists()


@pytest.fixture(scope="module")
def tiny_transformer(tiny_base, tmp_path_factory) -> Path:
    from sentiscore.model import ModelConfig, ReviewModel

    folder = tmp_path_factory.mktemp("tiny_transformer")
    ReviewModel.from_base(tiny_base, ModelConfig(name="tiny", window=34)).save(folder)
    return folder


def test_a_transformer_model_shows_no_bar_of_its_own_in_file_scoring(tiny_transformer, tmp_path, capsys):
    from sentiscore.inference import PROGRESS_FROM
    from sentiscore.predict import predict_batch

    model = tiny_transformer
    frame = reviews_frame(PROGRESS_FROM + 44)
    source = tmp_path / "reviews.csv"
    frame.to_csv(source, index=False)

    quiet = score_command(source, tmp_path / "q.csv", str(model), "--quiet", "--batch-size", "1000")
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""
    logged = score_command(source, tmp_path / "o.csv", str(model), "--batch-size", "1000")
    assert logged.returncode == 0 and "window" not in logged.stderr and "\r" not in logged.stderr
    assert "rows scored" in logged.stderr

    predict_batch(frame["text"].tolist(), str(model))
    assert "window" in capsys.readouterr().err


@pytest.mark.parametrize("model", ["sentiscore-lite", "tiny"])
def test_worker_processes_and_a_model_thread_give_the_same_rows_as_one_thread(model, tiny_transformer, tmp_path,
                                                                              capfd):
    from sentiscore.predict import predict_batch

    model = str(tiny_transformer) if model == "tiny" else model
    source = tmp_path / "reviews.csv"
    reviews_frame(700).to_csv(source, index=False)
    predict_batch(["Хороший фильм"] * 300, model)  # the tokenizer's threads used before the workers fork
    capfd.readouterr()
    in_thread = score_file(source, tmp_path / "thread.csv", model=model, chunk_rows=100, progress=False, workers=0)
    forked = score_file(source, tmp_path / "forked.csv", model=model, chunk_rows=100, progress=False, workers=3)
    # As on a GPU: forked workers prepare, the model runs in its own thread, the main thread builds the output.
    overlapped = score_file(source, tmp_path / "overlapped.csv", model=model, chunk_rows=100, progress=False,
                            workers=3, model_thread=True)
    assert in_thread.rows == forked.rows == overlapped.rows == 700
    expected = pd.read_csv(tmp_path / "thread.csv")
    pd.testing.assert_frame_equal(expected, pd.read_csv(tmp_path / "forked.csv"))
    pd.testing.assert_frame_equal(expected, pd.read_csv(tmp_path / "overlapped.csv"))
    assert capfd.readouterr().err == ""


def test_an_error_in_the_model_thread_stops_the_job_with_that_error(tmp_path):
    from sentiscore.predict import load_model

    class Failing:
        name, version = "failing", "0"
        lite = load_model("sentiscore-lite")

        def prepare(self, texts):
            return self.lite.prepare(texts)

        def run(self, prepared, progress=True):
            raise RuntimeError("out of GPU memory")

    source = tmp_path / "reviews.csv"
    reviews_frame(300).to_csv(source, index=False)
    with pytest.raises(RuntimeError, match="out of GPU memory"):
        score_file(source, tmp_path / "o.csv", model=Failing(), chunk_rows=100, progress=False, model_thread=True)
    assert not list((tmp_path / "o.csv.parts").glob("part-*"))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["o.csv.parts", "reviews.csv"], \
        "no output file, finished or begun"


def test_an_interrupted_job_says_how_to_resume_instead_of_a_traceback(tmp_path, monkeypatch, capsys):
    import sentiscore.batch
    from sentiscore.cli import main

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sentiscore.batch, "score_file", interrupted)
    source = tmp_path / "reviews.csv"
    reviews_frame(10).to_csv(source, index=False)
    assert main(["score", str(source), "-o", str(tmp_path / "o.csv"), "--model", "sentiscore-lite"]) == 130
    assert capsys.readouterr().err == "sentiscore: interrupted (the same command resumes it)\n"


def test_the_score_interval_comes_out_with_a_model_that_has_one(tiny_transformer, tmp_path):
    from sentiscore.predict import predict_batch

    source = tmp_path / "reviews.csv"
    frame = reviews_frame(40)
    frame.to_csv(source, index=False)
    score_file(source, tmp_path / "scored.parquet", model=str(tiny_transformer), chunk_rows=15, progress=False)
    scored = pd.read_parquet(tmp_path / "scored.parquet")
    expected = [p.score_interval or (None, None) for p in predict_batch(frame["text"].tolist(), str(tiny_transformer))]
    ok = scored["status"] == "ok"
    assert ok.sum() > 30 and scored.loc[~ok, ["score_low", "score_high"]].isna().all().all()
    assert list(zip(scored["score_low"][ok], scored["score_high"][ok])) == [e for e, k in zip(expected, ok) if k]
    assert ((scored["score_low"][ok] >= 1) & (scored["score_low"][ok] <= scored["score_high"][ok])
            & (scored["score_high"][ok] <= 10)).all()


def test_a_review_inside_nested_records_is_named_by_a_dotted_path(tmp_path):
    source = tmp_path / "api.jsonl"
    records = [{"id": 1, "review": {"title": "Шедевр", "body": {"text": GOOD}}},
               {"id": 2, "review": {"title": "Провал", "body": {"text": BAD}}},
               {"id": 3, "review": None}]
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    score_file(source, tmp_path / "scored.jsonl", model="sentiscore-lite", text_column="review.body.text",
               progress=False)
    scored = pd.read_json(tmp_path / "scored.jsonl", lines=True)
    assert list(scored["status"]) == ["ok", "ok", "empty"]
    assert list(scored["sentiment"].iloc[:2]) == ["positive", "negative"]
    assert scored["review"].iloc[0] == records[0]["review"]  # the input comes out as it came in
    score_file(source, tmp_path / "scored.parquet", model="sentiscore-lite", text_column="review.body.text",
               progress=False)
    again = tmp_path / "again.csv"  # the same field of a Parquet struct column
    score_file(tmp_path / "scored.parquet", again, model="sentiscore-lite", text_column="review.body.text",
               progress=False)
    assert list(pd.read_csv(again)["status"]) == ["ok", "ok", "empty"]
    score_file(source, tmp_path / "ids.csv", model="sentiscore-lite", text_column="review.body.text",
               id_column="review.title", progress=False)
    assert list(pd.read_csv(tmp_path / "ids.csv").columns) == ["review.title", *OUTPUT_COLUMNS]
    assert list(pd.read_csv(tmp_path / "ids.csv")["review.title"].fillna("-")) == ["Шедевр", "Провал", "-"]
    score_file(source, tmp_path / "guessed.jsonl", model="sentiscore-lite", progress=False)  # review.body.text
    assert list(pd.read_json(tmp_path / "guessed.jsonl", lines=True)["status"]) == ["ok", "ok", "empty"]
    with pytest.raises(ValueError, match="'review' holds objects: 'body' holds objects: no text column"):
        score_frame(pd.DataFrame({"review": [{"body": {"stars": 5}}]}), model="sentiscore-lite", progress=False)
    with pytest.raises(ValueError, match="no column 'comment.text'"):
        score_file(source, tmp_path / "other.jsonl", model="sentiscore-lite", text_column="comment.text",
                   progress=False)


def test_reviews_stored_as_bytes_in_parquet_are_read_as_utf8(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = tmp_path / "legacy.parquet"  # a writer that left out the columns' text annotation
    cells = [GOOD.encode(), BAD.encode(), "Отлично".encode("cp1251") * 5, None]
    pq.write_table(pa.table({"text": pa.array(cells, pa.binary())}), source)
    score_file(source, tmp_path / "scored.parquet", model="sentiscore-lite", progress=False)
    scored = pd.read_parquet(tmp_path / "scored.parquet")
    assert list(scored["status"]) == ["ok", "ok", "decode_error", "empty"]
    assert list(scored["sentiment"].iloc[:2]) == ["positive", "negative"]
    assert scored["text"].iloc[0] == GOOD.encode()  # the input column comes out as it came in


def test_text_files_in_other_encodings_or_with_bad_bytes_lose_no_row(tmp_path, capsys):
    rows = [GOOD, BAD, "Неплохо"]
    cp1251 = tmp_path / "excel.csv"
    cp1251.write_bytes(("text\n" + "".join(f'"{r}"\n' for r in rows)).encode("cp1251"))
    broken = tmp_path / "broken.jsonl"
    lines = [json.dumps({"text": r}, ensure_ascii=False).encode("utf-8") for r in rows * 20]
    lines[1] = lines[1].replace("Ужасно".encode(), b"\xd0\xff\xfe\xff\xd1")  # bytes that are no UTF-8
    broken.write_bytes(b"\n".join(lines) + b"\n")

    score_file(cp1251, tmp_path / "excel_scored.csv", model="sentiscore-lite")
    assert "excel.csv is not UTF-8: read as cp1251" in capsys.readouterr().err
    excel = pd.read_csv(tmp_path / "excel_scored.csv")
    assert list(excel["text"]) == rows and list(excel["status"]) == ["ok"] * 3

    score_file(broken, tmp_path / "broken_scored.jsonl", model="sentiscore-lite", progress=False)
    scored = pd.read_json(tmp_path / "broken_scored.jsonl", lines=True)
    assert list(scored["status"]) == ["ok", "decode_error"] + ["ok"] * 58
    assert list(scored["text"][3:]) == rows * 19


def test_a_resumed_job_reckons_its_rate_and_eta_from_its_own_work(monkeypatch, capsys):
    from sentiscore import batch

    clock = iter([100.0, 100.0, 100.0, 100.0, 110.0, 110.0, 110.0, 110.0])
    monkeypatch.setattr(batch.time, "time", lambda: next(clock))
    meter = batch.Progress(files=1, every=0.0)
    meter.update(0, 0, 0.5)  # shards of the earlier run, skipped at once
    meter.update(2_000, 0, 0.75)  # this run: a quarter of the input in 10 s
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last == "sentiscore: 2,000 rows, 75.0 % of the input, 200 rows/s, ETA 10 s"


@pytest.mark.parametrize("where", ["thread", "process"])
def test_a_reader_keeps_order_raises_its_error_and_stops_when_no_longer_wanted(where):
    import multiprocessing
    import threading

    from sentiscore.batch import read_ahead, read_in_process

    read = {"thread": read_ahead, "process": read_in_process}[where]
    assert list(read(iter(range(50)))) == list(range(50))

    def failing():
        yield 1
        raise ValueError("no column 'text'")

    items = read(failing())
    assert next(items) == 1
    with pytest.raises(ValueError, match="no column"):
        next(items)

    endless = read(iter(range(10**9)))
    assert next(endless) == 0
    endless.close()
    never_read = read(iter(range(10**9)))
    del never_read
    gc.collect()

    def readers_left():
        return [t for t in threading.enumerate() if t.name == "sentiscore-reader"] + multiprocessing.active_children()

    deadline = time.time() + 5
    while readers_left() and time.time() < deadline:
        time.sleep(0.05)
    assert not readers_left()


def test_an_unreadable_input_stops_its_reader_process_with_the_job(tmp_path):
    import multiprocessing

    source = tmp_path / "reviews.csv"
    source.write_text(f'id,text\n1,"{GOOD}"\n2,"{BAD}\n', encoding="utf-8")  # a quote left open: cut short
    with pytest.raises(ValueError, match="cannot be read as CSV after its first 0 rows: .*EOF inside string"):
        score_file(source, tmp_path / "o.csv", model="sentiscore-lite", progress=False, workers=2)
    assert not multiprocessing.active_children()


def test_workers_only_where_the_model_runs_on_a_gpu_and_no_torch_for_the_lexical_model(tmp_path):
    from types import SimpleNamespace

    from sentiscore.batch import default_workers

    gpu, cpu = SimpleNamespace(device=SimpleNamespace(type="cuda")), SimpleNamespace(device=SimpleNamespace(type="cpu"))
    assert default_workers(gpu) >= 1 and default_workers(SimpleNamespace(members=[SimpleNamespace(), gpu])) >= 1
    assert default_workers(cpu) == default_workers(SimpleNamespace()) == 0

    source = tmp_path / "reviews.csv"
    reviews_frame(20).to_csv(source, index=False)
    check = (f"import sys; from sentiscore.batch import score_file; "
             f"score_file({str(source)!r}, {str(tmp_path / 'o.csv')!r}, model='sentiscore-lite', progress=False); "
             f"assert 'torch' not in sys.modules, 'the lexical model imported torch'")
    done = subprocess.run([sys.executable, "-c", check], env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_cut_off_json_lines_come_out_as_decode_errors_in_place(tmp_path):
    lines = [json.dumps({"id": i, "text": text}, ensure_ascii=False) for i, text in enumerate([GOOD, BAD, GOOD, BAD])]
    lines.insert(2, '{"id": 99, "text": "Отличный фи')  # a line cut short, mid-file
    lines.append('{"id": 100, "te')  # and the scraper's last line
    source = tmp_path / "scraped.jsonl.gz"
    source.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    for chunk_rows in (100, 1):  # with 1, a chunk holds nothing but the unreadable line
        output = tmp_path / f"scored-{chunk_rows}.jsonl"
        score_file(source, output, model="sentiscore-lite", chunk_rows=chunk_rows, progress=False)
        scored = pd.read_json(output, lines=True)
        assert list(scored["status"]) == ["ok", "ok", "decode_error", "ok", "ok", "decode_error"]
        assert list(scored["sentiment"].dropna()) == ["positive", "negative", "positive", "negative"]


def test_a_json_array_scores_like_json_lines_across_read_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "JSON_BLOCK_CHARS", 16)  # every record spans several blocks
    records = [{"id": i, "text": text, "rating": 8.5} for i, text in enumerate([GOOD, BAD, "", GOOD])]
    indented = json.dumps(records, ensure_ascii=False, indent=2)
    source = tmp_path / "scraped.json"
    source.write_text(indented[:-30])  # the scraper stopped mid-record: three whole ones, then the cut one
    score_file(source, tmp_path / "scored.jsonl", model="sentiscore-lite", chunk_rows=2, progress=False)
    scored = pd.read_json(tmp_path / "scored.jsonl", lines=True)
    assert list(scored["status"]) == ["ok", "ok", "empty", "decode_error"]
    assert list(scored["sentiment"].iloc[:2]) == ["positive", "negative"] and list(scored["id"].iloc[:3]) == [0, 1, 2]


@pytest.mark.parametrize("output_suffix", ["csv", "tsv"])
def test_lists_and_objects_of_the_input_come_out_as_json_cells(tmp_path, output_suffix):
    source = tmp_path / "scraped.parquet"
    pd.DataFrame({"text": [GOOD, BAD], "tags": [["драма", "2020"], []],
                  "author": [{"name": "Аня", "reviews": [3, 5]}, {"name": "Олег", "reviews": []}]}).to_parquet(source)
    output = tmp_path / f"scored.{output_suffix}"
    score_file(source, output, model="sentiscore-lite", progress=False)
    scored = pd.read_csv(output, sep="\t" if output_suffix == "tsv" else ",")
    assert [json.loads(cell) for cell in scored["tags"]] == [["драма", "2020"], []]
    assert json.loads(scored["author"][0]) == {"name": "Аня", "reviews": [3, 5]}
    assert list(scored["sentiment"]) == ["positive", "negative"]


def test_a_tsv_whose_quotes_are_text_keeps_every_row_and_quote(tmp_path):
    texts = ['"Цитата" из фильма — лучшее, что я слышал', "Обычный отзыв, без кавычек",
             '"Начало цитаты, которую автор так и не закрыл', "Ещё один отзыв", 'Фильм "на один раз"']
    joined = tmp_path / "joined.tsv"  # written by joining fields with tabs: no CSV-style quoting
    joined.write_text("id\ttext\n" + "".join(f"{i}\t{text}\n" for i, text in enumerate(texts)))
    quoted = tmp_path / "quoted.tsv"  # pandas' (and Excel's) quoting: a quoted cell may hold a tab or a line break
    pd.DataFrame({"id": [0, 1], "text": ['"Цитата" из фильма\nвторая строка', "с\tтабом"]}).to_csv(
        quoted, sep="\t", index=False)
    for source, expected in ((joined, texts), (quoted, ['"Цитата" из фильма\nвторая строка', "с\tтабом"])):
        score_file(source, tmp_path / f"{source.stem}.jsonl", model="sentiscore-lite", progress=False)
        assert pd.read_json(tmp_path / f"{source.stem}.jsonl", lines=True)["text"].tolist() == expected


def test_a_compressed_file_cut_short_is_read_up_to_its_cut(tmp_path, capsys):
    lines = "".join(json.dumps({"id": i, "text": f"{GOOD}, номер {i}"}, ensure_ascii=False) + "\n" for i in range(4000))
    packed = gzip.compress(lines.encode())
    source = tmp_path / "scraper-killed.jsonl.gz"
    source.write_bytes(packed[: len(packed) // 2])
    with pytest.warns(UserWarning, match="scraper-killed.jsonl.gz ends before its compressed stream"):
        summary = score_file(source, tmp_path / "scored.jsonl", model="sentiscore-lite", progress=False)
    scored = pd.read_json(tmp_path / "scored.jsonl", lines=True)
    assert 0 < summary.rows < 4000 and list(scored["id"].iloc[:-1]) == list(range(summary.rows - 1))
    assert set(scored["status"].iloc[:-1]) == {"ok"}  # the last line may be cut mid-record
    assert main(["score", str(source), "-o", str(tmp_path / "again.jsonl"), "--model", "sentiscore-lite"]) == 0
    assert "sentiscore: warning: " in capsys.readouterr().err  # one line, not Python's warning with its source
    table = tmp_path / "scraper-killed.csv.gz"  # a CSV cut inside a quoted review cannot be read past its cut
    packed = gzip.compress(pd.DataFrame({"text": [f"{BAD}, номер {i}" for i in range(4000)]}).to_csv(index=False)
                           .encode())
    table.write_bytes(packed[: len(packed) // 2])
    with pytest.warns(UserWarning, match="ends before"), \
            pytest.raises(ValueError, match=r"scraper-killed.csv.gz cannot be read as CSV after its first [\d,]+ rows"):
        score_file(table, tmp_path / "scored.csv", model="sentiscore-lite", progress=False)


def test_semicolon_separated_csv_from_a_russian_excel(tmp_path):
    source = tmp_path / "excel.csv"
    source.write_bytes(f'отзыв;оценка\n"{GOOD}";5\n"{BAD}, и всё";1\n'.encode("cp1251"))
    score_file(source, tmp_path / "scored.csv", model="sentiscore-lite", progress=False)
    scored = pd.read_csv(tmp_path / "scored.csv")
    assert list(scored["отзыв"]) == [GOOD, f"{BAD}, и всё"] and list(scored["оценка"]) == [5, 1]
    assert list(scored["sentiment"]) == ["positive", "negative"]


@pytest.mark.parametrize("suffix", ["csv", "parquet", "jsonl"])
def test_input_files_with_different_columns_merge_into_one_table(tmp_path, suffix):
    folder = tmp_path / "dump"
    folder.mkdir()
    pd.DataFrame({"text": [GOOD, BAD], "film": ["a", "b"]}).to_csv(folder / "part1.csv", index=False)
    pd.DataFrame({"user": ["u"], "text": [BAD]}).to_csv(folder / "part2.csv", index=False)
    output = tmp_path / f"scored.{suffix}"
    summary = score_file(folder, output, model="sentiscore-lite", progress=False)
    readers = {"csv": lambda: pd.read_csv(output, dtype=str, keep_default_na=False),
               "parquet": lambda: pd.read_parquet(output), "jsonl": lambda: pd.read_json(output, lines=True)}
    scored = readers[suffix]()
    assert summary.rows == len(scored) == 3
    assert list(scored.columns[:3]) == ["text", "film", "sentiment"] and "user" in scored.columns
    assert list(scored["text"]) == [GOOD, BAD, BAD]
    assert list(scored["sentiment"]) == ["positive", "negative", "negative"]
    def cells(column):  # an absent cell is empty in CSV, null in Parquet and JSONL
        return [value if isinstance(value, str) and value else None for value in scored[column]]

    assert cells("film") == ["a", "b", None] and cells("user") == [None, None, "u"]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_the_output_file_grows_shard_by_shard_and_gives_way_to_a_merge_when_the_columns_change(tmp_path, fmt):
    from sentiscore.shards import OutputAssembly, write_atomically

    parts, output = tmp_path / "scored.parts", tmp_path / f"scored.{fmt}"
    parts.mkdir()
    frames = [pd.DataFrame({"text": [GOOD, BAD], "sentiment": ["positive", "negative"], "status": "ok"}),
              pd.DataFrame({"text": [BAD], "sentiment": ["negative"], "status": "ok"}),
              pd.DataFrame({"text": [GOOD], "film": ["Брат"], "sentiment": ["positive"], "status": "ok"})]
    shards = [parts / f"part-{i:06d}.{fmt}" for i in range(3)]
    tables = [write_atomically(frame, shard, fmt) for frame, shard in zip(frames, shards)]
    read = {"csv": lambda path: pd.read_csv(path, dtype=str, keep_default_na=False),
            "parquet": pd.read_parquet, "jsonl": lambda path: pd.read_json(path, lines=True)}[fmt]

    growing = OutputAssembly(parts, output, fmt)
    growing.append(shards[0], rows=2)
    growing.append(shards[1])  # a shard of an earlier run: its rows counted
    growing.opened.close()  # as if killed here: the rows so far are in the temporary file, in order
    assert list(read(growing.temporary)["text"]) == [GOOD, BAD, BAD]
    assert not output.exists()

    appended = OutputAssembly(parts, output, fmt)
    appended.append(shards[0], 2, tables[0])  # as this run wrote it (a Parquet shard's table at hand)
    appended.append(shards[1])  # as an earlier run did: read back, laid out the same
    assert not appended.given_up and appended.finish() == 3 and not parts.exists()
    assert list(read(output)["sentiment"]) == ["positive", "negative", "negative"]

    parts.mkdir()
    for frame, shard in zip(frames, shards):
        write_atomically(frame, shard, fmt)
    changing = OutputAssembly(parts, output, fmt)
    for shard in shards:
        changing.append(shard)
    assert changing.given_up == (fmt != "jsonl")  # JSON lines name their fields in every line
    assert not changing.temporary.exists() or fmt == "jsonl"
    assert changing.finish() == 4
    merged = read(output)
    assert list(merged["text"]) == [GOOD, BAD, BAD, GOOD] and list(merged.columns)[:2] == ["text", "sentiment"]
    assert list(merged["film"].fillna(""))[-1] == "Брат"


def test_prediction_columns_are_numbers_even_in_a_chunk_with_nothing_to_score(tmp_path):
    source = tmp_path / "reviews.csv"
    pd.DataFrame({"text": ["", None, GOOD, BAD]}).to_csv(source, index=False)
    score_file(source, tmp_path / "scored.parquet", model="sentiscore-lite", chunk_rows=2, progress=False)
    scored = pd.read_parquet(tmp_path / "scored.parquet")
    numbers = ["score", "score_low", "score_high", "p_negative", "p_neutral", "p_positive"]
    assert (scored[numbers].dtypes == "float64").all()
    assert scored.loc[:1, numbers].isna().all().all() and scored.loc[2:, ["score", "p_positive"]].notna().all().all()
    assert scored["sentiment"][:2].isna().all() and list(scored["sentiment"][2:]) == ["positive", "negative"]


@pytest.mark.parametrize("chunk_rows", [2, 3])  # a field's types differ between shards / within one too
def test_a_json_field_of_changing_types_comes_out_in_parquet_as_text(tmp_path, chunk_rows):
    source = tmp_path / "scraped.jsonl"
    prices = [None, None, 5, 6, "договорная", [1, 2]]
    source.write_text("".join(json.dumps({"text": GOOD, "price": price}, ensure_ascii=False) + "\n"
                              for price in prices))
    score_file(source, tmp_path / "scored.parquet", model="sentiscore-lite", chunk_rows=chunk_rows, progress=False)
    scored = pd.read_parquet(tmp_path / "scored.parquet")
    assert scored["price"].tolist()[2:] == ["5", "6", "договорная", "[1, 2]"] and scored["price"][:2].isna().all()
    assert (scored["status"] == "ok").all() and len(scored) == 6


@pytest.mark.parametrize("suffix", ["jsonl", "parquet"])
def test_whole_numbers_with_gaps_stay_whole(tmp_path, suffix):
    source = tmp_path / f"scraped.{suffix}"
    if suffix == "parquet":
        pd.DataFrame({"text": [GOOD, BAD], "user_id": pd.array([None, 9007199254740993], dtype="Int64")}).to_parquet(
            source)
    else:
        source.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in
                                  [{"text": GOOD, "user_id": None}, {"text": BAD, "user_id": 9007199254740993}]))
    score_file(source, tmp_path / "scored.csv", model="sentiscore-lite", progress=False)
    assert pd.read_csv(tmp_path / "scored.csv", dtype=str)["user_id"].tolist()[1] == "9007199254740993"  # not 9.0e15


def test_a_column_arrow_cannot_type_leaves_no_arrow_memory_behind():
    import pyarrow as pa

    frame = pd.DataFrame({"text": [GOOD] * 500, "price": pd.array([5, "договорная"] * 250, dtype=object)})
    gc.disable()  # what is left must be freed when the table goes, not at a garbage collection
    try:
        before = pa.total_allocated_bytes()
        table = arrow_table(frame)
        assert table.column("price").to_pylist()[:2] == ["5", "договорная"]
        del table
        assert pa.total_allocated_bytes() == before
    finally:
        gc.enable()


def test_nested_json_values_come_out_in_a_csv_as_text(tmp_path):
    source = tmp_path / "reviews.jsonl"
    records = [{"text": "Отличный фильм, всем советую", "meta": {"likes": 3}, "tags": ["драма", "семья"]},
               {"text": "Скучно и затянуто, еле досидел", "meta": None, "tags": 5}]
    source.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    assert score_file(source, tmp_path / "scored.csv", model="sentiscore-lite", progress=False).rows == 2
    scored = pd.read_csv(tmp_path / "scored.csv", dtype=str, keep_default_na=False)
    assert scored["meta"].tolist() == ['{"likes": 3}', ""] and scored["tags"].tolist() == ['["драма", "семья"]', "5"]
    assert scored["sentiment"].tolist() == ["positive", "negative"]
