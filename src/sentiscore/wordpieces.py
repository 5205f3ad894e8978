"""Token ids through a cache of words, for tokenizers that cut a text into space-separated words before their model
sees it (sentencepiece's Metaspace with a Unigram model, as the shipped encoder's): a word then gets the same
pieces wherever it stands, and review vocabulary is Zipfian, so most words are looked up, as written, instead of
normalised and tokenised. The same ids as the Rust tokenizer; a dev review's tokens in ~230 µs on 2 cores, the
cache warm, against ~330 when every text went through the normaliser and ~1,200 by the Rust tokenizer alone
(`benchmarks/cpu_side.py`, "all of prepare_batch" less checks and normalisation, before and after each change)."""

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
        # The words are looked up as written: the tokenizer's normaliser (a fifth of the time, run on every text)
        # only meets words the cache has not seen. Texts whose words it could not take apart alone go whole.
        if any(token in text for token in self.special):
            return self._whole(text)
        ids: list[int] = []
        words = self.words
        for word in text.replace("\n", " ").split(" "):
            pieces = words.get(word)
            if pieces is None:
                if len(words) >= self.max_words:
                    words.clear()
                pieces = words[word] = self._pieces(word)
            if pieces is _WHOLE_TEXT:
                return self._whole(text)
            ids.extend(pieces)
        return np.array(ids, dtype=np.int32)

    def _pieces(self, word: str) -> list[int]:
        """The word's ids wherever it stands between spaces or line breaks, or ``_WHOLE_TEXT`` where they depend
        on what surrounds it: normalised to nothing (at a text's end, a space left there makes a piece of its own),
        or to something holding a space or the ▁ mark. The normaliser never reads a character together with the
        space or line break beside it (tests/test_wordpieces.py checks every character at every place in a
        word), so a word alone normalises as it does in its text."""
        normalized = self.tokenizer.normalizer.normalize_str(word) if self.tokenizer.normalizer else word
        if not normalized or " " in normalized or self.mark in normalized:
            return _WHOLE_TEXT
        return [token.id for token in self.tokenizer.model.tokenize(self.mark + normalized)]

    def _whole(self, text: str) -> np.ndarray:
        return np.array(self.tokenizer.encode(text, add_special_tokens=False).ids, dtype=np.int32)


_WHOLE_TEXT: list[int] = []
"""A cached word's mark that its text must be tokenised whole (compared by identity, not by value)."""
