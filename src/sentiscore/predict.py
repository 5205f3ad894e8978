"""The public API: ``predict(text)`` and ``predict_batch(texts)``, over any shipped or saved model."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from .labels import SENTIMENTS
from .preprocess import MAX_CHARS, SCORABLE, as_text, check_text, normalize

MODELS_DIR = Path(__file__).parent / "models"
"""The shipped models: in a checkout a link to the repository's ``models/``, in a wheel a copy of it."""
DEFAULT_MODEL = "sentiscore-e5-lite"
LITE_MODEL = "sentiscore-lite"
HUB_NAME = re.compile(r"[\w.-]+/[\w.-]+")


@dataclass(frozen=True)
class Prediction:
    """What a model says of one review. ``score`` is on the 1–10 scale: for the transformer models the median of
    their predicted score distribution, a whole number, as authors write them; for the lite model a regression
    estimate. A row that could not be scored has ``status`` other than ``ok`` and ``too_long`` (a too-long text is
    read up to ``MAX_CHARS``), and no sentiment or score."""

    sentiment: str | None
    score: float | None
    probabilities: dict[str, float] = field(default_factory=dict)
    score_interval: tuple[float, float] | None = None
    status: str = "ok"

    @property
    def ok(self) -> bool:
        return self.sentiment is not None

    def to_dict(self) -> dict:
        return asdict(self)


