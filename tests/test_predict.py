"""The public API and the command line on the shipped models, on Russian reviews written for these tests."""

import importlib.metadata
import json
import math
import re
import shutil

import pandas as pd
import pytest

from sentiscore import Prediction, predict, predict_batch
from sentiscore.cli import main
from sentiscore.inference import PROGRESS_FROM
from sentiscore.predict import DEFAULT_MODEL, load_model, resolve_model_path
from tests.conftest import ROOT

GOOD = "Отличный фильм, пересмотрю ещё не раз"
BAD = "Ужасно скучно и затянуто, зря потратил два часа. Актёры играют отвратительно, сюжет глупый."


@pytest.fixture(scope="module", params=["sentiscore-e5-lite", "sentiscore-e5-ru", "sentiscore-lite"])
def model(request):
    return load_model(request.param)


def test_default_is_the_encoder_and_lite_ensemble():
    assert resolve_model_path(None).name == DEFAULT_MODEL
    assert load_model().name == DEFAULT_MODEL


def test_clear_reviews(model):
    good, bad = predict(GOOD, model), predict(BAD, model)
    assert good.sentiment == "positive" and good.score >= 7
    assert bad.sentiment == "negative" and bad.score <= 4
    assert set(good.probabilities) == {"negative", "neutral", "positive"}
    assert math.isclose(sum(good.probabilities.values()), 1.0, rel_tol=1e-4)


def test_transformer_gives_a_whole_score_inside_its_interval():
    prediction = predict(GOOD)
    low, high = prediction.score_interval
    assert 1 <= low <= high <= 10
    assert prediction.score == round(prediction.score) and low <= prediction.score <= high


def test_bad_input_is_flagged_in_place(model):
    inputs = [GOOD, "", None, float("nan"), "   ", "The film is boring and too long, I left early.",
              "Отличный фильм".encode("cp1251").decode("latin-1"), "\x00\x01\x02" * 50, BAD,
              "Отличный фильм. " * 70_000]
    results = predict_batch(inputs, model)
    assert [r.status for r in results] == ["ok", "empty", "empty", "empty", "empty", "not_russian",
                                           "decode_error", "not_text", "ok", "too_long"]
    assert results[0].sentiment == "positive" and results[8].sentiment == "negative"
    assert results[-1].ok and results[-1].sentiment == "positive"
    assert all(r.sentiment is None and r.score is None for r in results[1:8])


def test_progress_bar_shows_over_many_texts_unless_turned_off(capsys):
    texts = [GOOD, BAD] * (PROGRESS_FROM // 2)
    shown = predict_batch(texts, "sentiscore-e5-fast")
    log = capsys.readouterr().err  # not a terminal: plain lines, as a log file or CI shows them
    assert "\r" not in log and log.splitlines()[-1].startswith("sentiscore-e5-fast: 100%")
    quiet = predict_batch(texts, "sentiscore-e5-fast", progress=False)
    assert capsys.readouterr().err == ""
    assert quiet == shown


def test_prediction_is_a_plain_value():
    prediction = Prediction("positive", 8.0, {"negative": 0.1, "neutral": 0.1, "positive": 0.8}, (7.0, 9.0))
    assert prediction.ok and prediction.to_dict()["score_interval"] == (7.0, 9.0)


def test_unknown_model_names_the_shipped_ones():
    with pytest.raises(FileNotFoundError, match="sentiscore-lite"):
        resolve_model_path("no-such-model")


def test_cli_predict(capsys):
    assert main(["predict", GOOD]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["sentiment"] == "positive" and result["score"] >= 7 and result["status"] == "ok"
    assert main(["predict", "--model", "sentiscore-lite", BAD]) == 0
    assert json.loads(capsys.readouterr().out)["sentiment"] == "negative"
    assert main(["predict", "  "]) == 1
    assert json.loads(capsys.readouterr().out)["status"] == "empty"


def test_cli_version_is_the_installed_package_version(capsys):
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"sentiscore {importlib.metadata.version('sentiscore')}"


def test_cli_score_and_evaluate_on_the_bundled_example(tmp_path, capsys):
    example = "data/example_reviews.csv"
    assert main(["score", example, "-o", str(tmp_path / "out.jsonl")]) == 0
    scored = pd.read_json(tmp_path / "out.jsonl", lines=True)
    assert len(scored) == len(pd.read_csv(example)) == 12
    summary, predicted = capsys.readouterr().err.splitlines()[-2:]
    assert summary.endswith("(10 ok, 1 empty, 1 not_russian)")
    counts = scored["sentiment"].value_counts()
    assert predicted == (f"sentiscore: predicted {counts.iloc[0] / 10:.0%} {counts.index[0]}, "
                         f"{counts.iloc[1] / 10:.0%} {counts.index[1]}, {counts.iloc[2] / 10:.0%} {counts.index[2]}; "
                         f"mean score {scored['score'].mean():.1f}")
    assert main(["score", example, "-o", str(tmp_path / "out.jsonl"), "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    assert main(["evaluate", example, "-o", str(tmp_path / "report"), "--bootstrap", "50"]) == 0
    metrics = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert metrics["overall"]["n_score"] == 8
    assert metrics["overall"]["mae"] < 2.5
    assert "score MAE" in capsys.readouterr().out


def test_cli_scores_a_file_of_no_rows_into_one_of_no_rows(tmp_path, capsys):
    (tmp_path / "header.csv").write_text("id,text\n")
    output = tmp_path / "out.csv"
    assert main(["score", str(tmp_path / "header.csv"), "-o", str(output), "--model", "sentiscore-lite"]) == 0
    assert list(pd.read_csv(output).columns)[:3] == ["id", "text", "sentiment"]
    assert len(pd.read_csv(output)) == 0
    last_line = capsys.readouterr().err.splitlines()[-1]
    assert re.fullmatch(r"sentiscore: 0 rows scored into .*out\.csv in \d+\.\d s", last_line)


def test_cli_evaluates_against_a_star_column_and_labels(tmp_path):
    stars = tmp_path / "shop.csv"
    pd.DataFrame({"review": ["Отличный магазин, всё привезли вовремя, рекомендую!", "Ужасный сервис, заказ потеряли.",
                             "Нормально, но доставка долгая.", "Курьер опоздал на три дня, больше не закажу."],
                  "stars": [5, 1, 3, ""], "tone": ["positive", "negative", "", "negative"]}).to_csv(stars, index=False)
    assert main(["evaluate", str(stars), "--text-column", "review", "--score-column", "stars", "--score-scale", "5",
                 "--sentiment-column", "tone", "--model", "sentiscore-lite", "-o", str(tmp_path / "report"),
                 "--bootstrap", "20"]) == 0
    overall = json.loads((tmp_path / "report" / "metrics.json").read_text())["overall"]
    assert (overall["n_score"], overall["n_sentiment"]) == (3, 4)  # the third row's label comes from its 3 stars


def test_a_model_by_hub_name_comes_from_the_hub_cache_offline(tmp_path, monkeypatch):
    from huggingface_hub import constants

    snapshot = tmp_path / "models--someone--sentiscore-lite-copy" / "snapshots" / "0123abc"
    shutil.copytree(ROOT / "models" / "sentiscore-lite", snapshot)
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("0123abc")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    text = "Скучно и затянуто, зря потратил два часа."
    assert predict(text, model="someone/sentiscore-lite-copy") == predict(text, model="sentiscore-lite")
    with pytest.raises(FileNotFoundError, match="on the Hugging Face hub"):
        load_model("someone/not-uploaded")
    with pytest.raises(FileNotFoundError, match="give a folder, a hub name"):
        load_model("sentiscore-e5")
