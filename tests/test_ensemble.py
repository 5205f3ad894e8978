"""The ensemble of the shipped encoder and lexical models, on Russian reviews written for these tests."""

import json

import numpy as np
import pytest

from sentiscore.ensemble import Ensemble
from sentiscore.lite import LiteModel
from sentiscore.predict import load_model, predict_batch
from tests.conftest import NEGATIVE, POSITIVE

REVIEWS = ["Отличный фильм, пересмотрю ещё не раз",
           "Ужасно скучно и затянуто, зря потратил два часа.",
           "Приложение нормальное, но после обновления стало вылетать",
           "Книга на любителя: язык хороший, сюжет провисает к середине"]


@pytest.fixture(scope="module")
def members():
    return load_model("sentiscore-e5-ru"), load_model("sentiscore-lite")


def test_sentiment_is_the_weighted_mean_and_the_score_the_encoders(members):
    encoder, lite = members
    ensemble = Ensemble(members, weights=[3, 1])
    probabilities, scores, intervals = ensemble.score_texts(REVIEWS)
    encoder_out, lite_out = encoder.score_texts(REVIEWS), lite.score_texts(REVIEWS)
    np.testing.assert_allclose(probabilities, 0.75 * encoder_out[0] + 0.25 * lite_out[0], atol=1e-6)
    np.testing.assert_allclose(probabilities.sum(1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(scores, encoder_out[1])
    np.testing.assert_array_equal(intervals, encoder_out[2])


def test_shipped_ensemble_loads_its_members_by_name(members):
    shipped = load_model("sentiscore-e5-lite")
    assert isinstance(shipped, Ensemble) and shipped.members == list(members)
    assert shipped.weights.tolist() == [0.5, 0.5] and 0 < shipped.temperature < 1
    predictions = predict_batch([*REVIEWS, ""], shipped)
    assert [p.sentiment for p in predictions[:2]] == ["positive", "negative"] and predictions[-1].status == "empty"


def test_save_and_load_with_a_member_in_its_folder(members, tmp_path):
    texts = [text for _, text, _ in POSITIVE + NEGATIVE]
    small = LiteModel.fit(texts, ["positive"] * len(POSITIVE) + ["negative"] * len(NEGATIVE),
                          [float(score) for _, _, score in POSITIVE + NEGATIVE], min_df=1)
    small.save(tmp_path / "mine" / "lite")
    Ensemble([members[0], small], name="mine").save(tmp_path / "mine", ["sentiscore-e5-ru", "lite"])
    loaded = load_model(tmp_path / "mine")
    assert json.loads((tmp_path / "mine" / "ensemble.json").read_text())["members"] == ["sentiscore-e5-ru", "lite"]
    np.testing.assert_allclose(loaded.score_texts(REVIEWS)[0],
                               Ensemble([members[0], small]).score_texts(REVIEWS)[0], atol=2e-3)


def test_weights_are_checked(members):
    with pytest.raises(ValueError, match="weight"):
        Ensemble(members, weights=[1.0])
    with pytest.raises(ValueError, match="weight"):
        Ensemble(members, weights=[1.0, -1.0])


def test_temperature_sharpens_the_average_without_changing_the_winner(members, tmp_path):
    average = Ensemble(members).score_texts(REVIEWS)[0]
    sharpened = Ensemble(members, temperature=0.5)
    probabilities = sharpened.score_texts(REVIEWS)[0]
    np.testing.assert_array_equal(probabilities.argmax(1), average.argmax(1))
    assert (probabilities.max(1) >= average.max(1) - 1e-6).all() and (probabilities.max(1) > average.max(1)).any()
    np.testing.assert_allclose(probabilities.sum(1), 1.0, atol=1e-5)
    sharpened.save(tmp_path / "sharp", ["sentiscore-e5-ru", "sentiscore-lite"])
    loaded = load_model(tmp_path / "sharp")
    assert loaded.temperature == 0.5
    np.testing.assert_allclose(loaded.score_texts(REVIEWS)[0], probabilities, atol=1e-6)
    with pytest.raises(ValueError, match="temperature"):
        Ensemble(members, temperature=0.0)
