"""Shared fixtures: a handful of Russian reviews written for these tests, in the shared corpora's format, and a
tiny randomly initialised BERT with the shipped tokenizer for fast training tests."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
SHIPPED_TOKENIZER = ROOT / "models" / "sentiscore-e5-ru" / "encoder"

POSITIVE = [
    ("Тихая гавань", "Потрясающий фильм! Сюжет держит в напряжении до последней минуты, актёры великолепны.", 9),
    ("Тихая гавань", "Очень тёплая и добрая история, после просмотра хочется жить. Рекомендую всем.", 10),
    ("Город огней", "Прекрасная музыка, отличная операторская работа и сильная игра главного героя.", 8),
    ("Город огней", "Смотрел с удовольствием, пересмотрю ещё не раз. Замечательное кино.", 9),
    ("Последний рейс", "Лучший фильм года: умный, смешной и трогательный одновременно.", 10),
    ("Последний рейс", "Хорошее кино с интересными персонажами и красивыми пейзажами.", 8),
    ("Звёздный путь", "Великолепная режиссура и отличный сценарий, время пролетело незаметно.", 9),
    ("Звёздный путь", "Добрая семейная комедия, дети были в восторге, да и мы тоже.", 8),
]
NEGATIVE = [
    ("Тихая гавань", "Скучно и затянуто, я заснул на середине. Деньги на ветер.", 2),
    ("Тихая гавань", "Ужасная игра актёров и глупый сюжет. Не советую никому.", 1),
    ("Город огней", "Разочарование: пафосные диалоги, дыры в логике и предсказуемый финал.", 3),
    ("Город огней", "Худший фильм, что я видел. Бездарно, пошло и невыносимо долго.", 1),
    ("Последний рейс", "Слабый сценарий, плохой монтаж, персонажи раздражают.", 3),
    ("Последний рейс", "Жаль потраченного времени, ушёл из зала через час.", 2),
    ("Звёздный путь", "Отвратительные спецэффекты и скучная история, совсем не понравилось.", 2),
    ("Звёздный путь", "Нудно, бессмысленно и слишком длинно. Не смотрите.", 3),
]


def kinopoisk_records() -> list[dict]:
    records = []
    for label, reviews in (("good", POSITIVE), ("bad", NEGATIVE)):
        for title, text, score in reviews:
            records.append({"id": len(records), "title": title, "label": label, "score10": float(score),
                            "text": f"{text}\n\n{score} из 10"})
    return records


def write_reviews(frame, path: Path) -> None:
    """Write a frame of reviews as its file name says: CSV, TSV, JSON lines (gzip too) or Parquet."""
    if path.suffix == ".parquet":
        frame.to_parquet(path)
    elif ".jsonl" in path.suffixes:
        lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in frame.to_dict("records"))
        with gzip.open(path, "wt", encoding="utf-8") if path.suffix == ".gz" else path.open("w") as out:
            out.write(lines)
    else:
        frame.to_csv(path, index=False, sep="\t" if path.suffix == ".tsv" else ",")


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory) -> Path:
    """A folder laid out like ../shared/data holding the fixture reviews as its Kinopoisk file."""
    folder = tmp_path_factory.mktemp("corpora")
    with gzip.open(folder / "kinopoisk_itsecd_labs.jsonl.gz", "wt", encoding="utf-8") as out:
        for record in kinopoisk_records():
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return folder


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory) -> Path:
    """A 2-layer, 32-wide BERT with random weights and the shipped model's tokenizer, saved as a folder."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    tokenizer = AutoTokenizer.from_pretrained(SHIPPED_TOKENIZER)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=130, pad_token_id=tokenizer.pad_token_id)
    folder = tmp_path_factory.mktemp("tiny_base")
    import torch

    torch.manual_seed(0)
    BertModel(config, add_pooling_layer=False).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
