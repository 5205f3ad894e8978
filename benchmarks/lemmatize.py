"""Lemmatisation speed: pymorphy3 alone against sentiscore's cached Lemmatizer, on the same review text.

Run: python benchmarks/lemmatize.py [--data-dir ../shared/data] [--reviews 2000]
(falls back to the bundled example, repeated, where the shared corpora are absent)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pymorphy3

from sentiscore.preprocess import Lemmatizer, normalize, tokenize


def review_texts(data_dir: Path, count: int) -> list[str]:
    from sentiscore.files import read_records

    path = data_dir / "kinopoisk_itsecd_labs.jsonl.gz"
    if path.exists():
        return [normalize(r["text"]) for r, _ in zip(read_records(path), range(count))]
    import pandas as pd

    texts = pd.read_csv("data/example_reviews.csv")["text"].dropna().tolist()
    return [normalize(t) for t in texts] * (count // len(texts) + 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--reviews", type=int, default=2000)
    args = parser.parse_args()
    texts = review_texts(args.data_dir, args.reviews)
    words = [w.lower() for text in texts for w in tokenize(text)]

    morph = pymorphy3.MorphAnalyzer(lang="ru")
    started = time.perf_counter()
    lemmas = [morph.parse(word)[0].normal_form for word in words]
    plain = len(words) / (time.perf_counter() - started)

    lemmatizer = Lemmatizer()
    started = time.perf_counter()
    for text in texts:
        lemmatizer(text)
    cold = len(words) / (time.perf_counter() - started)
    started = time.perf_counter()
    for text in texts:
        lemmatizer(text)
    warm = len(words) / (time.perf_counter() - started)
    print(f"{len(texts)} reviews, {len(words)} words, {len(set(lemmas))} distinct lemmas")
    print(f"pymorphy3 alone:             {plain:10,.0f} words/s")
    print(f"cached Lemmatizer, 1st pass: {cold:10,.0f} words/s (tokenising included)")
    print(f"cached Lemmatizer, 2nd pass: {warm:10,.0f} words/s (cache hit rate "
          f"{lemmatizer.lemma.cache_info().hits / (len(words) * 2):.0%} over both passes)")


if __name__ == "__main__":
    main()
