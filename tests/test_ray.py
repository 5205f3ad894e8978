"""The Ray engine against a local Ray cluster: the same rows as the local path."""

import pandas as pd
import pytest

ray = pytest.importorskip("ray")

from sentiscore import batch  # noqa: E402
from sentiscore.batch import read_in_process, score_dataset, score_file  # noqa: E402
from tests.test_batch import reviews_frame  # noqa: E402


# First in this file: it starts Ray itself, before the other tests' cluster.
@pytest.mark.skipif(not batch.can_fork(), reason="the reader process is forked")
def test_a_driver_that_starts_ray_reads_the_input_in_a_process_of_its_own(tmp_path, monkeypatch):
    source = tmp_path / "reviews.jsonl"
    reviews_frame(90).to_json(source, orient="records", lines=True, force_ascii=False)
    score_file(source, tmp_path / "local.jsonl", model="sentiscore-lite", chunk_rows=40, progress=False)
    readers = []
    monkeypatch.setattr(batch, "read_in_process", lambda items: readers.append(items) or read_in_process(items))
    assert not ray.is_initialized()
    try:
        summary = score_file(source, tmp_path / "ray.jsonl", model="sentiscore-lite", chunk_rows=40,
                             progress=False, engine="ray")
        assert ray.is_initialized() and len(readers) == 1
    finally:
        ray.shutdown()
    assert summary.rows == 90 and summary.shards == 3
    assert (tmp_path / "ray.jsonl").read_text() == (tmp_path / "local.jsonl").read_text()


@pytest.fixture(scope="module")
def local_cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_engine_gives_the_local_results(local_cluster, tmp_path):
    source = tmp_path / "reviews.csv"
    reviews_frame(300).to_csv(source, index=False)
    score_file(source, tmp_path / "local.csv", model="sentiscore-lite", chunk_rows=40, progress=False)
    summary = score_file(source, tmp_path / "ray.csv", model="sentiscore-lite", chunk_rows=40, progress=False,
                         engine="ray", actors=2)
    assert summary.rows == 300
    local = pd.read_csv(tmp_path / "local.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "ray.csv", dtype=str, keep_default_na=False), local)


def test_score_dataset_in_a_ray_pipeline(local_cluster):
    frame = reviews_frame(120)
    dataset = ray.data.from_pandas([frame.iloc[i : i + 30] for i in range(0, len(frame), 30)])
    scored = score_dataset(dataset, model="sentiscore-lite", batch_size=50, actors=2).to_pandas()
    scored = scored.sort_values("review_id").reset_index(drop=True)
    assert len(scored) == 120 and list(scored["review_id"]) == list(frame["review_id"])
    ok = scored["status"] == "ok"
    assert ok.sum() > 100 and scored.loc[ok, "sentiment"].isin(["positive", "negative", "neutral"]).all()
    assert set(scored.loc[~ok, "status"]) <= {"empty", "not_russian"}
