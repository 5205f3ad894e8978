"""Running the transformer model over many texts: windows, length-grouped batches, bf16 on GPU."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np
import torch

if TYPE_CHECKING:
    from tqdm import tqdm

from .batching import length_batches
from .model import ReviewModel, median_score, score_interval, window_spans
from .predict import ScorerBase

PROGRESS_FROM = 256
"""Scoring at least this many texts at once shows a progress bar."""

LOG_EVERY = 30.0
"""Seconds between the progress bar's lines where it cannot redraw itself (a log file, CI)."""


def progress_bar(**options: Any) -> tqdm:
    """A tqdm bar that redraws itself in a terminal or a notebook, and elsewhere (a log file, CI) writes a plain
    line every ``LOG_EVERY`` seconds."""
    from tqdm.auto import tqdm
    from tqdm.notebook import tqdm as notebook_tqdm

    if sys.stderr.isatty() or issubclass(tqdm, notebook_tqdm):
        return tqdm(mininterval=0.1, **options)
    return tqdm(mininterval=LOG_EVERY, maxinterval=max(10.0, LOG_EVERY), file=LogLines(sys.stderr), **options)


class LogLines:
    """A progress bar's output where it cannot redraw itself (a log file, CI): each update a line of its own, not
    one endless line of carriage returns."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> None:
        text = text.strip("\r\n")
        if text:
            self.stream.write(text + "\n")

    def flush(self) -> None:
        self.stream.flush()


def pick_device(device: str = "auto") -> torch.device:
    """The device ``device`` names; a GPU with its index, since file scoring runs the model in a thread of its own,
    where a bare ``cuda`` would mean the first GPU whichever this thread had chosen."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda asked for, but torch sees no GPU")
    picked = torch.device(device)
    if picked.type == "cuda" and picked.index is None:
        return torch.device("cuda", torch.cuda.current_device())
    return picked


PRECISIONS = ("auto", "fp32", "bf16")


def resolve_precision(device: torch.device, precision: str = "auto") -> str:
    """``auto``: bf16 on a GPU, and on a CPU with bf16 instructions (AVX512-BF16 or AMX), where the encoder in
    bf16 weights ran 2.0x the fp32 speed on 80 dev reviews with the same sentiment on every one and scores within
    0.013 on average (benchmarks/precision.py --rounds 3); else fp32."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16"
    cpu = torch.cpu
    bf16_cpu = getattr(cpu, "_is_avx512_bf16_supported", lambda: False)() or \
        getattr(cpu, "_is_amx_tile_supported", lambda: False)()
    return "bf16" if bf16_cpu else "fp32"


def autocast(device: torch.device, precision: str = "auto"):
    if resolve_precision(device, precision) == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def encoder_autocast(model: ReviewModel, device: torch.device, precision: str = "auto"):
    """``autocast`` for the encoder's pass, unless its weights are bf16 already (``TransformerScorer`` casts them
    where the precision is bf16), where autocast would only add casts around its fp32 operations."""
    if next(model.encoder.parameters()).dtype == torch.bfloat16:
        return contextlib.nullcontext()
    return autocast(device, precision)


def default_batch_tokens(device: torch.device) -> int:
    """Padded tokens per batch: small on a CPU, where batches that fit the caches ran fastest (4,096 tokens:
    17.6 s for 60 dev reviews against 23.4 s at 32,768), large on a GPU (on an H100, 262,144 tokens: 2,874 dev
    reviews/s in 512-token windows against 1,838 at 65,536; scripts/gpu_run.py)."""
    return 262_144 if device.type == "cuda" else 4_096


@torch.inference_mode()
def pool_ids(model: ReviewModel, token_ids: Sequence[Sequence[int]], device: torch.device,
             batch_tokens: int | None = None, progress=None, precision: str = "auto") -> torch.Tensor:
    """The pooled vector [n, hidden] of each tokenised review, read whole: its token states averaged over all
    its windows, the input of the heads.

    Windows, not reviews, are batched: sorted by length, so that most batches hold windows of one length (every
    full window of a long review has the same) and run without padding or an attention mask, the encoder's
    fastest path. Each review's token-state sums are gathered over its windows."""
    model.eval()
    size = model.content_size
    batch_tokens = batch_tokens or default_batch_tokens(device)
    lengths = np.array([len(ids) for ids in token_ids], dtype=np.int64)
    owners, offsets, spans = window_spans(lengths, size, model.config.max_windows)
    tokens = model.padded_tokens(token_ids, size)
    starts = (np.cumsum(lengths) - lengths)[owners] + offsets
    sums = torch.zeros(len(token_ids), model.encoder.config.hidden_size, device=device)
    counts = torch.zeros(len(token_ids), 1, device=device)
    if progress is not None:
        progress.reset(total=len(owners))
    for batch in length_batches(np.ones(len(owners), dtype=int), spans + 2, batch_tokens):
        input_ids, attention = model.padded_windows(tokens, starts[batch], spans[batch], device)
        with encoder_autocast(model, device, precision):
            window_sums, window_counts = model.pooled_windows(input_ids, attention)
        target = torch.from_numpy(owners[batch]).to(device)
        sums.index_add_(0, target, window_sums)
        counts.index_add_(0, target, window_counts)
        if progress is not None:
            progress.update(len(batch))
    return sums / counts.clamp(min=1.0)


