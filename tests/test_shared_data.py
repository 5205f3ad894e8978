"""Checks on the real corpora of ../shared/data; skipped where they are absent."""

import gzip
import json

import numpy as np
import pytest

from tests.conftest import SHARED_DATA

pytestmark = [pytest.mark.shared_data,
              pytest.mark.skipif(not (SHARED_DATA / "kinopoisk_itsecd_labs.jsonl.gz").exists(),
                                 reason="../shared/data is not here")]


@pytest.fixture(scope="module")
def dev():
    from sentiscore.data import dev_split

    return list(dev_split(SHARED_DATA))


def test_documented_dev_split(dev):
    assert len(dev) == 1311
    assert sum(row["score10"] is not None for row in dev) == 879
    from sentiscore.grades import extract_score

    assert not any(extract_score(row["text"]) for row in dev)  # every rating stripped


def test_extraction_agrees_with_the_corpus_scores():
    from sentiscore.grades import extract_score
    from sentiscore.preprocess import normalize

    agree = total = 0
    with gzip.open(SHARED_DATA / "kinopoisk_itsecd_labs.jsonl.gz", "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if record["score10"] is None:
                continue
            found = extract_score(normalize(record["text"]))
            total += 1
            agree += found is not None and abs(found.value * 10 / found.scale - record["score10"]) < 1e-6
    assert total == 6101
    assert agree / total > 0.97


def test_shipped_lite_model_on_the_dev_split(dev):
    from sentiscore.evaluate import score_metrics, sentiment_metrics
    from sentiscore.labels import SENTIMENTS
    from sentiscore.predict import load_model

    probabilities, scores, _ = load_model("sentiscore-lite").score_texts([row["text"] for row in dev])
    truth = np.array([SENTIMENTS.index(row["sentiment"]) for row in dev])
    assert sentiment_metrics(truth, probabilities)["posneg_accuracy"] >= 0.91
    true_scores = np.array([np.nan if row["score10"] is None else row["score10"] for row in dev])
    assert score_metrics(true_scores, scores)["mae"] <= 1.5


def test_the_word_cache_gives_the_tokenizers_ids_on_every_corpus():
    from tokenizers import Tokenizer

    from sentiscore.data import CORPORA
    from sentiscore.files import read_records
    from sentiscore.preprocess import normalize
    from sentiscore.wordpieces import WordCachedTokenizer
    from tests.conftest import SHIPPED_TOKENIZER

    tokenizer = Tokenizer.from_file(str(SHIPPED_TOKENIZER / "tokenizer.json"))
    cache = WordCachedTokenizer(tokenizer)
    for files in CORPORA.values():
        records = zip(read_records(SHARED_DATA / files[0]), range(500))
        raw = [record["text"] for record, _ in records if isinstance(record.get("text"), str)]
        for texts in (raw, [normalize(text) for text in raw]):
            expected = [encoding.ids for encoding in tokenizer.encode_batch(texts, add_special_tokens=False)]
            assert [ids.tolist() for ids in cache.encode(texts)] == expected, files[0]
