"""Fine-tuning the transformer model on reviews with partial labels (a sentiment, a score, or both)."""

from __future__ import annotations

import json
import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from .batching import length_batches
from .inference import autocast, infer_ids, pick_device, progress_bar
from .labels import SENTIMENTS
from .model import (
    CONFIG_FILE,
    ENCODER_DIR,
    SCORE_BINS,
    Head,
    ModelConfig,
    ReviewModel,
    expected_score,
    median_score,
    window_ids,
)

NO_SENTIMENT = -1


@dataclass
class TrainConfig:
    """The recipe; saved next to the weights so that a run can be repeated."""

    epochs: int = 3
    learning_rate: float = 5e-5
    head_learning_rate: float = 1e-3
    weight_decay: float = 0.01
    warmup: float = 0.06
    batch_tokens: int = 16_384
    window: int = 512
    max_train_windows: int = 4
    score_l1_weight: float = 0.5
    score_weights: dict[str, float] = field(default_factory=dict)
    """Weight of a corpus's rows in the score loss (1 where unnamed): the corpora whose authors score 1-10 can
    count for more than those whose 1-5 marks were doubled."""
    seed: int = 13
    corpora: list[str] = field(default_factory=list)
    layers: int | None = None
    """The base's first layers the model was made of (see ``keep_first_layers``); None: all of them."""


@dataclass
class TokenizedCorpus:
    """Reviews as token ids (no special tokens) with their labels, in flat arrays that save as one .npz."""

    ids: np.ndarray
    offsets: np.ndarray
    sentiment: np.ndarray
    score: np.ndarray
    domain: np.ndarray
    source: np.ndarray
    holdout: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def tokens(self, index: int) -> np.ndarray:
        return self.ids[self.offsets[index] : self.offsets[index + 1]]

    def token_lists(self) -> list[np.ndarray]:
        return [self.tokens(i) for i in range(len(self))]

    def subset(self, mask: np.ndarray) -> TokenizedCorpus:
        rows = np.flatnonzero(mask)
        pieces = [self.tokens(i) for i in rows]
        offsets = np.concatenate([[0], np.cumsum([len(p) for p in pieces])]).astype(np.int64)
        ids = np.concatenate(pieces) if pieces else self.ids[:0]
        return TokenizedCorpus(ids, offsets, self.sentiment[rows], self.score[rows], self.domain[rows],
                               self.source[rows], self.holdout[rows])

    def save(self, path: str | Path) -> None:
        np.savez_compressed(path, **asdict(self))

    @classmethod
    def load(cls, path: str | Path) -> TokenizedCorpus:
        with np.load(path, allow_pickle=False) as archive:
            return cls(**{name: archive[name] for name in archive.files})

    @classmethod
    def from_rows(cls, rows, model: ReviewModel, max_tokens: int = 8192) -> TokenizedCorpus:
        """From rows of the corpus schema (``sentiscore.data``); each review cut to ``max_tokens`` tokens."""
        from .data import in_holdout

        rows = list(rows)
        encoded = model.encode_text([row["text"] for row in rows])
        encoded = [ids[:max_tokens] for ids in encoded]
        offsets = np.concatenate([[0], np.cumsum([len(ids) for ids in encoded])]).astype(np.int64)
        dtype = np.uint16 if len(model.tokenizer) <= 65_536 else np.int32
        return cls(
            ids=np.concatenate([np.asarray(ids, dtype=dtype) for ids in encoded]),
            offsets=offsets,
            sentiment=np.array([SENTIMENTS.index(r["sentiment"]) if r["sentiment"] else NO_SENTIMENT
                                for r in rows], dtype=np.int8),
            score=np.array([np.nan if r["score10"] is None else r["score10"] for r in rows], dtype=np.float32),
            domain=np.array([r["domain"] for r in rows]),
            source=np.array([r["source"] for r in rows]),
            holdout=np.array([in_holdout(r["group"], r["source"]) for r in rows]),
        )


def score_targets(scores: torch.Tensor) -> torch.Tensor:
    """Soft targets over the bins 1..10: a score between two bins shares its mass between them (7.5 → 7 and 8)."""
    position = (scores.clamp(1, SCORE_BINS) - 1).nan_to_num(0.0)
    low = position.floor().long().clamp(max=SCORE_BINS - 1)
    high = (low + 1).clamp(max=SCORE_BINS - 1)
    upper_share = position - low.float()
    targets = torch.zeros(len(scores), SCORE_BINS, device=scores.device)
    targets.scatter_add_(1, low[:, None], (1 - upper_share)[:, None])
    targets.scatter_add_(1, high[:, None], upper_share[:, None])
    return targets