@torch.inference_mode()
def infer_ids(model: ReviewModel, token_ids: Sequence[Sequence[int]], device: torch.device,
              batch_tokens: int | None = None, progress=None, precision: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """Sentiment probabilities [n, 3] and score distributions [n, 10] for tokenised reviews, read whole
    (``pool_ids``)."""
    pooled = pool_ids(model, token_ids, device, batch_tokens, progress, precision)
    with autocast(device, precision):
        sentiment_logits, score_logits = model.heads(pooled)
    return (sentiment_logits.float().softmax(-1).cpu().numpy(), score_logits.float().softmax(-1).cpu().numpy())


class TransformerScorer(ScorerBase):
    """A saved ReviewModel behind the ``Scorer`` interface."""

    def __init__(self, model: ReviewModel, device: torch.device, precision: str = "auto",
                 batch_tokens: int | None = None) -> None:
        self.model = model.to(device).eval()
        self.device = device
        self.precision = resolve_precision(device, precision)
        if self.precision == "bf16":
            # bf16 weights read faster than fp32 weights under autocast, which casts them at every matrix product:
            # on an H100 2.1x (14,090 against 6,618 dev reviews/s for sentiscore-e5-fast; the same sentiment on
            # 99.9 % of the reviews, expected scores 0.006 apart; benchmarks/gpu_inference.py), on 2 CPU cores
            # 1.17x for the 12-layer encoder and 1.04x for the 4-layer one (medians of 3 rounds, the same
            # sentiment on all 80 reviews; benchmarks/precision.py). The heads stay fp32, as the pooled sums.
            self.model.encoder.to(torch.bfloat16)
        self.batch_tokens = batch_tokens or default_batch_tokens(device)
        self.name = model.config.name
        self.version = model.config.version

    @classmethod
    def load(cls, path: str | Path, device: str = "auto", precision: str = "auto") -> TransformerScorer:
        return cls(ReviewModel.load(path), pick_device(device), precision)

    def prepare(self, texts: Sequence[str]) -> list[np.ndarray]:
        return self.model.encode_text(list(texts))

    def run(self, ids: list[np.ndarray], progress: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        with progress_bar(desc=self.name, unit="window", disable=not progress or len(ids) < PROGRESS_FROM) as bar:
            sentiment, distribution = infer_ids(self.model, ids, self.device, self.batch_tokens, bar,
                                                   self.precision)
        low, high = score_interval(distribution, self.model.config.interval_mass)
        return sentiment, median_score(distribution), np.stack([low, high], axis=1)
