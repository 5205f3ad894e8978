"""A fast model built on a CPU: new heads on the first layers of the shipped encoder, which the new model reads
from that model's folder, so it adds no weights but its heads. That was sentiscore-e5-fast 1.0; 2.0 has its 4
layers fine-tuned on a GPU (scripts/gpu_run.py --shallow 4), which this cannot do, and reads better (its card in
models/README.md has both).

The heads learn on the encoder's pooled vectors at that depth, over the reviews the encoder was trained on (its
recipe's corpora, held-out groups excluded). Whether they have a hidden layer, and the weight of their L2
penalty, are chosen by the training loss on the held-out reviews of every corpus except Kinopoisk's (whose
held-out part is the dev split, kept for the model card); the score interval's mass is fitted on the same reviews
(as scripts/calibrate.py does for the default model).
The pooled vectors are cached in --cache, so a second run only trains heads.

Run: python scripts/fast_model.py [--layers 4] [--data-dir ../shared/data] [--output models/sentiscore-e5-fast-heads]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from calibrate import UNSEEN_BY_BOTH, fit_interval_mass
from tqdm.auto import tqdm

from sentiscore.data import load_rows
from sentiscore.evaluate import score_metrics, sentiment_metrics
from sentiscore.inference import pool_ids
from sentiscore.model import CONFIG_FILE, ModelConfig, median_score
from sentiscore.predict import resolve_model_path
from sentiscore.train import (
    NO_SENTIMENT,
    HeadsConfig,
    TokenizedCorpus,
    fit_heads,
    multitask_loss,
    new_model_on_first_layers,
)

L2_WEIGHTS = (1e-4, 1e-3, 1e-2)
HEAD_INNER_UNITS = (None, 512)
"""Linear heads, or heads with a hidden layer of 512 units: at 4 layers the pooled vector is further from the
task than at the encoder's top, where linear heads were trained with it."""


def pooled_vectors(model, corpus: TokenizedCorpus, cache: Path) -> torch.Tensor:
    if cache.exists():
        return torch.load(cache)
    with tqdm(desc=f"pooling {cache.stem}", unit="window") as bar:
        pooled = pool_ids(model, corpus.token_lists(), torch.device("cpu"), progress=bar)
    cache.parent.mkdir(parents=True, exist_ok=True)
    torch.save(pooled, cache)
    return pooled


def judged(model, pooled: torch.Tensor, corpus: TokenizedCorpus, config: HeadsConfig) -> tuple[float, dict, np.ndarray]:
    """The heads' training loss over ``corpus`` (the choice), their metrics and score distributions there."""
    with torch.no_grad():
        sentiment_logits, score_logits = model.heads(pooled)
        loss, _ = multitask_loss(sentiment_logits, score_logits, torch.from_numpy(corpus.sentiment.astype(np.int64)),
                                 torch.from_numpy(corpus.score), config.score_l1_weight)
    distributions = score_logits.softmax(-1).numpy()
    labelled = corpus.sentiment != NO_SENTIMENT
    metrics = {**sentiment_metrics(corpus.sentiment[labelled], sentiment_logits.softmax(-1).numpy()[labelled]),
               **score_metrics(corpus.score, median_score(distributions))}
    return float(loss), metrics, distributions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--source", default="sentiscore-e5-ru", help="the saved model whose encoder it reads")
    parser.add_argument("--output", type=Path, default=Path("models/sentiscore-e5-fast-heads"))
    parser.add_argument("--name", default="sentiscore-e5-fast-heads")
    parser.add_argument("--version", default="1.0")
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--cache", type=Path, default=Path("artifacts/cache"))
    parser.add_argument("--limit", type=int, help="at most this many reviews of each part (a smoke run)")
    args = parser.parse_args()

    source = resolve_model_path(args.source)
    model = new_model_on_first_layers(source, args.layers, args.output, args.name, args.version)
    source_config = ModelConfig.load(source / CONFIG_FILE)
    trained_on = source_config.training["corpora"]
    parts = {"train": (trained_on, "train"), "held_out": (UNSEEN_BY_BOTH, "held_out")}
    corpora, pooled = {}, {}
    for part, (names, which) in parts.items():
        corpora[part] = TokenizedCorpus.from_rows(load_rows(names, args.data_dir, part=which)[: args.limit], model)
        key = f"pooled-{source.name}-{source_config.version}-{args.layers}-layers-{part}-{len(corpora[part])}.pt"
        pooled[part] = pooled_vectors(model, corpora[part], args.cache / key)
        print(f"{part}: {len(corpora[part]):,} reviews, {len(corpora[part].ids):,} tokens")

    trained = {}
    for config in (HeadsConfig(l2=l2, inner=inner) for inner in HEAD_INNER_UNITS for l2 in L2_WEIGHTS):
        history = fit_heads(model, pooled["train"], corpora["train"].sentiment, corpora["train"].score, config,
                            log=lambda _: None)
        loss, metrics, distributions = judged(model, pooled["held_out"], corpora["held_out"], config)
        trained[config.inner, config.l2] = (loss, config, (model.sentiment_head, model.score_head), history,
                                            distributions)
        print(f"hidden layer {config.inner or 'none'}, l2 {config.l2:g}: held-out loss {loss:.4f}, "
              f"pos/neg {metrics['posneg_accuracy']:.3f}, MAE {metrics['mae']:.3f}, "
              f"within ±1 {metrics['within_1']:.3f}")
    _, config, (model.sentiment_head, model.score_head), history, distributions = min(trained.values(),
                                                                                       key=lambda run: run[0])
    print(f"kept hidden layer {config.inner or 'none'}, l2 {config.l2:g}: the lowest held-out loss")

    scored = ~np.isnan(corpora["held_out"].score)
    print(f"score interval, {scored.sum():,} held-out reviews with a self-reported score:")
    model.config.interval_mass = fit_interval_mass(corpora["held_out"].score[scored], distributions[scored],
                                                   model.config.interval)
    model.config.training = {"encoder_of": f"{source_config.name} {source_config.version}", "layers": args.layers,
                             "corpora": trained_on,
                             "reviews": len(corpora["train"]), **vars(config), "history": history,
                             "held_out_loss": {f"inner {inner}, l2 {l2:g}": round(run[0], 4)
                                               for (inner, l2), run in trained.items()}}
    model.save(args.output)
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
