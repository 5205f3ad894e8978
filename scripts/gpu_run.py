"""The real training run, made to be carried to a GPU machine with what scripts/prepare_training.py wrote.

Trains the default model on every shared corpus (title-disjoint held-out parts excluded) for ``--epochs``; the
model after each epoch from ``--first-candidate`` on is a candidate, and so is the average of their weights;
`choose` picks one by a rule fixed before the run (never by the dev split). Saves the chosen weights in shards
small enough to travel back, its predictions for every held-out review and every candidate's held-out metrics,
and measures inference speed. With several ``--seeds`` it trains once per seed, and the average of all their
candidates' weights (fine-tuned from the same base, they average as a "model soup", Wortsman et al. 2022) is a
candidate; ``--film-score-weight`` weighs the film reviews, scored 1-10 by their authors, above the 1-5 marks of
books and banks in the score loss. Then, while the time budget lasts: `--shallow LAYERS` cuts the main run's model to
its first layers and fine-tunes it by the same recipe, the fast model (10,000 reviews/s needs 3.5x less arithmetic
per review, see README.md); `--ablations` retrains on subsets of the corpora, to measure what each adds.

(Version 2.0 was trained with 3 epochs and a film-only stage whose epochs were the candidates; the stage lost by
the same rule, see models/README.md. That run's script is this file at commit 14f2521.)

Run: PYTHONPATH=src python scripts/gpu_run.py --carry .carry --out OUT [--epochs 5] [--tiny]
                                             [--seeds 13 14] [--film-score-weight 3]
                                             [--ablations | --shallow LAYERS [--save DIR]]
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
from sentiscore.model import ModelConfig, ReviewModel, keep_first_layers, median_score
from sentiscore.train import TokenizedCorpus, TrainConfig, fit, set_seed

FILMS = ["kinopoisk", "kinopoisk_more", "kinopoisk_neutral"]
ABLATIONS = {
    "films": FILMS,
    "films+books+banks": [*FILMS, "livelib", "otzovik"],
    "all-but-social": [*FILMS, "livelib", "otzovik", "steam", "sentirueval", "app_reviews"],
}
GUARD = 0.005
"""A candidate may lose at most this much pos/neg accuracy on the held-out reviews of other domains against the
first candidate."""
SHARD_BYTES = 14_000_000


def log(message: str) -> None:
    print(message, flush=True)


def fresh_model(carry: Path, window: int) -> ReviewModel:
    from tokenizers import Tokenizer

    encoder = bert_model(load_quantized(carry / "base_q4.npz"))
    tokenizer = fast_tokenizer(Tokenizer.from_file(str(carry / "tokenizer.json")))
    return ReviewModel(encoder, tokenizer, ModelConfig(name="sentiscore-e5-ru", version="3.0", window=window))


def trained_model(carry: Path, run: Path) -> ReviewModel:
    """The model a main run saved in ``run`` (its config and weight shards), in fp32."""
    from safetensors.torch import load_file

    config = ModelConfig.load(run / "sentiscore.json")
    model = fresh_model(carry, config.window)
    state = {}
    for shard in sorted(run.glob("weights-*.safetensors")):
        state |= {key: value.float() for key, value in load_file(str(shard)).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or [key for key in missing if "position_ids" not in key]:
        raise SystemExit(f"weights do not fit: missing {missing}, unexpected {unexpected}")
    model.config = config
    return model


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


def metrics(corpus: TokenizedCorpus, predictions: dict, rows: np.ndarray) -> dict:
    """Sentiment and score metrics (the score as shipped: the distribution's median) over some rows."""
    from sentiscore.evaluate import score_metrics, sentiment_metrics

    labelled = rows & (corpus.sentiment >= 0)
    result = {**sentiment_metrics(corpus.sentiment[labelled], predictions["sentiment_probabilities"][labelled]),
              **score_metrics(corpus.score[rows], median_score(predictions["score_distributions"][rows]))}
    result.pop("confusion", None)
    result.pop("per_class", None)
    return result


def summary(corpus: TokenizedCorpus, predictions: dict) -> dict:
    """Metrics per source, and over the two groups that `choose` compares candidates on."""
    result = {source: metrics(corpus, predictions, corpus.source == source)
              for source in sorted(set(corpus.source.tolist()))}
    films_outside_dev = np.isin(corpus.source, FILMS) & (corpus.source != "kinopoisk")
    result["films outside dev"] = metrics(corpus, predictions, films_outside_dev)
    result["other domains"] = metrics(corpus, predictions, ~np.isin(corpus.source, FILMS))
    return result


def averaged_weights(states: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The mean of several checkpoints' weights (integer buffers taken from the first): late checkpoints of one
    run average into a flatter optimum that often generalises better than any of them (Izmailov et al.,
    "Averaging Weights Leads to Wider Optima and Better Generalization")."""
    return {key: torch.stack([state[key].float() for state in states]).mean(0).to(tensor.dtype)
            if tensor.is_floating_point() else tensor for key, tensor in states[0].items()}


def choose(candidates: dict[str, dict]) -> str:
    """The rule fixed before the run: the lowest score MAE on held-out film reviews outside dev (kinopoisk_more,
    kinopoisk_neutral), among the candidates whose pos/neg accuracy on the other domains' held-out reviews is
    within GUARD of the first candidate's; dev plays no part."""
    first = next(iter(candidates.values()))["other domains"]["posneg_accuracy"]
    allowed = {name: result for name, result in candidates.items()
               if result["other domains"]["posneg_accuracy"] >= first - GUARD}
    return min(allowed, key=lambda name: allowed[name]["films outside dev"].get("mae", np.inf))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--carry", type=Path, default=Path(".carry"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--first-candidate", type=int, default=3, help="the first epoch whose model is a candidate")
    parser.add_argument("--budget", type=float, default=420.0, help="seconds after which no ablation starts")
    parser.add_argument("--ablations", action="store_true",
                        help="only retrain on subsets of the corpora, timed by the main run's sentiscore.json")
    parser.add_argument("--shallow", type=int, metavar="LAYERS",
                        help="only cut the main run's model in --out to its first LAYERS layers and fine-tune it")
    parser.add_argument("--save", type=Path, help="with --shallow: the folder to save that model in")
    parser.add_argument("--seeds", type=int, nargs="+", default=[13],
                        help="train once per seed; the average of every seed's candidates is a candidate too")
    parser.add_argument("--film-score-weight", type=float, default=1.0,
                        help="weight of the film reviews (scored 1-10 by their authors) in the score loss")
    parser.add_argument("--tiny", action="store_true", help="a CPU smoke run: few rows, short windows")
    args = parser.parse_args()
    started = time.time()
    args.out.mkdir(parents=True, exist_ok=True)
    device = pick_device("auto")
    torch.backends.cuda.matmul.allow_tf32 = True
    corpus = TokenizedCorpus.load(args.carry / "corpora.npz")
    config = TrainConfig(epochs=args.epochs, batch_tokens=32_768, learning_rate=6e-5,
                         corpora=sorted(set(corpus.source.tolist())), seed=args.seeds[0])
    if args.tiny:
        keep = np.zeros(len(corpus), dtype=bool)
        keep[np.random.default_rng(0).choice(len(corpus), 300, replace=False)] = True
        keep |= np.isin(corpus.source, FILMS) & corpus.holdout & (np.arange(len(corpus)) % 40 == 0)
        corpus = corpus.subset(keep)
        config = TrainConfig(epochs=2, window=66, batch_tokens=2048, max_train_windows=2, corpora=config.corpora,
                             seed=config.seed)
        args.first_candidate = 1
    if args.film_score_weight != 1.0:
        config = TrainConfig(**{**asdict(config), "score_weights": dict.fromkeys(FILMS, args.film_score_weight)})
    train, held_out = corpus.subset(~corpus.holdout), corpus.subset(corpus.holdout)
    dev = held_out.subset(held_out.source == "kinopoisk")
    if args.ablations:
        ablations(args, train, held_out, dev, config, device, started)
        return
    if args.shallow:
        shallow(args, train, held_out, dev, config, device, started)
        return
    log(json.dumps({"device": str(device), "gpu": torch.cuda.get_device_name() if device.type == "cuda" else None,
                    "train_reviews": len(train), "train_tokens": int(len(train.ids)), "held_out": len(held_out),
                    "dev": len(dev), "config": asdict(config)}))

    candidates, states, predictions, recipes = {}, {}, {}, {}

    def candidate(trained: ReviewModel, name: str | None = None) -> None:
        epoch = len(trained.config.training["history"])
        if name is None and epoch < min(args.first_candidate, config.epochs):  # the last epoch always is one
            return
        seed = trained.config.training["seed"]
        name = name or (f"epoch {epoch}" if len(args.seeds) == 1 else f"seed {seed}, epoch {epoch}")
        predictions[name] = predict_held_out(trained, held_out, device)
        candidates[name] = summary(held_out, predictions[name])
        states[name] = {k: v.detach().clone() for k, v in trained.state_dict().items()}
        recipes[name] = dict(trained.config.training)
        log(json.dumps({"candidate": name, "films outside dev": candidates[name]["films outside dev"],
                        "other domains": candidates[name]["other domains"]}))

    for seed in args.seeds:
        set_seed(seed)  # the heads' first weights too
        model = fresh_model(args.carry, config.window)
        fit(model, train, TrainConfig(**{**asdict(config), "seed": seed}), dev=dev, log=log, progress=False,
            on_epoch_end=candidate)
    if len(states) > 1:  # their average costs one more pass over the held-out reviews
        model.load_state_dict(averaged_weights(list(states.values())))
        candidate(model, f"average of {', '.join(states)}")
    results = {"main": {"seconds": round(time.time() - started, 1)}}
    chosen = choose(candidates)
    model.load_state_dict(states[chosen])
    model.config.training = {**recipes[chosen], "seeds": args.seeds, "chosen": chosen}
    log(json.dumps({"chosen": chosen}))
    results |= {"candidates": candidates, "chosen": chosen,
                "shards": save_shards(model, args.out), "seconds": round(time.time() - started, 1)}
    model.config.save(args.out / "sentiscore.json")
    np.savez_compressed(args.out / "held_out_predictions.npz", **predictions[chosen])

    if device.type == "cuda":
        results["inference"] = inference_speed(model, dev, device, (65_536, 262_144))
        log(json.dumps(results["inference"]))
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    log(json.dumps({"total_seconds": round(time.time() - started, 1)}))


def inference_speed(model: ReviewModel, dev: TokenizedCorpus, device, batch_sizes: tuple[int, ...]) -> list[dict]:
    """Reviews/s of the model alone over the dev reviews (four times), read whole in its windows and in 256-token
    ones, bf16."""
    texts = dev.token_lists() * 4
    infer_ids(model, texts[:256], device)  # the first batches pay for CUDA's start-up
    trained_window, speeds = model.config.window, []
    for window in (trained_window, 256):
        model.config.window = window
        for batch_tokens in batch_sizes:
            torch.cuda.synchronize()
            t0 = time.time()
            infer_ids(model, texts, device, batch_tokens=batch_tokens)
            torch.cuda.synchronize()
            speeds.append({"precision": "bf16", "window": window, "batch_tokens": batch_tokens, "reviews": len(texts),
                           "reviews_per_second": round(len(texts) / (time.time() - t0), 1)})
    model.config.window = trained_window
    return speeds


def seconds_per_token(args, train: TokenizedCorpus) -> float:
    """The main run's training time per token and epoch (from its sentiscore.json in ``--out``)."""
    history = ModelConfig.load(args.out / "sentiscore.json").training["history"]
    return sum(h["seconds"] for h in history) / len(history) / len(train.ids)


def shallow(args, train: TokenizedCorpus, held_out: TokenizedCorpus, dev: TokenizedCorpus, config: TrainConfig,
            device, started: float) -> None:
    """The main run's model in ``--out`` cut to its first ``args.shallow`` layers and fine-tuned by the main recipe,
    if the budget allows (judged by the main run's speed): the fast model, saved whole in ``--save`` (its own
    encoder, so it does not depend on the main model's version); its held-out metrics and speed are printed.
    Cutting the fine-tuned model keeps what its bottom layers and embeddings learnt, which the base's lack."""
    model = trained_model(args.carry, args.out)
    layers = model.encoder.config.num_hidden_layers
    estimate = seconds_per_token(args, train) * len(train.ids) * config.epochs * args.shallow / layers * 1.15 + 60
    if time.time() - started + estimate > args.budget:
        log(json.dumps({"shallow": args.shallow, "skipped": f"needs ~{estimate:.0f} s more"}))
        return
    main_model = f"{model.config.name} {model.config.version}"
    keep_first_layers(model.encoder, args.shallow)
    model.config = ModelConfig(name="sentiscore-e5-fast", version="2.0", window=config.window)
    fit(model, train, TrainConfig(**{**asdict(config), "layers": args.shallow}), dev=dev, log=log, progress=False)
    model.config.training["initialised_from"] = f"{main_model}, its first {args.shallow} layers"
    result = {"shallow": args.shallow, "held_out": summary(held_out, predict_held_out(model, held_out, device))}
    if args.save is not None:
        model.save(args.save)
        result["saved"] = str(args.save)
    if device.type == "cuda":
        result["inference"] = inference_speed(model, dev, device, (262_144,))
    log(json.dumps(result))


def ablations(args, train: TokenizedCorpus, held_out: TokenizedCorpus, dev: TokenizedCorpus, config: TrainConfig,
              device, started: float) -> None:
    """Retrain on growing subsets of the corpora while the budget lasts; results are printed."""
    per_token = seconds_per_token(args, train)
    for name, sources in ABLATIONS.items():
        rows = np.isin(train.source, sources)
        estimate = per_token * len(train.subset(rows).ids) * config.epochs * 1.15 + 30
        if time.time() - started + estimate > args.budget:
            log(json.dumps({"ablation": name, "skipped": f"needs ~{estimate:.0f} s more"}))
            continue
        set_seed(config.seed)
        model = fresh_model(args.carry, config.window)
        fit(model, train.subset(rows), TrainConfig(**{**asdict(config), "corpora": sources}), dev=dev, log=log,
            progress=False)
        held = summary(held_out, predict_held_out(model, held_out, device))
        log(json.dumps({"ablation": name, "held_out": held}))
        del model


if __name__ == "__main__":
    main()
