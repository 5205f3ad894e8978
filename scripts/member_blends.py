"""Would averaging more of the shipped models make a better default? Each model's sentiment probabilities and
1..10 score distributions on the dev split and on the film reviews held out of the other two Kinopoisk files (the
reviews scripts/gpu_run.py chooses models on), then blends of them: the 12-layer encoder with the 4-layer fast one
at several weights, with and without the lexical model. Also where the default encoder's score error comes from:
its MAE per self-reported score on dev.

Run: python scripts/member_blends.py [--data-dir ../shared/data]   (~9 min on 2 cores)
"""

from __future__ import annotations

import argparse

import numpy as np

from sentiscore.data import load_rows
from sentiscore.evaluate import score_metrics, sentiment_metrics, truth
from sentiscore.inference import infer_ids
from sentiscore.model import SCORE_BINS, median_score
from sentiscore.predict import load_model, prepare_batch

PARTS = {"dev": ["kinopoisk"], "films outside dev": ["kinopoisk_more", "kinopoisk_neutral"]}
ENCODER, FAST, LITE = "sentiscore-e5-ru", "sentiscore-e5-fast", "sentiscore-lite"


def outputs(texts: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    """Each model's sentiment probabilities and score distribution (None for the lexical model)."""
    result = {}
    for name in (LITE, FAST, ENCODER):
        model = load_model(name, "cpu")
        batch = prepare_batch(model, texts)
        if len(batch.ready) != len(texts):
            raise SystemExit(f"{name} cannot score {len(texts) - len(batch.ready)} of the reviews")
        if name == LITE:
            result[name] = (model.run(batch.model_input, progress=False)[0], None)
        else:
            result[name] = infer_ids(model.model, batch.model_input, model.device, precision=model.precision)
    return result


def show(label: str, rows: list[dict], probabilities: np.ndarray, distributions: np.ndarray) -> None:
    true_sentiment, true_score = truth(rows)
    labelled, scored = true_sentiment >= 0, ~np.isnan(true_score)
    s = sentiment_metrics(true_sentiment[labelled], probabilities[labelled])
    m = score_metrics(true_score[scored], median_score(distributions[scored]))
    print(f"  {label:<40} pos/neg {s['posneg_accuracy']:.3f}  MAE {m['mae']:.3f}  within ±1 {m['within_1']:.3f}  "
          f"Spearman {m['spearman']:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="../shared/data")
    args = parser.parse_args()
    for part, corpora in PARTS.items():
        rows = load_rows(corpora, args.data_dir, part="held_out")
        out = outputs([row["text"] for row in rows])
        (lite, _), (fast, fast_d), (encoder, encoder_d) = out[LITE], out[FAST], out[ENCODER]
        print(f"{part}: {len(rows):,} reviews")
        show("encoder alone", rows, encoder, encoder_d)
        show("fast alone", rows, fast, fast_d)
        show("encoder + lite (shipped default)", rows, (encoder + lite) / 2, encoder_d)
        for weight in (0.5, 0.6, 0.67, 0.75):
            show(f"encoder {weight} / fast {1 - weight:.2f}", rows, weight * encoder + (1 - weight) * fast,
                 weight * encoder_d + (1 - weight) * fast_d)
        show("encoder + fast + lite, 1/3 each", rows, (encoder + fast + lite) / 3, (encoder_d + fast_d) / 2)
        if part == "dev":
            true = truth(rows)[1]
            scored = ~np.isnan(true)
            true, predicted = true[scored], median_score(encoder_d[scored])
            print("  the encoder's score by self-reported score (reviews, mean predicted, MAE, share of all MAE):")
            for whole in range(1, SCORE_BINS + 1):
                at = np.round(true) == whole
                if at.any():
                    error = np.abs(predicted[at] - true[at])
                    print(f"    {whole:>2}: {at.sum():>4}  {predicted[at].mean():5.2f}  {error.mean():4.2f}  "
                          f"{error.sum() / len(true):.3f}")


if __name__ == "__main__":
    main()
