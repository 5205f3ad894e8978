"""Would a stronger lexical member make a better default? The default averages the encoder's sentiment
probabilities with the lexical model's; this refits the lexical model in a few ways (regularisation, more
features, words instead of lemmas) on the training parts of every corpus and blends each with the shipped
encoder's probabilities on the held-out reviews. It also tries a lexical model of the score, a distribution
over 1..10 blended into the encoder's at small weights, for the encoder's weak spot (reviews scored 1-2).

The parts: the film reviews held out of the other two Kinopoisk files and the held-out reviews of the other
domains choose; dev is printed for the record.

Run: python scripts/lexical_member.py [--data-dir ../shared/data]   (~30 min on 2 cores)
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from sentiscore.data import CORPORA, load_rows
from sentiscore.evaluate import score_metrics, sentiment_metrics, truth
from sentiscore.inference import infer_ids
from sentiscore.lite import LiteModel
from sentiscore.model import SCORE_BINS, median_score
from sentiscore.predict import load_model, prepare_batch

ENCODER = "sentiscore-e5-ru"
FILMS_OUTSIDE_DEV = ("kinopoisk_more", "kinopoisk_neutral")
VARIANTS = {
    "lemmas, 100k features, C 10 (shipped)": {},
    "C 3": {"c": 3.0},
    "C 30": {"c": 30.0},
    "300k features": {"max_features": 300_000},
    "words instead of lemmas": {"features": "words"},
}
SCORE_WEIGHTS = (0.1, 0.2, 0.3)


def part_masks(rows: list[dict]) -> dict[str, np.ndarray]:
    source = np.array([row["source"] for row in rows])
    films = np.isin(source, ["kinopoisk", *FILMS_OUTSIDE_DEV])
    return {"films outside dev": np.isin(source, FILMS_OUTSIDE_DEV), "other domains": ~films,
            "dev (not used)": source == "kinopoisk"}


def sentiment_line(label: str, true: np.ndarray, parts: dict[str, np.ndarray], probabilities: np.ndarray) -> str:
    cells = []
    for part, mask in parts.items():
        labelled = mask & (true >= 0)
        cells.append(f"{part} {sentiment_metrics(true[labelled], probabilities[labelled])['posneg_accuracy']:.3f}")
    return f"  {label:<16} pos/neg: " + ", ".join(cells)


def score_line(label: str, true: np.ndarray, parts: dict[str, np.ndarray], distributions: np.ndarray) -> str:
    cells = []
    for part, mask in parts.items():
        scored = mask & ~np.isnan(true)
        if scored.any():
            m = score_metrics(true[scored], median_score(distributions[scored]))
            cells.append(f"{part} MAE {m['mae']:.3f} ±1 {m['within_1']:.3f} Spearman {m['spearman']:.3f}")
    return f"  {label:<28} " + "; ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="../shared/data")
    args = parser.parse_args()
    train = load_rows(list(CORPORA), args.data_dir, part="train")
    held_out = load_rows(list(CORPORA), args.data_dir, part="held_out")

    started = time.time()
    encoder = load_model(ENCODER, "cpu")
    batch = prepare_batch(encoder, [row["text"] for row in held_out])
    rows = [held_out[i] for i in batch.ready]
    texts = [row["text"] for row in rows]
    probabilities, distributions = infer_ids(encoder.model, batch.model_input, encoder.device,
                                             precision=encoder.precision)
    parts = part_masks(rows)
    true_sentiment, true_score = truth(rows)
    print(f"the encoder on {len(rows):,} held-out reviews ({len(held_out) - len(rows)} it cannot score): "
          f"{time.time() - started:.0f} s", flush=True)
    print(sentiment_line("encoder alone", true_sentiment, parts, probabilities))

    train_texts = [row["text"] for row in train]
    sentiments = [row["sentiment"] for row in train]
    scores = [row["score10"] for row in train]
    shipped = None
    for name, options in VARIANTS.items():
        started = time.time()
        lexical = LiteModel.fit(train_texts, sentiments, scores, **options)
        shipped = shipped or lexical
        print(f"{name} ({len(lexical.vocabulary):,} terms, {time.time() - started:.0f} s)", flush=True)
        lexical_probabilities = lexical.run(lexical.features(texts))[0]
        print(sentiment_line("alone", true_sentiment, parts, lexical_probabilities))
        print(sentiment_line("+ encoder, 1:1", true_sentiment, parts, (lexical_probabilities + probabilities) / 2))

    from sklearn.linear_model import LogisticRegression

    scored = [i for i, score in enumerate(scores) if score is not None]
    bins = np.clip(np.round([scores[i] for i in scored]), 1, SCORE_BINS).astype(int) - 1
    classifier = LogisticRegression(C=1.0, max_iter=3000).fit(shipped.features(train_texts)[scored], bins)
    lexical_distributions = np.zeros_like(distributions)
    lexical_distributions[:, classifier.classes_] = classifier.predict_proba(shipped.features(texts))
    print(f"the score: a 10-way logistic regression on the shipped lexical features ({len(scored):,} scored "
          "training reviews), its distribution blended into the encoder's, the median read")
    print(score_line("encoder alone", true_score, parts, distributions))
    print(score_line("lexical alone", true_score, parts, lexical_distributions))
    for weight in SCORE_WEIGHTS:
        blend = weight * lexical_distributions + (1 - weight) * distributions
        print(score_line(f"lexical {weight} + encoder", true_score, parts, blend))


if __name__ == "__main__":
    main()
