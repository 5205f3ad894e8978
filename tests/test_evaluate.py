import json
import shutil
import subprocess

import numpy as np
import pytest

from sentiscore.evaluate import (
    bootstrap,
    calibration,
    evaluate_predictions,
    score_metrics,
    sentiment_metrics,
    shorten,
    spearman,
    worst_errors,
)
from sentiscore.plots import plot_images
from sentiscore.predict import Prediction
from sentiscore.reports import Report, evaluate_file


def test_sentiment_metrics_by_hand():
    true = np.array([0, 0, 2, 2, 1])
    probabilities = np.array([[.8, .1, .1], [.3, .2, .5], [.1, .1, .8], [.2, .3, .5], [.2, .5, .3]])
    metrics = sentiment_metrics(true, probabilities)
    assert metrics["accuracy"] == pytest.approx(4 / 5)
    assert metrics["posneg_accuracy"] == pytest.approx(3 / 4)
    assert metrics["confusion"] == [[1, 0, 1], [0, 1, 0], [0, 0, 2]]
    assert metrics["per_class"]["positive"] == {"precision": pytest.approx(2 / 3), "recall": 1.0, "support": 2}
    assert metrics["macro_f1"] == pytest.approx(np.mean([2 / 3, 1.0, 0.8]))


def test_score_metrics_by_hand():
    metrics = score_metrics(np.array([8, 2, 6, np.nan, 10]), np.array([7, 2, 8.5, 5, 9.5]))
    assert metrics["n_score"] == 4
    assert metrics["mae"] == pytest.approx((1 + 0 + 2.5 + 0.5) / 4)
    assert metrics["rmse"] == pytest.approx(np.sqrt((1 + 0 + 6.25 + 0.25) / 4))
    assert metrics["within_1"] == pytest.approx(3 / 4)
    assert metrics["spearman"] == pytest.approx(0.8)
    assert -1 <= metrics["qwk"] <= 1


def test_calibration_by_hand():
    # Bin 0.8–0.9: two rows at 0.8, one right (accuracy 0.5, gap 0.3); bin 0.6–0.7: one right row at 0.6 (gap 0.4).
    true = np.array([2, 0, 1])
    probabilities = np.array([[.1, .1, .8], [.1, .1, .8], [.2, .6, .2]])
    result = calibration(true, probabilities)
    assert [(b["count"], b["accuracy"]) for b in result["bins"]] == [(1, 1.0), (2, 0.5)]
    assert result["ece"] == pytest.approx(1 / 3 * 0.4 + 2 / 3 * 0.3)


def test_perfectly_calibrated_probabilities_have_near_zero_ece():
    rng = np.random.default_rng(0)
    confidence = rng.uniform(0.4, 1.0, 20_000)
    probabilities = np.stack([confidence, (1 - confidence) / 2, (1 - confidence) / 2], 1)
    true = np.where(rng.uniform(size=confidence.size) < confidence, 0, 1)
    assert calibration(true, probabilities)["ece"] < 0.02
    assert calibration(np.ones_like(true), probabilities)["ece"] > 0.6


def test_score_interval_coverage_by_hand():
    metrics = score_metrics(np.array([8, 2, 6, 10]), np.array([7, 2, 8, 9]),
                            np.array([[6, 9], [1, 3], [7, 9], [8, 10]]))
    assert metrics["interval_coverage"] == pytest.approx(3 / 4)
    assert metrics["interval_width"] == pytest.approx((3 + 2 + 2 + 2) / 4)
    assert "interval_coverage" not in score_metrics(np.array([8, 2]), np.array([7, 2]))