class Scorer(Protocol):
    """A model that turns ready texts into sentiment probabilities (rows over ``SENTIMENTS``) and 1–10 scores, in
    two steps so that a pipeline can prepare the next batch (tokenise, lemmatise) while the model runs."""

    name: str
    version: str

    def prepare(self, texts: Sequence[str]) -> object:
        """The model's input for ``texts``: CPU work that may run in another thread."""
        ...

    def run(self, prepared: object, progress: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Sentiment probabilities [n, 3], scores [n], and score intervals [n, 2] or None; ``progress=False``
        keeps a slow model from showing a bar of its own (file scoring has one for the whole job)."""
        ...


class ScorerBase:
    """``score_texts`` for scorers that implement ``prepare`` and ``run``."""

    def score_texts(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        return self.run(self.prepare(texts))


@dataclass
class PreparedBatch:
    """A batch checked and turned into model input, waiting for the model."""

    statuses: list[str]
    ready: list[int]
    model_input: object


def prepare_batch(scorer: Scorer, texts: Sequence[object]) -> PreparedBatch:
    """Check every value and prepare the scorable ones (the CPU half of ``predictions_from``)."""
    texts = [as_text(value) for value in texts]
    statuses = [check_text(text) for text in texts]
    ready = [i for i, status in enumerate(statuses) if status in SCORABLE]
    model_input = scorer.prepare([normalize(texts[i][:MAX_CHARS]) for i in ready]) if ready else None
    return PreparedBatch(statuses, ready, model_input)


@dataclass
class ScoredBatch:
    """A batch's predictions as arrays over all its rows, as file scoring writes them: rows that were not scored
    hold None as sentiment and NaN elsewhere; ``intervals`` is None for a model without score intervals."""

    statuses: list[str]
    sentiments: np.ndarray
    scores: np.ndarray
    probabilities: np.ndarray
    intervals: np.ndarray | None


def score_prepared(scorer: Scorer, batch: PreparedBatch, progress: bool = True) -> ScoredBatch:
    """Run the model on a prepared batch (one call for all its scorable rows)."""
    rows = len(batch.statuses)
    sentiments = np.full(rows, None, dtype=object)
    scores, probabilities = np.full(rows, np.nan), np.full((rows, len(SENTIMENTS)), np.nan)
    intervals = None
    if batch.ready:
        ready = np.asarray(batch.ready)
        ready_probabilities, ready_scores, ready_intervals = scorer.run(batch.model_input, progress)
        sentiments[ready] = np.array(SENTIMENTS, dtype=object)[np.argmax(ready_probabilities, axis=1)]
        scores[ready], probabilities[ready] = ready_scores, ready_probabilities
        if ready_intervals is not None:
            intervals = np.full((rows, 2), np.nan)
            intervals[ready] = ready_intervals
    return ScoredBatch(batch.statuses, sentiments, scores, probabilities, intervals)


def predictions_from(scorer: Scorer, texts: Sequence[object] | PreparedBatch,
                     progress: bool = True) -> list[Prediction]:
    """Check every value, score the scorable ones in one call, and flag the rest; one Prediction per input."""
    batch = texts if isinstance(texts, PreparedBatch) else prepare_batch(scorer, texts)
    scored = score_prepared(scorer, batch, progress)
    results: list[Prediction] = [Prediction(None, None, status=status) for status in scored.statuses]
    for index in batch.ready:
        interval = None if scored.intervals is None else tuple(scored.intervals[index].tolist())
        results[index] = Prediction(scored.sentiments[index], float(scored.scores[index]),
                                    dict(zip(SENTIMENTS, scored.probabilities[index].tolist())), interval,
                                    scored.statuses[index])
    return results


def resolve_model_path(model: str | Path | None) -> Path:
    """A model given by shipped name (``sentiscore-lite``), by folder, by Hugging Face hub name (``owner/name``:
    a saved model's folder uploaded there), or None for the default."""
    if model is None:
        model = DEFAULT_MODEL if (MODELS_DIR / DEFAULT_MODEL).is_dir() else LITE_MODEL
    path = Path(model)
    if path.is_dir():
        return path
    if (MODELS_DIR / str(model)).is_dir():
        return MODELS_DIR / str(model)
    shipped = sorted(p.name for p in MODELS_DIR.iterdir() if p.is_dir()) if MODELS_DIR.is_dir() else []
    hint = f"give a folder, a hub name (owner/name) or one of the shipped models {shipped}"
    if not HUB_NAME.fullmatch(str(model)):
        raise FileNotFoundError(f"no model {str(model)!r}: {hint}")
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError

    try:  # the hub's cache answers when the network does not (or with HF_HUB_OFFLINE=1)
        return Path(snapshot_download(str(model)))
    except (OSError, HfHubHTTPError) as error:
        raise FileNotFoundError(f"no model {str(model)!r} here or on the Hugging Face hub ({error}): {hint}") from error


def load_model(model: str | Path | None = None, device: str = "auto", precision: str = "auto") -> Scorer:
    """Load a shipped or saved model once per process: later calls for the same folder, device and precision
    (however the model was named) reuse it, so an ensemble shares its members with direct users of them."""
    return _load_once(resolve_model_path(model).resolve(), device, precision)


@lru_cache(maxsize=8)
def _load_once(path: Path, device: str, precision: str) -> Scorer:
    from .ensemble import Ensemble
    from .lite import LiteModel

    if LiteModel.is_saved_at(path):
        return LiteModel.load(path)
    if Ensemble.is_saved_at(path):
        return Ensemble.load(path, device, precision)
    from .inference import TransformerScorer

    return TransformerScorer.load(path, device=device, precision=precision)


def as_scorer(model: str | Path | Scorer | None, device: str = "auto") -> Scorer:
    """A loaded model as it is, or the model a name or folder (None: the default) stands for."""
    return model if hasattr(model, "run") else load_model(model, device)


def predict(text: str, model: str | Path | Scorer | None = None) -> Prediction:
    """Sentiment and 1–10 score of one review."""
    return predict_batch([text], model)[0]


def predict_batch(texts: Iterable[object], model: str | Path | Scorer | None = None,
                  progress: bool = True) -> list[Prediction]:
    """Sentiment and score of many reviews, one Prediction per input in order (unscorable ones flagged); a slow
    model shows a progress bar over many texts unless ``progress`` is False."""
    return predictions_from(as_scorer(model), list(texts), progress)