def multitask_loss(sentiment_logits: torch.Tensor, score_logits: torch.Tensor, sentiment: torch.Tensor,
                   score: torch.Tensor, l1_weight: float,
                   score_weights: torch.Tensor | None = None) -> tuple[torch.Tensor, dict]:
    """Cross-entropy on the rows with a sentiment; on the rows with a score, cross-entropy against the soft
    score bins plus an L1 term on the expected score, averaged with the rows' ``score_weights`` (equal where
    None). A row lacking a label adds nothing to that part."""
    has_sentiment = sentiment != NO_SENTIMENT
    has_score = ~torch.isnan(score)
    if score_weights is not None:
        has_score &= score_weights > 0
    zero = sentiment_logits.sum() * 0.0
    sentiment_loss = F.cross_entropy(sentiment_logits[has_sentiment].float(), sentiment[has_sentiment].long()) \
        if has_sentiment.any() else zero
    if has_score.any():
        logits, target = score_logits[has_score].float(), score[has_score]
        weights = torch.ones_like(target) if score_weights is None else score_weights[has_score].float()
        per_row = -(score_targets(target) * logits.log_softmax(-1)).sum(-1) \
            + l1_weight * (expected_score(logits) - target).abs() / 4.5
        score_loss = (weights * per_row).sum() / weights.sum()
    else:
        score_loss = zero
    parts = {"sentiment": float(sentiment_loss.detach()), "score": float(score_loss.detach())}
    return sentiment_loss + score_loss, parts


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def fit(model: ReviewModel, train: TokenizedCorpus, config: TrainConfig, *, device: str = "auto",
        dev: TokenizedCorpus | None = None, log: Callable[[str], None] = print,
        progress: bool = True, on_epoch_end: Callable[[ReviewModel], None] | None = None) -> list[dict]:
    """Fine-tune encoder and heads together; returns the per-epoch log (with dev metrics when ``dev`` is given)."""
    from .evaluate import score_metrics, sentiment_metrics

    set_seed(config.seed)
    target = pick_device(device)
    model.to(target).train()
    model.config.window = config.window
    rng = np.random.default_rng(config.seed)
    size = model.content_size
    token_lists = train.token_lists()
    counts = np.array([min(max(1, math.ceil(len(t) / size)), config.max_train_windows) for t in token_lists])
    widths = np.array([min(len(t), size) + 2 for t in token_lists])
    epochs = [list(length_batches(counts, widths, config.batch_tokens, rng=rng)) for _ in range(config.epochs)]
    total_steps = sum(len(batches) for batches in epochs)

    head_params = [*model.sentiment_head.parameters(), *model.score_head.parameters()]
    optimizer = torch.optim.AdamW([
        {"params": list(model.encoder.parameters()), "lr": config.learning_rate},
        {"params": head_params, "lr": config.head_learning_rate},
    ], weight_decay=config.weight_decay, fused=target.type == "cuda")
    warmup = max(1, int(config.warmup * total_steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (total_steps - step) / max(1, total_steps - warmup))))

    sentiment = torch.from_numpy(train.sentiment.astype(np.int64))
    score = torch.from_numpy(train.score)
    score_weights = torch.tensor([config.score_weights.get(source, 1.0) for source in train.source.tolist()]) \
        if config.score_weights else None
    history = []
    for epoch, batches in enumerate(epochs, start=1):
        model.train()
        started, seen, running = time.time(), 0, 0.0
        bar = progress_bar(total=len(train), desc=f"epoch {epoch}/{config.epochs}", unit="review",
                           disable=not progress)
        for step, batch in enumerate(batches):
            windows = [window_ids(token_lists[i], size, config.max_train_windows, rng) for i in batch]
            with autocast(target, "bf16" if target.type == "cuda" else "fp32"):
                sentiment_logits, score_logits = model(*model.collate(windows, target))
            loss, parts = multitask_loss(sentiment_logits, score_logits, sentiment[batch].to(target),
                                         score[batch].to(target), config.score_l1_weight,
                                         None if score_weights is None else score_weights[batch].to(target))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            seen += len(batch)
            running = 0.98 * running + 0.02 * float(loss.detach()) if step else float(loss.detach())
            bar.update(len(batch))
            bar.set_postfix(loss=f"{running:.3f}")
        bar.close()
        record = {"epoch": epoch, "loss": round(running, 4), "seconds": round(time.time() - started, 1),
                  "reviews_per_second": round(seen / (time.time() - started), 1)}
        if dev is not None:
            probabilities, distributions = infer_ids(model, dev.token_lists(), target)
            predicted = median_score(distributions)
            has_sentiment = dev.sentiment != NO_SENTIMENT
            record["dev"] = {
                **sentiment_metrics(dev.sentiment[has_sentiment], probabilities[has_sentiment]),
                **score_metrics(dev.score, predicted),
            }
        history.append(record)
        log(json.dumps(record, ensure_ascii=False))
        model.config.training = {**asdict(config), "history": history}
        if on_epoch_end is not None:
            on_epoch_end(model)
    return history