def test_worst_errors_rank_by_score_error_and_shorten_texts():
    rows = [{"text": "Фильм на один раз, " * 30, "score10": 9.0, "sentiment": "positive", "domain": "film"},
            {"text": "Шедевр.", "score10": 10.0, "sentiment": "positive", "domain": "film"},
            {"text": "Скучно.", "score10": 2.0, "sentiment": "negative", "domain": "film"},
            {"text": "", "score10": 5.0, "sentiment": "neutral", "domain": "film"}]
    predictions = [Prediction("negative", 3.5, {"negative": .7, "neutral": .2, "positive": .1}),
                   Prediction("positive", 9.6, {"negative": .1, "neutral": .1, "positive": .8}),
                   Prediction("negative", 4.0, {"negative": .6, "neutral": .3, "positive": .1}),
                   Prediction(None, None, status="empty")]
    errors = worst_errors(rows, predictions, count=5, width=60)
    assert [e["predicted_score"] for e in errors] == [3.5, 4.0]  # 9.6 for a 10 is within 1: no error
    assert len(errors[0]["text"]) <= 60 and errors[0]["text"].endswith("раз,…")
    assert shorten("Отличная\nкнига", 100) == "Отличная книга"


def test_bootstrap_interval_brackets_the_mean():
    values = np.random.default_rng(1).normal(5, 1, 500)
    low, high = bootstrap(lambda i: values[i].mean(), len(values), rounds=300)
    assert low < values.mean() < high
    assert high - low < 0.3


def test_spearman_is_undefined_not_a_warning_where_one_side_is_constant():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(spearman(np.array([8.0, 8.0, 8.0]), np.array([7.0, 9.0, 8.5])))
        assert np.isnan(bootstrap(lambda i: spearman(np.array([8.0, 8.0])[i], np.array([7.0, 9.0])[i]), 2, 20)[0])
    assert spearman(np.array([1.0, 5.0, 9.0]), np.array([2.0, 6.0, 7.0])) == pytest.approx(1.0)


def test_undefined_metrics_are_null_in_json_and_a_dash_in_markdown(tmp_path):
    rows = [{"sentiment": "positive", "score10": 8.0, "domain": "film"},
            {"sentiment": "negative", "score10": 3.0, "domain": "film"}]
    same = {"negative": .4, "neutral": .2, "positive": .4}
    predictions = [Prediction("positive", 6.0, same), Prediction("negative", 6.0, same)]
    report = evaluate_predictions(rows, predictions, bootstrap_rounds=20)
    path = Report(report).save(tmp_path)

    def strict(constant):
        raise ValueError(f"{constant} is not JSON")

    metrics = json.loads((tmp_path / "metrics.json").read_text(), parse_constant=strict)
    assert metrics["overall"]["spearman"] is None
    assert "| – |" in path.read_text() and "nan" not in path.read_text()


def test_report_writes_json_markdown_and_plots(tmp_path):
    rows = [{"sentiment": "positive", "score10": 9.0, "domain": "film"},
            {"sentiment": "negative", "score10": 2.0, "domain": "film"},
            {"sentiment": "positive", "score10": None, "domain": "book"},
            {"sentiment": "negative", "score10": 3.0, "domain": "book"}]
    predictions = [Prediction("positive", 8.5, {"negative": .1, "neutral": .1, "positive": .8}),
                   Prediction("negative", 3.0, {"negative": .7, "neutral": .2, "positive": .1}),
                   Prediction(None, None, status="empty"),
                   Prediction("positive", 6.0, {"negative": .3, "neutral": .1, "positive": .6})]
    report = evaluate_predictions(rows, predictions, bootstrap_rounds=50)
    assert report["unscored"] == 1
    assert report["overall"]["posneg_accuracy"] == pytest.approx(2 / 4)
    assert report["by_domain"]["film"]["mae"] == pytest.approx(0.75)
    path = Report(report, plot_images(report, rows, predictions), "test").save(tmp_path)
    assert json.loads((tmp_path / "metrics.json").read_text())["n"] == 4
    text = path.read_text()
    assert "| film (n=2, scored 2) |" in text and "![scores.png](scores.png)" in text
    assert (tmp_path / "confusion.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "scores.png").stat().st_size > 1000


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_html_report_renders_its_plots_in_headless_chromium(tmp_path):
    from matplotlib.image import imread

    rows = [{"sentiment": s, "score10": v, "domain": "film"}
            for s, v in [("positive", 9.0), ("negative", 2.0), ("positive", 7.0), ("negative", 4.0)] * 10]
    predictions = [Prediction(r["sentiment"], r["score10"] + 0.5, {"negative": .2, "neutral": .1, "positive": .7}
                              if r["sentiment"] == "positive" else {"negative": .7, "neutral": .1, "positive": .2})
                   for r in rows]
    report = evaluate_predictions(rows, predictions, bootstrap_rounds=20)
    page = Report(report, plot_images(report, rows, predictions), "Отчёт").save_html(tmp_path / "report.html")
    text = page.read_text(encoding="utf-8")
    assert "<h1>Отчёт</h1>" in text and text.count("data:image/png;base64,") == 4 and "http" not in text
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1200,2000",
                    page.as_uri()], check=True, capture_output=True, timeout=120)
    pixels = imread(shot)[..., :3]
    # The plots are drawn in blue, two to a row (confusion and reliability left, scatter and errors right); an
    # empty page or broken images would show none.
    blue = pixels[..., 2] - pixels[..., 0] > 0.2
    assert blue[:, :600].sum() > 5_000 and blue[:, 600:].sum() > 200


