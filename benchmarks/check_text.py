"""The input checks of every review (``preprocess.check_text``) against the same checks counting characters by
regular expressions, as they did before the table of the Basic Multilingual Plane: µs per review on real
reviews of each shared corpus, and whether the two give the same status to every review.

Run: python benchmarks/check_text.py [--reviews 3000] [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import re
import timeit
from pathlib import Path

from sentiscore.files import read_records
from sentiscore.preprocess import (
    _CONTROL_RUN,
    _CYRILLIC_RUN,
    _LETTER_RUN,
    MAX_CHARS,
    STATUS_DECODE_ERROR,
    STATUS_NOT_RUSSIAN,
    STATUS_NOT_TEXT,
    STATUS_OK,
    STATUS_TOO_LONG,
    check_text,
)

CORPORA = ("app_reviews_ilywio", "rusentiment", "steam_reviews_rus", "otzovik_sberbank", "livelib_books",
           "kinopoisk_itsecd_labs")
_MOJIBAKE = re.compile(r"[\u00c0-\u00ff]+")


def check_by_expressions(value: object) -> str:
    """``check_text`` with its characters counted by regular expressions."""
    if not isinstance(value, str) or not value.strip():  # empty or not text: no characters to count
        return check_text(value)
    sample = value[:5000]
    letters = _count(_LETTER_RUN, sample)
    if sample.count("\ufffd") > max(2, len(sample) // 100) \
            or letters >= 10 and _count(_MOJIBAKE, sample) > 0.3 * letters:
        return STATUS_DECODE_ERROR
    if _count(_CONTROL_RUN, sample) > len(sample) // 20:
        return STATUS_NOT_TEXT
    cyrillic = _count(_CYRILLIC_RUN, sample)
    if cyrillic == 0 and letters >= 3 or letters >= 20 and cyrillic < 0.3 * letters:
        return STATUS_NOT_RUSSIAN
    return STATUS_TOO_LONG if len(value) > MAX_CHARS else STATUS_OK


def _count(run: re.Pattern, text: str) -> int:
    return sum(map(len, run.findall(text)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reviews", type=int, default=3000, help="reviews per corpus")
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    check_text("прогрев")  # the table is built once per process (~10 ms): not part of the timing
    print(f"{'corpus':24} {'chars':>6} {'table µs':>9} {'regex µs':>9} {'speed-up':>8}  same statuses")
    for corpus in CORPORA:
        texts = [record.get("text") for record, _ in zip(read_records(args.data_dir / f"{corpus}.jsonl.gz"),
                                                         range(args.reviews))]
        same = [check_text(t) for t in texts] == [check_by_expressions(t) for t in texts]
        times = {}
        for name, check in (("table", check_text), ("regex", check_by_expressions)):
            seconds = min(timeit.repeat(lambda check=check, texts=texts: [check(t) for t in texts], number=1, repeat=5))
            times[name] = seconds / len(texts) * 1e6
        chars = sum(len(t) for t in texts if isinstance(t, str)) / len(texts)
        print(f"{corpus:24} {chars:6.0f} {times['table']:9.1f} {times['regex']:9.1f} "
              f"{times['regex'] / times['table']:7.1f}x  {same}")


if __name__ == "__main__":
    main()
