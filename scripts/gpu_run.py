"""The real training run, made to be carried to a GPU machine with what scripts/prepare_training.py wrote.

Trains the default model on every shared corpus (title-disjoint held-out parts excluded), saves its weights in
shards small enough to travel back, predicts every held-out review, measures inference speed, then, while the
time budget lasts, retrains on subsets of the corpora to measure what each adds.

Run: PYTHONPATH=src python scripts/gpu_run.py --carry .carry --out OUT [--tiny]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from sentiscore.base import bert_model, fast_tokenizer, load_quantized
from sentiscore.inference import infer_ids, pick_device
from sentiscore.model import ModelConfig, ReviewModel
from sentiscore.train import TokenizedCorpus, TrainConfig, fit, set_seed

FILMS = ["kinopoisk", "kinopoisk_more", "kinopoisk_neutral"]
ABLATIONS = {
    "films": FILMS,
    "films+books+banks": [*FILMS, "livelib", "otzovik"],
    "all-but-social": [*FILMS, "livelib", "otzovik", "steam", "sentirueval", "app_reviews"],
}
SHARD_BYTES = 14_000_000


def fresh_model(carry: Path, window: int) -> ReviewModel:
    from tokenizers import Tokenizer

    encoder = bert_model(load_quantized(carry / "base_q4.npz"))
    tokenizer = fast_tokenizer(Tokenizer.from_file(str(carry / "tokenizer.json")))
    return ReviewModel(encoder, tokenizer, ModelConfig(name="sentiscore-e5-ru", version="1.0", window=window))


def save_shards(model: ReviewModel, out: Path) -> list[str]:
    """The fine-tuned weights (fp16) in safetensors files under SHARD_BYTES each."""
    from safetensors.torch import save_file

    state = {k: v.detach().to(torch.float16).cpu().contiguous() for k, v in model.state_dict().items()
             if "position_ids" not in k}
    shards, current, size = [], {}, 0
    for key, tensor in state.items():
        nbytes = tensor.numel() * 2
        if current and size + nbytes > SHARD_BYTES:
            shards.append(current)
            current, size = {}, 0
        current[key], size = tensor, size + nbytes
    shards.append(current)
    names = []
    for i, shard in enumerate(shards):
        names.append(f"weights-{i}.safetensors")
        save_file(shard, str(out / names[-1]))
    return names


def predict_held_out(model: ReviewModel, corpus: TokenizedCorpus, device) -> dict:
    probabilities, distributions = infer_ids(model, corpus.token_lists(), device)
    return {"sentiment_probabilities": probabilities, "score_distributions": distributions}


def summary(corpus: TokenizedCorpus, predictions: dict) -> dict:
    from sentiscore.evaluate import score_metrics, sentiment_metrics

    expected = predictions["score_distributions"] @ np.arange(1, 11)
    result = {}
    for source in sorted(set(corpus.source.tolist())):
        rows = corpus.source == source
        labelled = rows & (corpus.sentiment >= 0)
        metrics = {**sentiment_metrics(corpus.sentiment[labelled], predictions["sentiment_probabilities"][labelled]),
                   **score_metrics(corpus.score[rows], expected[rows])}
        metrics.pop("confusion", None)
        metrics.pop("per_class", None)
        result[source] = metrics
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--carry", type=Path, default=Path(".carry"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--budget", type=float, default=420.0, help="seconds after which no ablation starts")
    parser.add_argument("--tiny", action="store_true", help="a CPU smoke run: few rows, short windows")
    args = parser.parse_args()
    started = time.time()
    args.out.mkdir(parents=True, exist_ok=True)
    device = pick_device("auto")
    torch.backends.cuda.matmul.allow_tf32 = True
    log_file = (args.out / "log.jsonl").open("w")

    def log(message: str) -> None:
        print(message, flush=True)
        log_file.write(message + "\n")
        log_file.flush()

    corpus = TokenizedCorpus.load(args.carry / "corpora.npz")
    config = TrainConfig(epochs=args.epochs, batch_tokens=32_768, learning_rate=6e-5,
                         corpora=sorted(set(corpus.source.tolist())))
    if args.tiny:
        keep = np.zeros(len(corpus), dtype=bool)
        keep[np.random.default_rng(0).choice(len(corpus), 300, replace=False)] = True
        keep |= (corpus.source == "kinopoisk") & corpus.holdout & (np.arange(len(corpus)) % 40 == 0)
        corpus = corpus.subset(keep)
        config = TrainConfig(epochs=1, window=66, batch_tokens=2048, max_train_windows=2, corpora=config.corpora)
    train, held_out = corpus.subset(~corpus.holdout), corpus.subset(corpus.holdout)
    dev = held_out.subset(held_out.source == "kinopoisk")
    log(json.dumps({"device": str(device), "gpu": torch.cuda.get_device_name() if device.type == "cuda" else None,
                    "train_reviews": len(train), "train_tokens": int(len(train.ids)), "held_out": len(held_out),
                    "dev": len(dev), "config": asdict(config)}))

    model = fresh_model(args.carry, config.window)

    def checkpoint(trained: ReviewModel) -> None:
        save_shards(trained, args.out)
        trained.config.save(args.out / "sentiscore.json")

    fit(model, train, config, dev=dev, log=log, progress=False, on_epoch_end=checkpoint)
    trained_seconds = time.time() - started
    shards = sorted(p.name for p in args.out.glob("weights-*.safetensors"))
    predictions = predict_held_out(model, held_out, device)
    np.savez_compressed(args.out / "held_out_predictions.npz", **predictions)
    results = {"main": {"seconds": round(trained_seconds, 1), "held_out": summary(held_out, predictions),
                        "shards": shards}}

    if device.type == "cuda":
        texts = dev.token_lists() * 4
        infer_ids(model, texts[:256], device)  # the first batches pay for CUDA's start-up
        trained_window = model.config.window
        for window in (trained_window, 256):
            model.config.window = window
            for batch_tokens in (65_536, 262_144):
                torch.cuda.synchronize()
                t0 = time.time()
                infer_ids(model, texts, device, batch_tokens=batch_tokens)
                torch.cuda.synchronize()
                results.setdefault("inference", []).append(
                    {"precision": "bf16", "window": window, "batch_tokens": batch_tokens, "reviews": len(texts),
                     "reviews_per_second": round(len(texts) / (time.time() - t0), 1)})
        model.config.window = trained_window
        log(json.dumps(results["inference"]))
    (args.out / "results.json").write_text(json.dumps(results, indent=1))

    history = model.config.training["history"]
    seconds_per_token = sum(h["seconds"] for h in history) / len(history) / len(train.ids)
    del model
    for name, sources in ABLATIONS.items():
        rows = np.isin(train.source, sources)
        estimate = seconds_per_token * len(train.subset(rows).ids) * config.epochs * 1.15 + 20
        if time.time() - started + estimate > args.budget:
            log(json.dumps({"ablation": name, "skipped": f"needs ~{estimate:.0f} s more"}))
            continue
        set_seed(config.seed)
        model = fresh_model(args.carry, config.window)
        fit(model, train.subset(rows), TrainConfig(**{**asdict(config), "corpora": sources}), dev=dev, log=log,
            progress=False)
        results[name] = {"held_out": summary(held_out, predict_held_out(model, held_out, device))}
        (args.out / "results.json").write_text(json.dumps(results, indent=1))
        del model
    log(json.dumps({"total_seconds": round(time.time() - started, 1)}))


if __name__ == "__main__":
    main()
