import json

import pandas as pd
import pytest

from sentiscore.data import (
    SCHEMA,
    dev_split,
    in_holdout,
    load_corpus,
    load_reviews,
    load_rows,
    review_row,
    split_by_group,
)
from tests.conftest import write_reviews


def test_review_row_strips_the_rating_and_takes_the_score_from_it():
    row = review_row("<b>Сильное</b> кино.\n\n8 из 10", sentiment=None, score10=None, domain="film",
                     group="Фильм", source="test")
    assert row == {"text": "Сильное кино.", "sentiment": "positive", "score10": 8.0, "domain": "film",
                   "group": "Фильм", "source": "test"}


def test_review_row_trusts_a_given_score_and_clamps_it():
    row = review_row("Плохо.\n0 из 10", sentiment="negative", score10=0, domain="film", group="x", source="t",
                     score_from_text=False)
    assert (row["text"], row["score10"], row["sentiment"]) == ("Плохо.", 1.0, "negative")


def test_documented_dev_rule():
    # md5("Оно") ends in ... the same rule the shared README gives, checked on its own formula
    import hashlib

    for title in ["Оно", "Зелёная миля", "Побег из Шоушенка", "Матрица", "Интерстеллар"]:
        expected = int(hashlib.md5(title.encode("utf-8")).hexdigest(), 16) % 10 == 0
        assert in_holdout(title, "kinopoisk") == expected
        assert in_holdout(title, "kinopoisk_more") == expected


def test_load_corpus_in_the_common_schema(corpus_dir):
    dataset = load_corpus("kinopoisk", corpus_dir)
    assert dataset.column_names == list(SCHEMA)
    assert len(dataset) == 16
    assert all(" из 10" not in text for text in dataset["text"])
    assert sorted(set(dataset["sentiment"])) == ["negative", "positive"]
    assert set(dataset["domain"]) == {"film"}


def test_splits_never_cut_a_group(corpus_dir):
    dataset = load_corpus("kinopoisk", corpus_dir)
    held_out, train = split_by_group(dataset, True), split_by_group(dataset, False)
    assert len(held_out) + len(train) == len(dataset)
    assert not set(held_out["group"]) & set(train["group"])
    assert list(dev_split(corpus_dir)["text"]) == list(held_out["text"])
    assert len(load_rows(["kinopoisk"], corpus_dir, part="train")) == len(train)


def test_unknown_corpus_and_missing_file(tmp_path):
    with pytest.raises(ValueError, match="unknown corpus"):
        load_corpus("imdb", tmp_path)
    with pytest.raises(FileNotFoundError, match="shared/data"):
        load_corpus("livelib", tmp_path)


@pytest.mark.parametrize("suffix", ["csv", "tsv", "jsonl", "jsonl.gz", "parquet"])
def test_every_format_reads_for_evaluation(tmp_path, suffix):
    frame = pd.DataFrame({"text": ["Хорошо.\n\n9/10", "Плохо."], "author": [None, "Аня"]})
    path = tmp_path / f"reviews.{suffix}"
    write_reviews(frame, path)
    reviews = load_reviews(path)
    assert reviews["score10"] == [9.0, None]
    assert reviews["text"] == ["Хорошо.", "Плохо."]


REVIEW = "Отличный фильм, пересмотрю ещё не раз. 9 из 10"


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_a_windows_1251_file_reads_as_russian(tmp_path, suffix):
    path = tmp_path / f"reviews.{suffix}"
    if suffix == "csv":
        path.write_bytes(f"text\n\"{REVIEW}\"\n".encode("cp1251"))
    else:
        path.write_bytes((json.dumps({"text": REVIEW}, ensure_ascii=False) + "\n").encode("cp1251"))
    reviews = load_reviews(path)
    assert reviews["text"] == ["Отличный фильм, пересмотрю ещё не раз."] and reviews["score10"] == [9.0]


def test_a_semicolon_separated_csv_reads_for_evaluation(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_bytes(f'id;text\n1;"{REVIEW}"\n'.encode("cp1251"))
    assert load_reviews(path)["score10"] == [9.0]


def test_cut_off_json_lines_are_left_out_of_an_evaluation_with_a_warning(tmp_path):
    path = tmp_path / "reviews.jsonl"
    path.write_text(json.dumps({"text": REVIEW}, ensure_ascii=False) + '\n{"text": "Ужасно, 2 из\n')
    with pytest.warns(UserWarning, match="1 record"):
        reviews = load_reviews(path)
    assert reviews["score10"] == [9.0]


def test_a_json_array_reads_for_evaluation_and_a_broken_one_says_where(tmp_path):
    path = tmp_path / "reviews.json"
    path.write_text(json.dumps([{"text": REVIEW}, {"text": "Скучно. 3 из 10"}], ensure_ascii=False, indent=1))
    assert load_reviews(path)["score10"] == [9.0, 3.0]
    path.write_text('[{"text": "Отлично"}, {"text": "Скучно",, "id": 2}, {"text": "Хорошо"}]')
    with pytest.raises(ValueError, match="broken in the element at character 23"):
        load_reviews(path)


def test_scores_and_labels_from_columns_on_their_own_scales(tmp_path):
    path = tmp_path / "livelib.csv"
    pd.DataFrame({
        "text": [REVIEW, "Скучная книга, еле дочитала.", "Читать можно.", "Так себе.", "Прекрасный слог."],
        "stars": ["4,5", "1", "", "четыре", None],
        "label": ["Положительный", "bad", "NEUTRAL", "", "good"],
    }).to_csv(path, index=False)
    with pytest.warns(UserWarning, match="1 cell"):  # "четыре"; the empty cells are unscored, not unreadable
        reviews = load_reviews(path, score_column="stars", score_scale=5, sentiment_column="label")
    assert reviews["score10"] == [9.0, 2.0, None, None, None]  # the column, not the text's "9 из 10"
    assert reviews["text"][0] == "Отличный фильм, пересмотрю ещё не раз."  # which is still stripped
    assert reviews["sentiment"] == ["positive", "negative", "neutral", None, "positive"]


def test_an_unknown_sentiment_label_is_named(tmp_path):
    path = tmp_path / "reviews.csv"
    pd.DataFrame({"text": [REVIEW], "label": ["1"]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match="unknown sentiment label '1'"):
        load_reviews(path, sentiment_column="label")


def test_the_review_column_is_guessed_and_a_missing_one_named(tmp_path):
    path = tmp_path / "scraped.csv"
    reviews = pd.DataFrame({"review_id": ["a", "b"], "review_text": [REVIEW, "Скучно и затянуто. 3 из 10"]})
    reviews.to_csv(path, index=False)
    assert load_reviews(path)["score10"] == [9.0, 3.0]
    with pytest.raises(ValueError, match=r"no column 'text' in .*; its columns: \['review_id', 'review_text'\]"):
        load_reviews(path, text_column="text")


def test_a_review_inside_nested_records_is_evaluated_by_its_path(tmp_path):
    path = tmp_path / "api.jsonl"
    records = [{"review": {"body": {"text": REVIEW}}, "stars": 5}, {"review": None, "stars": 1},
               {"review": {"body": {"text": "Скучная книга, еле дочитала."}}, "stars": 1}]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    reviews = load_reviews(path, text_column="review.body.text", score_column="stars", score_scale=5)
    assert reviews["text"] == ["Отличный фильм, пересмотрю ещё не раз.", "Скучная книга, еле дочитала."]
    assert reviews["score10"] == [10.0, 2.0]
