"""The lexical baseline ("lite"): TF-IDF over pymorphy3 lemmas and their bigrams (or, to measure what the
lemmas bring, lower-cased words and theirs), a logistic-regression sentiment classifier and a ridge score
regressor.

Saved without pickle: the vocabulary in JSON and every array in a ``.npz`` read with ``allow_pickle=False``,
so loading a model from an untrusted folder runs no code.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .labels import SCORE_MAX, SCORE_MIN, SENTIMENTS
from .predict import ScorerBase
from .preprocess import shared_lemmatizer, tokenize

FORMAT = "sentiscore-lite"
FORMAT_VERSION = 1
VOCABULARY_FILE = "vocabulary.json"
ARRAYS_FILE = "weights.npz"
CONFIG_FILE = "lite.json"


def lemma_ngrams(text: str) -> list[str]:
    """Lemmas and lemma bigrams: the features of the lite model."""
    return _with_bigrams(shared_lemmatizer()(text))


def word_ngrams(text: str) -> list[str]:
    """Lower-cased words and their bigrams, for the ablation of lemmatisation."""
    return _with_bigrams(tokenize(text.lower()))


def _with_bigrams(terms: list[str]) -> list[str]:
    return terms + [f"{a} {b}" for a, b in zip(terms, terms[1:])]


FEATURES = {"lemmas": lemma_ngrams, "words": word_ngrams}


class LiteModel(ScorerBase):
    """TF-IDF features, a 3-way linear sentiment classifier and a linear score regressor."""

    def __init__(self, vocabulary: dict[str, int], idf: np.ndarray, sentiment_coef: np.ndarray,
                 sentiment_intercept: np.ndarray, score_coef: np.ndarray, score_intercept: float,
                 name: str = "sentiscore-lite", version: str = "1.0", metadata: dict | None = None,
                 features: str = "lemmas") -> None:
        from sklearn.feature_extraction.text import CountVectorizer

        self.vocabulary = vocabulary
        self.idf = idf.astype(np.float32)
        self.sentiment_coef = sentiment_coef.astype(np.float32)
        self.sentiment_intercept = sentiment_intercept.astype(np.float32)
        self.score_coef = score_coef.astype(np.float32)
        self.score_intercept = float(score_intercept)
        self.name, self.version = name, version
        self.metadata = metadata or {}
        self.features_kind = features
        self._counter = CountVectorizer(analyzer=FEATURES[features], vocabulary=vocabulary, dtype=np.float32)

    def features(self, texts: Sequence[str]):
        """Sublinear TF times IDF, each row L2-normalised (a sparse matrix)."""
        from sklearn.preprocessing import normalize

        counts = self._counter.transform(texts)
        counts.data = 1.0 + np.log(counts.data)
        return normalize(counts.multiply(self.idf).tocsr())

    def prepare(self, texts: Sequence[str]):
        return self.features(texts)

    def run(self, x, progress: bool = True) -> tuple[np.ndarray, np.ndarray, None]:
        """Fast enough to need no progress bar."""
        logits = x @ self.sentiment_coef.T + self.sentiment_intercept
        logits = np.asarray(logits - logits.max(1, keepdims=True))
        probabilities = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        scores = np.clip(np.asarray(x @ self.score_coef).ravel() + self.score_intercept, SCORE_MIN, SCORE_MAX)
        return probabilities.astype(np.float32), scores.astype(np.float32), None

    @classmethod
    def fit(cls, texts: Sequence[str], sentiments: Sequence[str | None], scores: Sequence[float | None], *,
            max_features: int = 100_000, min_df: int = 2, c: float = 10.0, alpha: float = 1.0,
            features: str = "lemmas") -> LiteModel:
        """Fit on reviews with partial labels: the classifier sees the rows with a sentiment, the regressor the
        rows with a score. ``features``: ``lemmas`` or ``words`` (see ``FEATURES``)."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression, Ridge

        if features not in FEATURES:
            raise ValueError(f"features must be one of {', '.join(FEATURES)}, not {features!r}")
        vectorizer = TfidfVectorizer(analyzer=FEATURES[features], sublinear_tf=True, min_df=min_df,
                                     max_features=max_features, dtype=np.float32)
        x = vectorizer.fit_transform(texts)
        has_sentiment = np.array([s is not None for s in sentiments])
        y = np.array([SENTIMENTS.index(s) for s in sentiments if s is not None])
        classifier = LogisticRegression(C=c, max_iter=2000).fit(x[has_sentiment], y)
        coef = np.zeros((len(SENTIMENTS), x.shape[1]), dtype=np.float32)
        intercept = np.full(len(SENTIMENTS), -1e4, dtype=np.float32)
        if len(classifier.classes_) == 2:
            # A binary fit has one row, for the second class; softmax over (0, w) is its sigmoid.
            coef[classifier.classes_[0]], intercept[classifier.classes_[0]] = 0.0, 0.0
            coef[classifier.classes_[1]] = classifier.coef_[0]
            intercept[classifier.classes_[1]] = classifier.intercept_[0]
        else:
            coef[classifier.classes_] = classifier.coef_
            intercept[classifier.classes_] = classifier.intercept_
        has_score = np.array([s is not None and not np.isnan(s) for s in scores])
        regressor = Ridge(alpha=alpha).fit(x[has_score], np.array(scores, dtype=float)[has_score])
        vocabulary = {term: int(i) for term, i in vectorizer.vocabulary_.items()}
        return cls(vocabulary, vectorizer.idf_, coef, intercept, regressor.coef_, regressor.intercept_,
                   metadata={"max_features": max_features, "min_df": min_df, "C": c, "alpha": alpha,
                             "sentiment_rows": int(has_sentiment.sum()), "score_rows": int(has_score.sum())},
                   features=features)

    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / VOCABULARY_FILE).write_text(json.dumps(self.vocabulary, ensure_ascii=False))
        np.savez_compressed(path / ARRAYS_FILE, idf=self.idf.astype(np.float16),
                            sentiment_coef=self.sentiment_coef.astype(np.float16),
                            sentiment_intercept=self.sentiment_intercept,
                            score_coef=self.score_coef.astype(np.float16),
                            score_intercept=np.array([self.score_intercept], dtype=np.float32))
        (path / CONFIG_FILE).write_text(json.dumps(
            {"format": FORMAT, "format_version": FORMAT_VERSION, "name": self.name, "version": self.version,
             "features": self.features_kind, "metadata": self.metadata}, ensure_ascii=False, indent=2) + "\n")

    @staticmethod
    def is_saved_at(path: str | Path) -> bool:
        return (Path(path) / CONFIG_FILE).is_file()

    @classmethod
    def load(cls, path: str | Path) -> LiteModel:
        path = Path(path)
        config = json.loads((path / CONFIG_FILE).read_text())
        if config.get("format") != FORMAT or config.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{path} holds {config.get('format')} v{config.get('format_version')}, "
                             f"not {FORMAT} v{FORMAT_VERSION}")
        with np.load(path / ARRAYS_FILE, allow_pickle=False) as arrays:
            return cls(json.loads((path / VOCABULARY_FILE).read_text()), arrays["idf"].astype(np.float32),
                       arrays["sentiment_coef"], arrays["sentiment_intercept"], arrays["score_coef"],
                       float(arrays["score_intercept"][0]), config["name"], config["version"], config["metadata"],
                       config.get("features", "lemmas"))
