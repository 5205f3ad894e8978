"""The word cache gives exactly the shipped tokenizer's ids, whatever the text."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer
from tokenizers.pre_tokenizers import Metaspace, Whitespace

from sentiscore.wordpieces import WordCachedTokenizer
from tests.conftest import NEGATIVE, POSITIVE, SHIPPED_TOKENIZER


@pytest.fixture(scope="module")
def shipped() -> Tokenizer:
    return Tokenizer.from_file(str(SHIPPED_TOKENIZER / "tokenizer.json"))


def rust_ids(tokenizer: Tokenizer, text: str) -> list[int]:
    return tokenizer.encode(text, add_special_tokens=False).ids


def test_reviews_get_the_tokenizers_ids_from_a_cold_and_a_warm_cache(shipped):
    texts = [text for _, text, _ in POSITIVE + NEGATIVE]
    cache = WordCachedTokenizer(shipped)
    cold = [ids.tolist() for ids in cache.encode(texts)]
    assert len(cache.words) > 20
    warm = [ids.tolist() for ids in cache.encode(texts)]
    assert cold == warm == [rust_ids(shipped, text) for text in texts]


# Words, every kind of space, the ▁ mark, special tokens, characters the normaliser rewrites.
PIECES = ["фильм", "Отличный", "ёлка", "не", "10/10", "!!!", "...", "<s>", "</s>", "<mask>", "▁", " ", "  ", "\t",
          "\n", "\u00a0", "\u3000", "\u200b", "ﬁ", "①", "Ａ", "е\u0308", "😀", "x", "", "—", "«", "»", "\r", "\u00ad",
          "\u0301", "🏻", "\ufe0f", "\u0600", "\u0d4e", "\u2028"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=12))
def test_any_mix_of_words_spaces_and_special_tokens(shipped, parts):
    text = "".join(parts)
    assert WordCachedTokenizer(shipped).encode([text])[0].tolist() == rust_ids(shipped, text)


def test_every_character_of_the_plane_beside_words_spaces_and_line_breaks(shipped):
    # each character at a word's start, inside it, at its end, alone between spaces, and after a line break
    texts = [text for code in range(0x10000) if not 0xD800 <= code <= 0xDFFF
             for c in [chr(code)] for text in (f"фильм {c}хорош", f"фильм{c} хорош", f"фильм {c} хорош", f"{c}фильм",
                                                f"фильм{c}", f"а\n{c}б")]
    rust = [encoding.ids for encoding in shipped.encode_batch(texts, add_special_tokens=False)]
    ours = [ids.tolist() for ids in WordCachedTokenizer(shipped).encode(texts)]
    assert [text for text, a, b in zip(texts, rust, ours) if a != b] == []


def test_a_full_cache_starts_again(shipped):
    cache = WordCachedTokenizer(shipped, max_words=3)
    text = "раз два три четыре пять шесть"
    assert cache.encode([text])[0].tolist() == rust_ids(shipped, text)
    assert len(cache.words) <= 3


def test_only_tokenizers_that_split_at_spaces_first(shipped):
    assert WordCachedTokenizer.handles(shipped)
    other = Tokenizer.from_str(shipped.to_str())
    other.pre_tokenizer = Whitespace()
    assert not WordCachedTokenizer.handles(other)
    other.pre_tokenizer = Metaspace(split=False)
    assert not WordCachedTokenizer.handles(other)
    with pytest.raises(ValueError):
        WordCachedTokenizer(other)


def test_the_model_reads_whole_texts_whatever_truncation_its_tokenizer_carries(tiny_base):
    from sentiscore.model import ModelConfig, ReviewModel

    model = ReviewModel.from_base(tiny_base, ModelConfig(window=34))
    text = " ".join(text for _, text, _ in POSITIVE)
    whole = model.encode_text([text])[0].tolist()
    model.tokenizer(text, truncation=True, max_length=8)  # leaves truncation set on the Rust tokenizer
    assert model.encode_text([text])[0].tolist() == whole
    assert len(whole) > 8
