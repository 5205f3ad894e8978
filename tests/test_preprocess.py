import math

import pytest

from sentiscore.preprocess import (
    MAX_CHARS,
    Lemmatizer,
    check_text,
    lemmatize,
    normalize,
    shared_lemmatizer,
    tokenize,
)


def test_normalize_cleans_scraped_text():
    raw = "<p>Отличный&nbsp;фильм&hellip;</p><br/>Смотрите  обязательно!_x000D_\n\n\n Всем\u00a0советую\u200b"
    assert normalize(raw) == "Отличный фильм…\nСмотрите обязательно!\nВсем советую"


def test_normalize_composes_decomposed_letters():
    assert normalize("и\u0306ога, е\u0308ж") == "йога, ёж"


def test_normalize_keeps_angle_brackets_that_are_not_tags():
    assert normalize("оценка < 5 и > 3") == "оценка < 5 и > 3"


def test_tokenize_keeps_hyphenated_words_and_yo():
    assert tokenize("Что-то по-настоящему ёмкое: 7,5 баллов, кино-шедевр!") == [
        "Что-то", "по-настоящему", "ёмкое", "7,5", "баллов", "кино-шедевр"]


def test_lemmatize_returns_pymorphy3_lemmas():
    assert lemmatize("Актёры сыграли великолепно, а фильмы бывают лучше") == [
        "актёр", "сыграть", "великолепно", "а", "фильм", "бывать", "хороший"]


def test_lemmatizer_cache_is_shared_and_bounded():
    lemmatizer = shared_lemmatizer()
    assert lemmatizer is shared_lemmatizer()
    lemmatizer("кошки бегают")
    hits = lemmatizer.lemma.cache_info().hits
    lemmatizer("кошки бегают")
    assert lemmatizer.lemma.cache_info().hits == hits + 2
    small = Lemmatizer(cache_size=2)
    small("один два три четыре")
    assert small.lemma.cache_info().currsize == 2


def test_lemmatize_leaves_non_cyrillic_words():
    assert lemmatize("Netflix сериал") == ["netflix", "сериал"]


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("Хороший фильм", "ok"),
        ("Хороший фильм, но the ending is weak", "ok"),
        ("", "empty"),
        ("   \n\t ", "empty"),
        (None, "empty"),
        (math.nan, "empty"),
        (42, "not_text"),
        (b"\xd0\x9f", "not_text"),
        ("This movie was great, I loved every minute of it.", "not_russian"),
        ("Отличный фильм".encode("cp1251").decode("utf-8", errors="replace") * 3, "decode_error"),
        ("Отличный фильм, всем советую".encode("cp1251").decode("latin-1"), "decode_error"),
        ("Отличный фильм".encode().decode("latin-1"), "decode_error"),
        ("\x00\x01\x02\x03\x04\x05\x06\x07\x08" * 20 + "а", "not_text"),
        ("Очень длинный отзыв. " * (MAX_CHARS // 10), "too_long"),
    ],
)
def test_check_text(value, status):
    assert check_text(value) == status


def test_check_text_counts_characters_as_its_expressions_do():
    import random
    import re

    import numpy as np

    from sentiscore.preprocess import _CONTROL_RUN, _CYRILLIC_RUN, _LETTER_RUN, _kind_counts

    def count(run: str | re.Pattern, text: str) -> int:
        return sum(map(len, re.findall(run, text)))

    def counted(text: str) -> tuple[int, int, int, int]:
        kinds = _kind_counts(np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32))
        return kinds[1] + kinds[2] + kinds[4], kinds[2], kinds[3], kinds[4] + kinds[5]

    def expected(text: str) -> tuple[int, int, int, int]:
        return (count(_LETTER_RUN, text), count(_CYRILLIC_RUN, text), count(_CONTROL_RUN, text),
                count("[\u00c0-\u00ff]+", text))

    pool = ("Отличный фильм, всё ёмко! Ёлка. Đẹp ÀÿÐÑ×÷ 12½ ²³ αβγ 日本語 \x00\x07\x7f\x9f\ud800\ue000 "
            "😀👍🏻 𝐀𝐁 \U000f0001 \U0010fffd _-\t\n")
    generator = random.Random(0)
    for length in [0, 1, 5, 50, 5000] * 20:
        text = "".join(generator.choice(pool) for _ in range(length))
        assert counted(text) == expected(text)
    # every character of the Basic Multilingual Plane, once: the table is the expressions
    plane = "".join(map(chr, range(0x10000)))
    assert counted(plane) == expected(plane)
    assert counted(plane)[1] == 66 and counted(plane)[3] == 64  # а-я, А-Я, ё, Ё; À to ÿ
