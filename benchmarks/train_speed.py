"""What fine-tuning costs on this machine: `sentiscore train`'s own loop (``train.fit``, one epoch, the shipped
encoder's recipe) on a random sample of its training reviews, for the shipped encoder cut to N layers, and how long
one epoch over all of those reviews would take at that rate. It says why the CPU-built fast model trains only its
heads (models/README.md).

Run: python benchmarks/train_speed.py [--layers 12 4] [--reviews 200] [--batch-tokens N] [--device cpu]
     [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
from dataclasses import fields

import numpy as np

from sentiscore.data import load_rows
from sentiscore.model import CONFIG_FILE, ENCODER_DIR, ModelConfig
from sentiscore.predict import resolve_model_path
from sentiscore.train import TokenizedCorpus, TrainConfig, fit, new_model


def trained_tokens(corpus: TokenizedCorpus, content_size: int, max_windows: int) -> int:
    """Tokens one epoch reads: a review's windows beyond ``max_windows`` are not trained on."""
    return int(np.minimum(np.diff(corpus.offsets), content_size * max_windows).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, nargs="+", default=[12, 4])
    parser.add_argument("--reviews", type=int, default=200, help="training reviews timed, drawn at random")
    parser.add_argument("--model", default="sentiscore-e5-ru", help="a transformer model: shipped name or folder")
    parser.add_argument("--batch-tokens", type=int, help="padded tokens per batch (default: the recipe's)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    source = resolve_model_path(args.model)
    recipe = ModelConfig.load(source / CONFIG_FILE).training
    config = TrainConfig(**{f.name: recipe[f.name] for f in fields(TrainConfig) if f.name in recipe})
    config.epochs = 1
    config.batch_tokens = args.batch_tokens or config.batch_tokens
    rows = load_rows(config.corpora, args.data_dir, part="train")
    sample = [rows[i] for i in np.random.default_rng(args.seed).choice(len(rows), args.reviews, replace=False)]
    one_layer = new_model(source / ENCODER_DIR, "train-speed", "0", config.window, layers=1)  # for its tokenizer
    size = one_layer.content_size
    epoch_tokens = trained_tokens(TokenizedCorpus.from_rows(rows, one_layer), size, config.max_train_windows)
    corpus = TokenizedCorpus.from_rows(sample, one_layer)
    tokens = trained_tokens(corpus, size, config.max_train_windows)
    print(f"{len(rows):,} training reviews of {', '.join(config.corpora)}: {epoch_tokens:,} tokens an epoch "
          f"(at most {config.max_train_windows} windows of {config.window} a review); timed on {args.reviews} of "
          f"them, batches of {config.batch_tokens:,} padded tokens, on {args.device}")
    print(f"{'layers':>6}{'tokens':>9}{'seconds':>9}{'tokens/s':>10}{'epoch, h':>10}")
    for layers in args.layers:
        model = new_model(source / ENCODER_DIR, "train-speed", "0", config.window, layers=layers)
        seconds = fit(model, corpus, config, device=args.device, log=lambda _: None, progress=False)[0]["seconds"]
        print(f"{layers:>6}{tokens:>9,}{seconds:>9.1f}{tokens / seconds:>10.0f}"
              f"{epoch_tokens / (tokens / seconds) / 3600:>10.1f}", flush=True)


if __name__ == "__main__":
    main()
