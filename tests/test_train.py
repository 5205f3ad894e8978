import json

import numpy as np
import pytest
import torch

from sentiscore.cli import main
from sentiscore.data import load_rows
from sentiscore.inference import infer_ids, pool_ids
from sentiscore.model import ModelConfig, ReviewModel, keep_first_layers
from sentiscore.train import (
    NO_SENTIMENT,
    HeadsConfig,
    TokenizedCorpus,
    TrainConfig,
    fit,
    fit_heads,
    new_model_on_first_layers,
)


def test_tokenized_corpus_round_trip(corpus_dir, tiny_base, tmp_path):
    model = ReviewModel.from_base(tiny_base, ModelConfig(window=34))
    rows = load_rows(["kinopoisk"], corpus_dir)
    corpus = TokenizedCorpus.from_rows(rows, model)
    assert len(corpus) == len(rows) and corpus.ids.dtype == np.uint16
    assert corpus.tokens(0).tolist() == model.encode_text([rows[0]["text"]])[0].tolist()
    corpus.save(tmp_path / "c.npz")
    loaded = TokenizedCorpus.load(tmp_path / "c.npz")
    assert np.array_equal(loaded.ids, corpus.ids) and np.array_equal(loaded.score, corpus.score, equal_nan=True)
    half = loaded.subset(np.arange(len(loaded)) % 2 == 0)
    assert list(half.tokens(1)) == list(corpus.tokens(2))


def test_tiny_end_to_end_training_learns_the_fixture(corpus_dir, tiny_base):
    """Twelve epochs over sixteen reviews: a 2-layer random BERT must fit them (loss falls, sentiment right)."""
    model = ReviewModel.from_base(tiny_base, ModelConfig(window=34))
    corpus = TokenizedCorpus.from_rows(load_rows(["kinopoisk"], corpus_dir), model)
    config = TrainConfig(epochs=12, window=34, batch_tokens=512, learning_rate=3e-3, head_learning_rate=1e-2,
                         max_train_windows=2, warmup=0.0)
    history = fit(model, corpus, config, device="cpu", dev=corpus, log=lambda _: None, progress=False)
    assert history[-1]["loss"] < history[0]["loss"]
    assert history[-1]["dev"]["posneg_accuracy"] >= 0.9
    sentiment, _ = infer_ids(model, corpus.token_lists(), torch.device("cpu"))
    labelled = corpus.sentiment != NO_SENTIMENT
    assert (sentiment.argmax(1)[labelled] == corpus.sentiment[labelled]).mean() >= 0.9
    assert model.config.training["epochs"] == 12 and len(model.config.training["history"]) == 12


def test_train_command_saves_a_loadable_model(corpus_dir, tiny_base, tmp_path, capsys):
    output = tmp_path / "model"
    code = main(["train", "--model", "transformer", "--base", str(tiny_base), "--data-dir", str(corpus_dir),
                 "--corpora", "kinopoisk", "--epochs", "1", "--window", "34", "--batch-tokens", "512",
                 "--device", "cpu", "-o", str(output)])
    assert code == 0
    saved = json.loads((output / "sentiscore.json").read_text())
    assert saved["training"]["corpora"] == ["kinopoisk"] and saved["training"]["seed"] == 13
    assert main(["predict", "--model", str(output), "Хорошее кино"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["status"] == "ok"


def test_a_model_trained_on_the_first_layers_of_its_base_loads_with_only_those(corpus_dir, tiny_base, tmp_path):
    from sentiscore.model import load_encoder
    from sentiscore.predict import predict

    output = tmp_path / "shallow"
    assert main(["train", "--model", "transformer", "--base", str(tiny_base), "--data-dir", str(corpus_dir),
                 "--corpora", "kinopoisk", "--epochs", "1", "--window", "34", "--batch-tokens", "512",
                 "--device", "cpu", "--layers", "1", "-o", str(output)]) == 0
    loaded = ReviewModel.load(output)
    assert loaded.encoder.config.num_hidden_layers == len(loaded.encoder.encoder.layer) == 1
    assert loaded.config.training["layers"] == 1
    assert predict("Скучный и затянутый фильм", output).status == "ok"

    base = load_encoder(tiny_base)
    kept = keep_first_layers(load_encoder(tiny_base), 1)
    for name, weight in kept.encoder.layer[0].state_dict().items():
        assert torch.equal(weight, base.encoder.layer[0].state_dict()[name])
    with pytest.raises(ValueError, match="keep 1 to 2"):
        keep_first_layers(base, 3)


@pytest.mark.parametrize("inner", [None, 16])
def test_heads_trained_on_the_first_layers_of_a_saved_model_read_its_encoder(corpus_dir, tiny_base, tmp_path, inner):
    """The fast model's recipe on the fixture: fresh heads on the first layer of a saved model's encoder, trained
    on its pooled vectors, saved without a copy of that encoder and loaded back to the same predictions."""
    cpu = torch.device("cpu")
    source, output = tmp_path / "models" / "full", tmp_path / "models" / "fast"
    ReviewModel.from_base(tiny_base, ModelConfig(window=34)).save(source, dtype=torch.float32)
    model = new_model_on_first_layers(source, 1, output, "fast", "1")
    corpus = TokenizedCorpus.from_rows(load_rows(["kinopoisk"], corpus_dir), model)
    pooled = pool_ids(model, corpus.token_lists(), cpu)
    history = fit_heads(model, pooled, corpus.sentiment, corpus.score,
                        HeadsConfig(epochs=100, batch_size=8, inner=inner), log=lambda _: None)
    assert history[-1]["loss"] < history[0]["loss"] / 2
    sentiment, distribution = infer_ids(model, corpus.token_lists(), cpu)
    labelled = corpus.sentiment != NO_SENTIMENT
    assert (sentiment.argmax(1)[labelled] == corpus.sentiment[labelled]).mean() >= 0.9

    model.save(output)
    assert sorted(p.name for p in output.iterdir()) == ["score_head.safetensors", "sentiment_head.safetensors",
                                                         "sentiscore.json"]
    loaded = ReviewModel.load(output)
    assert len(loaded.encoder.encoder.layer) == 1 and loaded.config.body == "../full"
    first = ReviewModel.load(source).encoder.encoder.layer[0].state_dict()
    for name, weight in loaded.encoder.encoder.layer[0].state_dict().items():
        assert torch.equal(weight, first[name])
    for before, after in zip((sentiment, distribution), infer_ids(loaded, corpus.token_lists(), cpu)):
        np.testing.assert_allclose(after, before, atol=1e-6)
    with pytest.raises(ValueError, match="would not find the encoder"):
        model.save(tmp_path / "elsewhere" / "fast")
    retrained = ModelConfig.load(source / "sentiscore.json")
    retrained.version = "2"
    retrained.save(source / "sentiscore.json")
    with pytest.raises(ValueError, match="trained on the encoder of sentiscore 0, and ../full is sentiscore 2"):
        ReviewModel.load(output)
