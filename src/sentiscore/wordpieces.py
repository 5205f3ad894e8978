"""Token ids through a cache of words, for tokenizers that cut a text into space-separated words before their model
sees it (sentencepiece's Metaspace with a Unigram model, as the shipped encoder's): a word then gets the same
pieces wherever it stands, and review vocabulary is Zipfian, so most words are looked up instead of tokenised.
The same ids as the Rust tokenizer; a dev review's tokens in ~400 µs instead of ~1,200 on 2 cores, the cache
warm (`benchmarks/cpu_side.py`, "all of prepare_batch" less checks and normalisation, before and after it)."""

from __future__ import annotations

import numpy as np
from tokenizers import Tokenizer
from tokenizers.models import Unigram
from tokenizers.pre_tokenizers import Metaspace

MAX_WORDS = 500_000
"""Words kept in the cache; when it is full it starts again (a few MB per 100,000 words)."""


class WordCachedTokenizer:
    """``encode`` equals ``Tokenizer.encode_batch(texts, add_special_tokens=False)``'s ids; texts that could be
    split differently (special tokens or the ▁ mark in them, a leading space) go to the tokenizer whole."""

    def __init__(self, tokenizer: Tokenizer, max_words: int = MAX_WORDS) -> None:
        if not self.handles(tokenizer):
            raise ValueError("needs a Unigram tokenizer with a splitting Metaspace pre-tokenizer")
        self.tokenizer = tokenizer
        self.mark = tokenizer.pre_tokenizer.replacement
        self.special = [token.content for token in tokenizer.get_added_tokens_decoder().values()]
        self.max_words = max_words
        self.words: dict[str, list[int]] = {}

    @staticmethod
    def handles(tokenizer: Tokenizer) -> bool:
        pre = tokenizer.pre_tokenizer
        return (isinstance(tokenizer.model, Unigram) and isinstance(pre, Metaspace) and pre.split
                and pre.prepend_scheme == "always" and tokenizer.truncation is None and tokenizer.padding is None)

    def encode(self, texts: list[str]) -> list[np.ndarray]:
        return [self._encode(text) for text in texts]

    def _encode(self, text: str) -> np.ndarray:
        normalized = self.tokenizer.normalizer.normalize_str(text) if self.tokenizer.normalizer else text
        if not normalized or normalized[0] == " " or self.mark in normalized \
                or any(token in text for token in self.special):
            return np.array(self.tokenizer.encode(text, add_special_tokens=False).ids, dtype=np.int32)
        ids: list[int] = []
        words, model, mark = self.words, self.tokenizer.model, self.mark
        for word in normalized.split(" "):
            pieces = words.get(word)
            if pieces is None:
                if len(words) >= self.max_words:
                    words.clear()
                pieces = words[word] = [token.id for token in model.tokenize(mark + word)]
            ids.extend(pieces)
        return np.array(ids, dtype=np.int32)
