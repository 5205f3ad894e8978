"""Build the pruned offline base and tokenise every shared corpus once, for a training run elsewhere.

Writes (defaults): artifacts/base/ (the BertModel folder), .carry/base_q4.npz (the same model still 4-bit,
16 MB, to move to a GPU machine), .carry/tokenizer.json, .carry/corpora.npz (token ids and labels) and
.carry/dev_texts.parquet (the dev reviews' texts, for benchmarks/throughput.py there).
Run: python scripts/prepare_training.py [--data-dir ../shared/data] [--max-pieces 12000]
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pandas as pd

from sentiscore.base import build_pruned_base
from sentiscore.data import CORPORA, in_holdout, load_rows
from sentiscore.model import ModelConfig, ReviewModel
from sentiscore.train import TokenizedCorpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--max-pieces", type=int, default=12_000)
    parser.add_argument("--base", default="artifacts/base")
    parser.add_argument("--carry", default=".carry")
    args = parser.parse_args()

    rows = load_rows(CORPORA, args.data_dir)
    held_out = [in_holdout(row["group"], row["source"]) for row in rows]
    carry = Path(args.carry)
    carry.mkdir(exist_ok=True)
    summary = build_pruned_base(args.base, [r["text"] for r, h in zip(rows, held_out) if not h],
                                [r["text"] for r, h in zip(rows, held_out) if h], max_pieces=args.max_pieces,
                                quantized_copy=carry / "base_q4.npz")
    model = ReviewModel.from_base(args.base, ModelConfig())
    shutil.copy(Path(args.base) / "tokenizer.json", carry / "tokenizer.json")
    corpus = TokenizedCorpus.from_rows(rows, model)
    corpus.save(carry / "corpora.npz")
    dev_texts = [row["text"] for row, h in zip(rows, held_out) if h and row["source"] == "kinopoisk"]
    pd.DataFrame({"text": dev_texts}).to_parquet(carry / "dev_texts.parquet", index=False)
    summary["reviews"] = len(corpus)
    summary["tokens"] = int(len(corpus.ids))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