@dataclass
class HeadsConfig:
    """The recipe for training the heads alone on a frozen encoder; saved next to them."""

    epochs: int = 10
    learning_rate: float = 3e-3
    l2: float = 1e-3
    """Weight of the heads' squared weights in the loss (``scripts/fast_model.py`` chooses it on held-out reviews)."""
    inner: int | None = None
    """Units of the heads' hidden layer (``Head``); None: linear heads."""
    batch_size: int = 256
    score_l1_weight: float = 0.5
    seed: int = 13


def fit_heads(model: ReviewModel, pooled: torch.Tensor, sentiment: np.ndarray, score: np.ndarray,
              config: HeadsConfig, log: Callable[[str], None] = print) -> list[dict]:
    """Fresh heads (``config.inner``) trained alone, with ``fit``'s loss, on the pooled vectors of a frozen
    encoder (``inference.pool_ids``): each review is read once, so a CPU can do it.

    The heads learn on standardised vectors, which one learning rate suits whatever the encoder layer's scale,
    and the standardisation is then folded into the layer that reads them, so they take the pooled vectors as
    they are."""
    set_seed(config.seed)
    mean, std = pooled.mean(0), pooled.std(0).clamp(min=1e-6)
    inputs = (pooled - mean) / std
    hidden = pooled.shape[1]
    model.sentiment_head = Head(hidden, len(SENTIMENTS), inner=config.inner)
    model.score_head = Head(hidden, SCORE_BINS, inner=config.inner)
    heads = [model.sentiment_head, model.score_head]
    parameters = [p for head in heads for p in head.parameters()]
    weights = [m.weight for head in heads for m in head.modules() if isinstance(m, torch.nn.Linear)]
    optimizer = torch.optim.Adam(parameters, lr=config.learning_rate)
    steps_per_epoch = math.ceil(len(inputs) / config.batch_size)
    total_steps = config.epochs * steps_per_epoch
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0 - step / total_steps)
    sentiment_labels = torch.from_numpy(sentiment.astype(np.int64))
    scores = torch.from_numpy(score.astype(np.float32))
    generator = torch.Generator().manual_seed(config.seed)
    history = []
    for epoch in range(1, config.epochs + 1):
        for head in heads:
            head.train()
        total = 0.0
        for batch in torch.randperm(len(inputs), generator=generator).split(config.batch_size):
            loss, _ = multitask_loss(*model.heads(inputs[batch]), sentiment_labels[batch], scores[batch],
                                     config.score_l1_weight)
            loss = loss + config.l2 * sum(weight.pow(2).sum() for weight in weights)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += float(loss.detach()) * len(batch)
        history.append({"epoch": epoch, "loss": round(total / len(inputs), 4)})
        log(json.dumps(history[-1]))
    with torch.no_grad():
        for head in heads:
            head.eval()
            linear = head.first_linear
            linear.bias -= linear.weight @ (mean / std)
            linear.weight /= std
    return history


def new_model(base: str | Path, name: str, version: str, window: int, layers: int | None = None) -> ReviewModel:
    """Fresh heads on a pretrained encoder; ``layers``: only its first ones (see ``keep_first_layers``)."""
    return ReviewModel.from_base(base, ModelConfig(name=name, version=version, window=window), layers)


def new_model_on_first_layers(model: str | Path, layers: int, output: str | Path, name: str,
                              version: str) -> ReviewModel:
    """Fresh heads on the first ``layers`` layers of a saved model's encoder (``fit_heads`` trains them). Saved in
    ``output``, the new model reads that encoder from the saved model's folder (``ModelConfig.body``) instead of
    keeping a copy of it. The path between the two is taken between their real locations, so that it holds
    wherever the folder holding both is copied (a wheel copies ``models/``, which a checkout links to)."""
    source = Path(model)
    body = ModelConfig.load(source / CONFIG_FILE)
    config = ModelConfig(name=name, version=version, window=body.window, layers=layers,
                         body=os.path.relpath(source.resolve(), Path(output).resolve()), body_version=body.version)
    return ReviewModel.from_base(source / ENCODER_DIR, config, layers)
