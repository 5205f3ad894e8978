import json

import numpy as np
import pytest

from sentiscore.lite import LiteModel, lemma_ngrams, word_ngrams
from tests.conftest import NEGATIVE, POSITIVE


@pytest.fixture(scope="module")
def lite():
    texts = [text for _, text, _ in POSITIVE + NEGATIVE]
    sentiments = ["positive"] * len(POSITIVE) + ["negative"] * len(NEGATIVE)
    scores = [float(score) for _, _, score in POSITIVE + NEGATIVE]
    scores[0] = None
    return LiteModel.fit(texts, sentiments, scores, min_df=1)


def test_features_are_lemmas_and_bigrams():
    assert lemma_ngrams("Актёры сыграли") == ["актёр", "сыграть", "актёр сыграть"]


def test_word_features_keep_the_surface_forms():
    assert word_ngrams("Актёры сыграли") == ["актёры", "сыграли", "актёры сыграли"]


def test_word_features_survive_save_and_load(tmp_path):
    texts = [text for _, text, _ in POSITIVE + NEGATIVE]
    sentiments = ["positive"] * len(POSITIVE) + ["negative"] * len(NEGATIVE)
    scores = [float(score) for _, _, score in POSITIVE + NEGATIVE]
    words = LiteModel.fit(texts, sentiments, scores, min_df=1, features="words")
    lemmas = LiteModel.fit(texts, sentiments, scores, min_df=1)
    assert len(words.vocabulary) > len(lemmas.vocabulary)  # inflected forms stay apart
    words.save(tmp_path / "w")
    assert LiteModel.load(tmp_path / "w").features_kind == "words"
    with pytest.raises(ValueError, match="features"):
        LiteModel.fit(texts, sentiments, scores, features="stems")


def test_lite_separates_the_fixture(lite):
    probabilities, scores, intervals = lite.score_texts(["Великолепный фильм, прекрасная музыка",
                                                         "Скучный и нудный фильм, не советую"])
    assert intervals is None
    assert probabilities[0].argmax() == 2 and probabilities[1].argmax() == 0
    assert scores[0] > scores[1] and ((scores >= 1) & (scores <= 10)).all()
    assert probabilities[:, 1].max() < 1e-3  # no neutral rows in training: the class stays off
    assert lite.metadata["score_rows"] == 15


def test_save_load_round_trip_without_pickle(lite, tmp_path):
    lite.save(tmp_path / "m")
    loaded = LiteModel.load(tmp_path / "m")
    texts = ["Отличное кино", "Ужасно скучно", "Фильм как фильм"]
    for a, b in zip(lite.score_texts(texts)[:2], loaded.score_texts(texts)[:2]):
        np.testing.assert_allclose(a, b, atol=2e-3)
    with np.load(tmp_path / "m" / "weights.npz", allow_pickle=False) as arrays:
        assert all(arrays[name].dtype != object for name in arrays.files)


def test_load_refuses_another_format(lite, tmp_path):
    lite.save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "lite.json").read_text())
    (tmp_path / "m" / "lite.json").write_text(json.dumps({**config, "format_version": 99}))
    with pytest.raises(ValueError, match="v99"):
        LiteModel.load(tmp_path / "m")
