"""Build the pruned offline base and tokenise every shared corpus once, for a training run elsewhere.

Writes (defaults): artifacts/base/ (the BertModel folder), .carry/base_q4.npz (the same model still 4-bit,
16 MB, to move to a GPU machine), .carry/tokenizer.json and .carry/corpora.npz (token ids and labels).
Run: python scripts/prepare_training.py [--data-dir ../shared/data] [--max-pieces 12000]
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from sentiscore.base import build_base, unk_rate
from sentiscore.data import CORPORA, in_holdout, load_corpus
from sentiscore.model import ModelConfig, ReviewModel
from sentiscore.train import TokenizedCorpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--max-pieces", type=int, default=12_000)
    parser.add_argument("--base", default="artifacts/base")
    parser.add_argument("--carry", default=".carry")
    args = parser.parse_args()

    rows = [row for name in CORPORA for row in load_corpus(name, args.data_dir)]
    train_texts = [row["text"] for row in rows if not in_holdout(row["group"], row["source"])]
    held_out_texts = [row["text"] for row in rows if in_holdout(row["group"], row["source"])]
    carry = Path(args.carry)
    carry.mkdir(exist_ok=True)
    summary = build_base(args.base, train_texts, max_pieces=args.max_pieces, quantized_copy=carry / "base_q4.npz")
    model = ReviewModel.from_base(args.base, ModelConfig())
    summary["unk_rate_held_out"] = unk_rate(model.tokenizer.backend_tokenizer, held_out_texts)
    shutil.copy(Path(args.base) / "tokenizer.json", carry / "tokenizer.json")
    corpus = TokenizedCorpus.from_rows(rows, model)
    corpus.save(carry / "corpora.npz")
    summary["reviews"] = len(corpus)
    summary["tokens"] = int(len(corpus.ids))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
