import codecs
import gzip

import pandas as pd
import pytest

from sentiscore.files import read_records, text_encoding
from tests.conftest import write_reviews


@pytest.mark.parametrize("suffix", ["csv", "tsv", "jsonl", "jsonl.gz", "parquet"])
def test_read_records_in_every_format(tmp_path, suffix):
    frame = pd.DataFrame({"text": ["Хорошо.\n\n9/10", "Плохо."], "author": [None, "Аня"]})
    path = tmp_path / f"reviews.{suffix}"
    write_reviews(frame, path)
    records = list(read_records(path))
    assert [r["text"] for r in records] == ["Хорошо.\n\n9/10", "Плохо."]
    assert [r["author"] for r in records][1] == "Аня"


def test_unknown_format(tmp_path):
    with pytest.raises(ValueError, match="cannot tell the format"):
        list(read_records(tmp_path / "reviews.xlsx"))


REVIEW = "Отличный фильм, пересмотрю ещё не раз. 9 из 10"


@pytest.mark.parametrize(("data", "expected"), [
    (REVIEW.encode("utf-8"), "utf-8"),
    (codecs.BOM_UTF8 + REVIEW.encode("utf-8"), "utf-8-sig"),
    (codecs.BOM_UTF16_LE + REVIEW.encode("utf-16-le"), "utf-16"),
    (REVIEW.encode("cp1251"), "cp1251"),
    (REVIEW.encode("utf-8") * 20 + b"\xff\xfe" + REVIEW.encode("utf-8"), "utf-8"),  # a few bad bytes stay UTF-8
    (b"plain ascii", "utf-8"),
])
def test_text_encoding(tmp_path, data, expected):
    path = tmp_path / "reviews.csv"
    path.write_bytes(data)
    assert text_encoding(path) == expected
    zipped = tmp_path / "reviews.csv.gz"
    zipped.write_bytes(gzip.compress(data))
    assert text_encoding(zipped) == expected