def test_a_file_evaluates_into_a_report_a_notebook_shows(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text("text\n"
                    '"Отличный фильм, пересмотрю ещё не раз. 9 из 10"\n'
                    '"Скучно и затянуто, заснул на середине. 2 из 10"\n'
                    '"Без оценки, но очень понравилось"\n', encoding="utf-8")
    report = evaluate_file(path, "sentiscore-lite", bootstrap_rounds=0)
    assert report.metrics["n"] == 2  # the review without a score or label is not evaluated
    assert report.metrics["model"]["name"] == "sentiscore-lite"
    assert report.metrics["overall"]["posneg_accuracy"] == 1.0
    assert set(report.plots) == {"confusion.png", "scores.png", "errors.png", "reliability.png"}
    html = report._repr_html_()
    assert f"<h1>sentiscore-lite on {path}</h1>" in html and html.count("data:image/png;base64,") == 4
    assert "<html" not in html  # a fragment inside the notebook's page
    assert report.markdown().startswith(f"# sentiscore-lite on {path}\n\n2 reviews, 0 could not be scored. Left out, "
                                        "as they carry neither a self-reported score nor a sentiment label: 1.")
    table = report.table()
    assert list(table.index) == ["all", "unknown"]
    assert table.loc["all", "pos/neg accuracy"] == 1.0 and table.loc["all", "scored"] == 2
    assert table.loc["all", "score MAE"] == report.metrics["overall"]["mae"]


def test_several_files_evaluate_together_under_their_names(tmp_path):
    paths = [tmp_path / "a.csv", tmp_path / "b.jsonl"]
    paths[0].write_text('text\n"Отличный фильм, пересмотрю ещё не раз. 9 из 10"\n', encoding="utf-8")
    paths[1].write_text('{"text": "Скучно и затянуто, заснул на середине. 2 из 10"}\n', encoding="utf-8")
    report = evaluate_file(paths, "sentiscore-lite", bootstrap_rounds=0, plots=False)
    assert report.title == f"sentiscore-lite on {paths[0]}, {paths[1]}"
    assert report.metrics["n"] == 2 and report.plots == {}
    assert evaluate_file(tmp_path, "sentiscore-lite", bootstrap_rounds=0, plots=False).metrics["n"] == 2  # a folder
    assert evaluate_file(str(tmp_path / "*.csv"), "sentiscore-lite", bootstrap_rounds=0).metrics["n"] == 1


def test_a_file_with_nothing_to_compare_is_refused(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text("text\nОтличный фильм\n", encoding="utf-8")
    with pytest.raises(ValueError, match="nothing to evaluate"):
        evaluate_file(path, "sentiscore-lite")
