"""Counts the model card quotes from the tokenised corpora (scripts/prepare_training.py writes them): reviews and
tokens of each training set that scripts/gpu_run.py trains on, neutral film reviews in training, and the share of
``<unk>`` among the held-out parts' tokens.

Run: PYTHONPATH=src:scripts python scripts/corpus_counts.py [--carry .carry]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from gpu_run import ABLATIONS, FILMS
from tokenizers import Tokenizer

from sentiscore.labels import SENTIMENTS
from sentiscore.train import TokenizedCorpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--carry", type=Path, default=Path(".carry"))
    args = parser.parse_args()
    corpus = TokenizedCorpus.load(args.carry / "corpora.npz")
    train, held_out = corpus.subset(~corpus.holdout), corpus.subset(corpus.holdout)
    for name, sources in {**ABLATIONS, "every corpus": sorted(set(train.source.tolist()))}.items():
        rows = train.subset(np.isin(train.source, sources))
        print(f"training set {name}: {len(rows):,} reviews, {len(rows.ids):,} tokens")
    neutral_films = (train.sentiment == SENTIMENTS.index("neutral")) & np.isin(train.source, FILMS)
    print(f"neutral film reviews in training: {neutral_films.sum():,}")
    unk = Tokenizer.from_file(str(args.carry / "tokenizer.json")).token_to_id("<unk>")
    unknown, tokens = int((held_out.ids == unk).sum()), len(held_out.ids)
    print(f"<unk> in the held-out parts: {unknown:,} of {tokens:,} tokens ({unknown / tokens:.4%})")


if __name__ == "__main__":
    main()
