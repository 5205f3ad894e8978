"""Running the transformer model over many texts: windows, length-grouped batches, bf16 on GPU."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from .batching import length_batches
from .model import ReviewModel, median_score, score_interval, window_ids
from .predict import ScorerBase

PROGRESS_FROM = 256
"""Scoring at least this many texts at once shows a progress bar."""


def pick_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda asked for, but torch sees no GPU")
    return torch.device(device)


def autocast(device: torch.device):
    """bf16 matrix work on a GPU; plain fp32 on the CPU, where the weights are kept exact."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


@torch.inference_mode()
def infer_ids(model: ReviewModel, token_ids: Sequence[Sequence[int]], device: torch.device,
              batch_tokens: int = 32_768, progress=None) -> tuple[np.ndarray, np.ndarray]:
    """Sentiment probabilities [n, 3] and score distributions [n, 10] for tokenised reviews, read whole."""
    model.eval()
    size = model.content_size
    windows = [window_ids(ids, size, model.config.max_windows) for ids in token_ids]
    counts = np.array([len(w) for w in windows])
    widths = np.array([max(len(x) for x in w) + 2 for w in windows])
    sentiment = np.zeros((len(windows), 3), dtype=np.float32)
    scores = np.zeros((len(windows), 10), dtype=np.float32)
    for batch in length_batches(counts, widths, batch_tokens):
        with autocast(device):
            sentiment_logits, score_logits = model(*model.collate([windows[i] for i in batch], device))
        sentiment[batch] = sentiment_logits.float().softmax(-1).cpu().numpy()
        scores[batch] = score_logits.float().softmax(-1).cpu().numpy()
        if progress is not None:
            progress.update(len(batch))
    return sentiment, scores


class TransformerScorer(ScorerBase):
    """A saved ReviewModel behind the ``Scorer`` interface."""

    def __init__(self, model: ReviewModel, device: torch.device, batch_tokens: int = 32_768) -> None:
        self.model = model.to(device).eval()
        self.device = device
        self.batch_tokens = batch_tokens
        self.name = model.config.name
        self.version = model.config.version

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> TransformerScorer:
        resolved = pick_device(device)
        return cls(ReviewModel.load(path), resolved)

    def prepare(self, texts: Sequence[str]) -> list[list[int]]:
        return self.model.encode_text(list(texts))

    def run(self, ids: list[list[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        from tqdm.auto import tqdm

        with tqdm(total=len(ids), desc=self.name, unit="review", disable=len(ids) < PROGRESS_FROM) as bar:
            sentiment, distribution = infer_ids(self.model, ids, self.device, self.batch_tokens, bar)
        low, high = score_interval(distribution, self.model.config.interval)
        return sentiment, median_score(distribution), np.stack([low, high], axis=1)
