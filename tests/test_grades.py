import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sentiscore.grades import Score, extract_score, find_scores, strip_score

REVIEW = "Фильм держит в напряжении до самого конца, актёры великолепны.\n\n"


@pytest.mark.parametrize(
    ("text", "value", "scale", "score10"),
    [
        (REVIEW + "8 из 10", 8, 10, 8),
        (REVIEW + "8/10", 8, 10, 8),
        (REVIEW + "8 / 10", 8, 10, 8),
        (REVIEW + "7,5 из 10", 7.5, 10, 7.5),
        (REVIEW + "10 из 10", 10, 10, 10),
        (REVIEW + "Оценка: 8", 8, 10, 8),
        (REVIEW + "Моя оценка — 9 из 10", 9, 10, 9),
        (REVIEW + "4 из 5", 4, 5, 8),
        (REVIEW + "4/5", 4, 5, 8),
        (REVIEW + "Итог: 85/100", 85, 100, 8.5),
        (REVIEW + "★★★★☆", 4, 5, 8),
        (REVIEW + "10 из\u00a010", 10, 10, 10),
        (REVIEW + "3 из 10, и те за зрелищность.", 3, 10, 3),
        (REVIEW + "Фильм на разок (5 из 10), смотрите оригинал.", 5, 10, 5),
        (REVIEW + "Ставлю 7 баллов из 10 за актёров.", 7, 10, 7),
        (REVIEW + "0 из 10", 0, 10, 1),
        (REVIEW + "Оценка: 8/10, хотя ждал большего.", 8, 10, 8),
        (REVIEW + "Итог: 6,5/10 — на один раз.", 6.5, 10, 6.5),
        (REVIEW + "12/10", 12, 10, 10),
        (REVIEW + "Ставлю 11 из 10, пересмотрю ещё не раз.", 11, 10, 10),
    ],
)
def test_finds_the_verdict(text, value, scale, score10):
    score = extract_score(text)
    assert score is not None
    assert (score.value, score.scale, score.score10) == (value, scale, score10)
    assert text[score.start : score.end].strip()[-1] in "0123456789☆★"


@pytest.mark.parametrize(
    "text",
    [
        "Такое случается в 9 из 10 случаев, но здесь всё иначе.",
        "Режиссёр потратил 1/2 фильма на предысторию, а потом всё скомкал.",
        "Премьера состоялась 12/10/2019 в Москве.",
        "Сеанс начался в 10:30, зал был полон.",
        "Только 3 из 5 героев доживают до финала, и это честно.",
        "Бюджет вырос на 2/3 по сравнению с первой частью.",
        "9 из 10 зрителей этого не заметят.",
        "Фильм длится 2,5 часа, из них 1,5 — погони.",
        "Оценка 12.05.2020 уже не имела значения.",
        "Моя оценка: 7 из 8 серий удались, остальные нет.",
        "Рейтинг 16+, так что детям не показывайте.",
        "Премьера в России прошла\n15/05",
        "",
    ],
)
def test_ignores_numbers_that_are_not_ratings(text):
    assert extract_score(text) is None
    assert strip_score(text) == text


def test_final_verdict_wins_over_earlier_ratings():
    text = "Актёрская игра — 10/10.\nСюжет — 6/10.\nВ 9 из 10 случаев такие фильмы проваливаются.\n\nИтог: 7 из 10"
    assert extract_score(text).value == 7
    assert [s.value for s in find_scores(text)] == [10, 6, 7]


def test_strip_removes_the_rating_and_nothing_else():
    text = "Сильное кино, рекомендую.\n\n9 из 10\n\nP.S. Смотрите в оригинале."
    score = extract_score(text)
    assert score == Score(9.0, 10, text.index("9 из"), text.index("9 из") + len("9 из 10"))
    assert strip_score(text) == "Сильное кино, рекомендую.\n\n\n\nP.S. Смотрите в оригинале."


def test_non_text_yields_nothing():
    assert extract_score(None) is None
    assert strip_score(None) is None


WORDS = st.sampled_from("фильм книга актёр сюжет герой зритель серия глава часть случаев минут человек из "
                        "и в на но это очень было года раз".split())
NUMBERS = st.one_of(
    st.integers(0, 300).map(str),
    st.builds(lambda a, b: f"{a},{b}", st.integers(0, 99), st.integers(0, 9)),
    st.builds(lambda a, b: f"{a}/{b}", st.integers(0, 20), st.integers(1, 100)),
    st.builds(lambda a, b: f"{a} из {b}", st.integers(0, 20), st.integers(1, 100)),
    st.builds(lambda d, m, y: f"{d:02d}.{m:02d}.{y}", st.integers(1, 28), st.integers(1, 12), st.integers(1950, 2030)),
    st.builds(lambda h, m: f"{h}:{m:02d}", st.integers(0, 23), st.integers(0, 59)),
)


@st.composite
def prose(draw):
    """Sentences where every number is followed by a word: numbers in prose, never a closing verdict."""
    sentences = []
    for _ in range(draw(st.integers(1, 4))):
        parts = [draw(WORDS).capitalize()]
        for _ in range(draw(st.integers(1, 8))):
            if draw(st.booleans()):
                parts.append(draw(NUMBERS))
            parts.append(draw(WORDS))
        sentences.append(" ".join(parts) + draw(st.sampled_from([".", "!", "?", ","])))
    return draw(st.sampled_from([" ", "\n"])).join(sentences)


@settings(max_examples=300, deadline=None)
@given(prose())
def test_prose_with_numbers_never_yields_a_score(text):
    assert extract_score(text) is None


VERDICTS = st.one_of(
    st.builds(lambda v: f"{v} из 10", st.integers(0, 10)),
    st.builds(lambda v: f"{v}/10", st.integers(0, 10)),
    st.builds(lambda v: f"Оценка: {v}", st.integers(1, 10)),
    st.builds(lambda v: f"{v} из 5", st.integers(1, 5)),
    st.builds(lambda v: "★" * v + "☆" * (5 - v), st.integers(1, 5)),
)


@settings(max_examples=300, deadline=None)
@given(prose(), VERDICTS, st.sampled_from(["\n\n", "\n", "\n\n\n"]))
def test_stripping_then_extracting_finds_nothing(text, verdict, gap):
    review = text + gap + verdict
    assert extract_score(review) is not None
    stripped = strip_score(review)
    assert extract_score(stripped) is None
    assert stripped == text + gap
