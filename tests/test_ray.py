"""The Ray engine against a local Ray cluster: the same rows as the local path."""

import pandas as pd
import pytest

ray = pytest.importorskip("ray")

from sentiscore.batch import score_dataset, score_file  # noqa: E402
from tests.test_batch import reviews_frame  # noqa: E402


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
