"""The transformer model: a BERT-family encoder (the body) plus a sentiment head and a score head.

A review longer than the encoder's window is cut into consecutive windows; the token states of all its windows
are mean-pooled together, so the whole review is read and a long review costs only more windows. Each part saves
and loads on its own: the encoder as a transformers folder, each head as a safetensors file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .labels import SENTIMENTS
from .wordpieces import WordCachedTokenizer

SCORE_BINS = 10
ENCODER_DIR = "encoder"
CONFIG_FILE = "sentiscore.json"


@dataclass
class ModelConfig:
    """What a saved model needs besides its weights to read text: ``window`` is the reading window (special
    tokens included), which may be shorter than the one it trained on (``training["window"]``): faster on a CPU,
    at some cost in quality that benchmarks/windows.py measures (the shipped encoder reads as it was trained).

    ``interval`` is the share of self-reported scores the score interval should hold; ``interval_mass`` the
    central probability mass of the predicted distribution taken to build it. An interval of whole bins holds
    more than its mass, so the mass is fitted on held-out reviews (scripts/calibrate.py); unset, it is
    ``interval``.

    ``body``: the folder of another saved model, relative to this one's, for a model that is only heads on that
    model's encoder (unset: it has its own, in ``encoder/``), and ``body_version`` the version of that model the
    heads were trained on, as retraining it would leave them reading an encoder they do not know; ``layers``:
    read only the encoder's first layers (see ``keep_first_layers``), a faster model that shares its body's
    weights."""

    name: str = "sentiscore"
    version: str = "0"
    window: int = 512
    max_windows: int | None = None
    interval: float = 0.8
    interval_mass: float | None = None
    body: str | None = None
    body_version: str | None = None
    layers: int | None = None
    training: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.interval_mass is None:
            self.interval_mass = self.interval

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> ModelConfig:
        return cls(**json.loads(path.read_text()))


class Head(nn.Module):
    """Over the pooled review vector: a dropout and a linear layer or, with ``inner`` units, a hidden layer
    (linear, GELU, dropout) before it; saved as ``<name>.safetensors``, which says which."""

    def __init__(self, hidden: int, outputs: int, dropout: float = 0.1, inner: int | None = None) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.inner = nn.Sequential(nn.Linear(hidden, inner), nn.GELU(), nn.Dropout(dropout)) if inner else None
        self.linear = nn.Linear(inner or hidden, outputs)

    @property
    def first_linear(self) -> nn.Linear:
        """The layer that reads the pooled vector."""
        return self.linear if self.inner is None else self.inner[0]

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        pooled = self.dropout(pooled)
        return self.linear(pooled if self.inner is None else self.inner(pooled))

    def save(self, path: Path) -> None:
        from safetensors.torch import save_file

        save_file({k: v.detach().float().contiguous() for k, v in self.state_dict().items()}, str(path))

    @classmethod
    def load(cls, path: Path) -> Head:
        from safetensors.torch import load_file

        state = load_file(str(path))
        inner = state["inner.0.weight"].shape[0] if "inner.0.weight" in state else None
        hidden = (state["inner.0.weight"] if inner else state["linear.weight"]).shape[1]
        head = cls(hidden, state["linear.weight"].shape[0], inner=inner)
        head.load_state_dict(state)
        return head


def window_starts(length: int, size: int, max_windows: int | None = None,
                  rng: np.random.Generator | None = None) -> list[int]:
    """Where each window of a review of ``length`` tokens starts (``window_ids``)."""
    starts = list(range(0, max(length, 1), size))
    if max_windows is not None and len(starts) > max_windows:
        middle = starts[1:-1]
        count = max_windows - 2
        if rng is not None:
            picked = sorted(rng.choice(len(middle), size=count, replace=False)) if count > 0 else []
        else:
            picked = np.linspace(0, len(middle) - 1, count + 2)[1:-1].round().astype(int).tolist()
        starts = [starts[0], *[middle[i] for i in picked], starts[-1]][:max_windows]
    return starts


def window_ids(ids: list[int] | np.ndarray, size: int, max_windows: int | None = None,
               rng: np.random.Generator | None = None) -> list[np.ndarray]:
    """Consecutive windows of ``size`` content tokens covering the whole text (at least one, maybe empty).

    With ``max_windows`` the first and last windows are kept and the rest drawn at random (``rng``) or evenly.
    """
    ids = np.asarray(ids)
    return [ids[start : start + size] for start in window_starts(len(ids), size, max_windows, rng)]


def window_spans(lengths: np.ndarray, size: int,
                 max_windows: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The windows of ``window_ids`` for many reviews at once, as arrays: the review each window belongs to, where
    it starts in that review, its length; in ``window_ids``' order, review after review. Built one by one, the
    windows of a chunk cost the main process of a GPU job ~10 µs per review."""
    lengths = np.asarray(lengths, dtype=np.int64)
    counts = np.maximum(1, -(-lengths // size))
    if max_windows is None or counts.max(initial=0) <= max_windows:
        owners = np.repeat(np.arange(len(lengths)), counts)
        starts = (np.arange(len(owners)) - np.repeat(np.cumsum(counts) - counts, counts)) * size
    else:
        picked = [np.array(window_starts(int(length), size, max_windows), dtype=np.int64) for length in lengths]
        owners = np.repeat(np.arange(len(lengths)), [len(starts) for starts in picked])
        starts = np.concatenate(picked)
    return owners, starts, np.clip(lengths[owners] - starts, 0, size)


def expected_score(score_logits: torch.Tensor) -> torch.Tensor:
    """The mean of the predicted 1..10 distribution."""
    bins = torch.arange(1, SCORE_BINS + 1, device=score_logits.device, dtype=torch.float32)
    return score_logits.float().softmax(-1) @ bins


def score_quantile(probabilities: np.ndarray, share: float) -> np.ndarray:
    """The lowest whole score whose cumulative probability reaches ``share``, for each predicted 1..10 distribution."""
    cumulative = np.cumsum(probabilities, axis=-1)
    return np.minimum((cumulative < share).sum(-1) + 1, SCORE_BINS).astype(np.float32)


def median_score(probabilities: np.ndarray) -> np.ndarray:
    """The median of each predicted 1..10 distribution, a whole number.

    Authors write whole scores, and over whole-number outcomes the expected absolute error is least at this
    median, not at the mean nor at a median interpolated inside a bin (scripts/calibrate.py compares the three on
    held-out reviews of other corpora than the dev split's).
    """
    return score_quantile(probabilities, 0.5)


def score_interval(probabilities: np.ndarray, coverage: float) -> tuple[np.ndarray, np.ndarray]:
    """The central ``coverage`` interval of each predicted 1..10 distribution (rows of ``probabilities``)."""
    tail = (1.0 - coverage) / 2
    return score_quantile(probabilities, tail), score_quantile(probabilities, 1.0 - tail)


class ReviewModel(nn.Module):
    """Encoder + mean pooling over all windows of a review + sentiment and score heads."""

    def __init__(self, encoder: nn.Module, tokenizer, config: ModelConfig | None = None,
                 sentiment_head: Head | None = None, score_head: Head | None = None) -> None:
        super().__init__()
        hidden = encoder.config.hidden_size
        self.encoder = encoder
        self.tokenizer = tokenizer
        self.config = config or ModelConfig()
        self.sentiment_head = sentiment_head or Head(hidden, len(SENTIMENTS))
        self.score_head = score_head or Head(hidden, SCORE_BINS)
        self._word_cache: WordCachedTokenizer | None = None

    @classmethod
    def from_base(cls, base: str | Path, config: ModelConfig | None = None, layers: int | None = None) -> ReviewModel:
        """Fresh heads on a pretrained encoder: a hub name (``DeepPavlov/rubert-base-cased``) or a folder;
        ``layers``: only its first ones (``load_encoder``)."""
        from transformers import AutoTokenizer

        return cls(load_encoder(base, layers=layers), AutoTokenizer.from_pretrained(str(base)), config)

    @property
    def content_size(self) -> int:
        """Tokens of text per window, the window less its two special tokens."""
        limit = getattr(self.encoder.config, "max_position_embeddings", self.config.window)
        return min(self.config.window, limit) - 2

    def encode_text(self, texts: list[str]) -> list[np.ndarray]:
        """Token ids of each text, without special tokens and without truncation."""
        backend = self.tokenizer.backend_tokenizer
        if backend.truncation or backend.padding:  # a tokenizer.json may carry its own, a transformers call too
            backend.no_truncation()
            backend.no_padding()
        if self._word_cache is None and WordCachedTokenizer.handles(backend):
            self._word_cache = WordCachedTokenizer(backend)
        if self._word_cache is not None:
            return self._word_cache.encode(texts)
        # The fast path skips the character offsets, which nothing here uses.
        encode = getattr(backend, "encode_batch_fast", backend.encode_batch)
        return [np.array(encoding.ids, dtype=np.int32) for encoding in encode(texts, add_special_tokens=False)]

    def pooled_windows(self, input_ids: torch.Tensor,
                       attention_mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Sum of token states and token count of each window (special tokens included, as e5 was trained);
        ``attention_mask`` None: no window is padded, which lets the encoder take its fastest attention kernel."""
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        # Summed in fp32 whatever the states' precision: 512 bf16 states summed into bf16 would lose digits.
        if attention_mask is None:
            return (states.sum(1, dtype=torch.float32),
                    torch.full((len(states), 1), float(states.shape[1]), device=states.device))
        mask = attention_mask.unsqueeze(-1).to(states.dtype)
        return (states * mask).sum(1, dtype=torch.float32), mask.sum(1, dtype=torch.float32)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None, window_doc: torch.Tensor,
                n_docs: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Sentiment and score logits per review, from a batch of windows and the review each belongs to."""
        sums, counts = self.pooled_windows(input_ids, attention_mask)
        doc_sums = torch.zeros(n_docs, sums.shape[1], device=sums.device).index_add_(0, window_doc, sums)
        doc_counts = torch.zeros(n_docs, 1, device=sums.device).index_add_(0, window_doc, counts)
        return self.heads(doc_sums / doc_counts.clamp(min=1.0))

    def heads(self, pooled: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Sentiment and score logits from pooled review vectors."""
        return self.sentiment_head(pooled), self.score_head(pooled)

    def collate(self, docs: list[list[np.ndarray]], device: torch.device | str = "cpu"):
        """Tensors for ``forward`` from reviews given as lists of content windows (``padded_windows``)."""
        windows = [window for doc in docs for window in doc]
        lengths = np.array([len(window) for window in windows], dtype=np.int64)
        tokens = self.padded_tokens(windows, int(lengths.max()))
        input_ids, attention = self.padded_windows(tokens, np.cumsum(lengths) - lengths, lengths, device)
        window_doc = np.repeat(np.arange(len(docs)), [len(doc) for doc in docs])
        return input_ids, attention, torch.from_numpy(window_doc).to(device), len(docs)

    def padded_tokens(self, pieces: Sequence[Sequence[int]], widest: int) -> np.ndarray:
        """The pieces' token ids end to end, then ``widest`` pad ids, as ``padded_windows`` takes them: any window
        of at most ``widest`` tokens is then a row of their strided view, the last one too."""
        padding = np.full(widest, self.tokenizer.pad_token_id, dtype=np.int32)
        return np.concatenate([*pieces, padding]).astype(np.int32, copy=False)  # int32, as the tokenizer gives

    def padded_windows(self, tokens: np.ndarray, starts: np.ndarray, lengths: np.ndarray,
                       device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor | None]:
        """Input ids [windows, widest + 2] and attention mask for the windows ``tokens[start : start + length]``,
        each between the encoder's first and last special tokens and padded. The mask is None when no window is
        padded: decided here from the lengths, since asking a mask on a GPU whether it holds a zero would wait
        for every batch before it. ``tokens``: from ``padded_tokens``."""
        tokenizer = self.tokenizer
        pad, width = tokenizer.pad_token_id, int(lengths.max()) + 2
        input_ids = np.full((len(lengths), width), pad, dtype=np.int64)
        input_ids[:, 0] = tokenizer.cls_token_id
        if width > 2:
            # Each window is a row of a strided view of the tokens: one copy per row, as a slice would be.
            input_ids[:, 1 : width - 1] = np.lib.stride_tricks.sliding_window_view(tokens, width - 2)[starts]
        attention = None
        if lengths.min() + 2 < width:
            mask = np.arange(width) < lengths[:, None] + 2
            input_ids[~mask] = pad
            attention = torch.from_numpy(mask.astype(np.int64)).to(device)
        input_ids[np.arange(len(lengths)), lengths + 1] = tokenizer.sep_token_id
        return torch.from_numpy(input_ids).to(device), attention

    def save(self, path: str | Path, dtype: torch.dtype = torch.float16) -> None:
        """The heads and config in ``path``, and the encoder and tokenizer in ``path/encoder`` unless the model
        reads another model's (``config.body``), which must then be found from ``path`` as from its first home."""
        path = Path(path)
        if self.config.body is not None and not encoder_folder(path, self.config).is_dir():
            raise ValueError(f"{path} would not find the encoder it reads, in {self.config.body}: save the model "
                             f"beside the model it shares the encoder with")
        path.mkdir(parents=True, exist_ok=True)
        if self.config.body is None:
            reading = next(self.encoder.parameters()).dtype  # bf16 where a scorer reads so, else fp32
            self.encoder.to(dtype).save_pretrained(path / ENCODER_DIR)
            self.encoder.to(reading)
            self.tokenizer.save_pretrained(path / ENCODER_DIR)
        self.sentiment_head.save(path / "sentiment_head.safetensors")
        self.score_head.save(path / "score_head.safetensors")
        self.config.save(path / CONFIG_FILE)

    @classmethod
    def load(cls, path: str | Path, dtype: torch.dtype = torch.float32) -> ReviewModel:
        from transformers import AutoTokenizer

        path = Path(path)
        config = ModelConfig.load(path / CONFIG_FILE)
        if config.body is not None:
            body = ModelConfig.load(path / config.body / CONFIG_FILE)
            if body.version != config.body_version:
                raise ValueError(f"{path}'s heads were trained on the encoder of {body.name} {config.body_version}, "
                                 f"and {config.body} is {body.name} {body.version}: train them again on it "
                                 f"(scripts/fast_model.py)")
        encoder = encoder_folder(path, config)
        return cls(load_encoder(encoder, dtype, config.layers), AutoTokenizer.from_pretrained(encoder), config,
                   Head.load(path / "sentiment_head.safetensors"), Head.load(path / "score_head.safetensors"))


def encoder_folder(path: Path, config: ModelConfig) -> Path:
    """The encoder folder of the model saved (or to be saved) at ``path``; ``..`` is resolved in the path's
    text, as the folder may not exist yet."""
    return Path(os.path.normpath(path / (config.body or ".") / ENCODER_DIR))


def keep_first_layers(encoder: nn.Module, layers: int) -> nn.Module:
    """The encoder cut to its first ``layers`` transformer layers, in place: less arithmetic per token in
    proportion, to be fine-tuned as it is. The bottom layers are kept because, fine-tuned, a model loses least by
    dropping its top ones (Sajjad et al., "On the Effect of Dropping Layers of Pre-trained Transformer Models").
    Its config says how many it has, so the saved model loads as it was trained."""
    stack = getattr(getattr(encoder, "encoder", None), "layer", None)
    if stack is None:
        raise ValueError(f"{type(encoder).__name__} keeps its layers elsewhere than BERT's encoder.layer")
    if not 1 <= layers <= len(stack):
        raise ValueError(f"the encoder has {len(stack)} layers: keep 1 to {len(stack)}, not {layers}")
    encoder.encoder.layer = nn.ModuleList(list(stack)[:layers])
    encoder.config.num_hidden_layers = layers
    return encoder


def load_encoder(base: str | Path, dtype: torch.dtype = torch.float32, layers: int | None = None) -> nn.Module:
    """A pretrained encoder without the pooler BERT checkpoints carry (the model pools the token states itself);
    ``layers``: only its first ones (``keep_first_layers``), whose weights alone are read."""
    from transformers import AutoConfig, AutoModel
    from transformers.utils import logging

    logging.disable_progress_bar()
    config = AutoConfig.from_pretrained(str(base))
    options = {"add_pooling_layer": False} if config.model_type == "bert" else {}
    if layers is not None and layers <= getattr(config, "num_hidden_layers", 0):
        options["num_hidden_layers"] = layers
    verbosity = logging.get_verbosity()
    logging.set_verbosity_error()  # else the skipped layers' weights are listed as unexpected
    try:
        encoder = AutoModel.from_pretrained(str(base), dtype=dtype, **options)
    finally:
        logging.set_verbosity(verbosity)
    return encoder if layers is None else keep_first_layers(encoder, layers)
