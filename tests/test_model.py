import contextlib
import copy

import numpy as np
import pytest
import torch

from sentiscore.inference import TransformerScorer, encoder_autocast, infer_ids, pick_device
from sentiscore.model import Head, ModelConfig, ReviewModel, median_score, score_interval, window_ids
from sentiscore.train import NO_SENTIMENT, multitask_loss, score_targets


@pytest.fixture
def tiny_model(tiny_base):
    torch.manual_seed(0)
    return ReviewModel.from_base(tiny_base, ModelConfig(name="tiny", window=34))


def test_windows_cover_the_whole_text():
    ids = np.arange(100)
    windows = window_ids(ids, 32)
    assert [len(w) for w in windows] == [32, 32, 32, 4]
    assert np.array_equal(np.concatenate(windows), ids)
    assert len(window_ids([], 32)) == 1
    capped = window_ids(np.arange(320), 32, max_windows=3)
    assert [w[0] for w in capped] == [0, 160, 288]
    drawn = window_ids(np.arange(320), 32, max_windows=4, rng=np.random.default_rng(0))
    assert drawn[0][0] == 0 and drawn[-1][0] == 288 and len(drawn) == 4


def test_windows_of_many_reviews_at_once_are_those_of_each_review(tiny_model):
    from sentiscore.batching import length_batches
    from sentiscore.model import window_spans

    lengths = np.array([0, 1, 31, 32, 33, 100, 320, 5])
    for max_windows in (None, 3):
        owners, starts, spans = window_spans(lengths, 32, max_windows)
        one_by_one = [(review, window[0] if len(window) else 0, len(window)) for review, length in enumerate(lengths)
                      for window in window_ids(np.arange(length), 32, max_windows)]
        assert list(zip(owners.tolist(), starts.tolist(), spans.tolist())) == one_by_one

    reviews = tiny_model.encode_text(["Отличный фильм!", "Скучно. " * 40, ""])
    docs = [window_ids(ids, tiny_model.content_size) for ids in reviews]
    input_ids, attention, window_doc, _ = tiny_model.collate(docs)
    rows = [window for doc in docs for window in doc]
    for row, window in zip(input_ids.numpy(), rows):  # [CLS] window [SEP], then padding the mask leaves out
        assert row[0] == tiny_model.tokenizer.cls_token_id and row[len(window) + 1] == tiny_model.tokenizer.sep_token_id
        assert np.array_equal(row[1 : len(window) + 1], window)
        assert (row[len(window) + 2 :] == tiny_model.tokenizer.pad_token_id).all()
    assert attention.sum(1).tolist() == [len(window) + 2 for window in rows]
    assert window_doc.tolist() == [review for review, doc in enumerate(docs) for _ in doc]

    widths = np.array([40, 10, 34, 34, 12, 3, 34, 7])
    batches = list(length_batches(np.ones(len(widths), dtype=int), widths, 100))
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(widths)))
    for batch, after in zip(batches, [*batches[1:], None]):  # as many as fit at the batch's widest, widest first
        assert widths[batch[0]] == widths[batch].max() and len(batch) * widths[batch[0]] <= 100 or len(batch) == 1
        assert after is None or (len(batch) + 1) * widths[batch[0]] > 100


def test_heads_shapes(tiny_model):
    texts = ["Отличный фильм!", "Скучно. " * 40]
    batch = tiny_model.collate([window_ids(ids, tiny_model.content_size) for ids in tiny_model.encode_text(texts)])
    sentiment, score = tiny_model(*batch)
    assert sentiment.shape == (2, 3) and score.shape == (2, 10)
    assert batch[0].shape[0] > 2  # the long review took several windows


def test_long_text_is_read_whole(tiny_model):
    """A review's pooled vector is the token-weighted mean over all its windows: changing its last window
    changes the prediction, however long the review."""
    tiny_model.eval()
    head = tiny_model.encode_text(["Начало длинного отзыва. " * 60])[0]
    endings = [tiny_model.encode_text([ending])[0] for ending in ("Прекрасно!", "Ужасно!")]
    sentiment, _ = infer_ids(tiny_model, [np.concatenate([head, ending]) for ending in endings], torch.device("cpu"))
    assert len(head) > 5 * tiny_model.content_size
    assert not np.allclose(sentiment[0], sentiment[1])


def test_partial_labels_only_train_what_they_have():
    sentiment_logits = torch.randn(4, 3, requires_grad=True)
    score_logits = torch.randn(4, 10, requires_grad=True)
    sentiment = torch.tensor([2, NO_SENTIMENT, 0, NO_SENTIMENT])
    score = torch.tensor([9.0, 7.5, float("nan"), float("nan")])
    loss, parts = multitask_loss(sentiment_logits, score_logits, sentiment, score, l1_weight=0.5)
    loss.backward()
    assert parts["sentiment"] > 0 and parts["score"] > 0
    assert sentiment_logits.grad[[1, 3]].abs().sum() == 0 and sentiment_logits.grad[[0, 2]].abs().sum() > 0
    assert score_logits.grad[[2, 3]].abs().sum() == 0 and score_logits.grad[[0, 1]].abs().sum() > 0
    nothing, _ = multitask_loss(sentiment_logits, score_logits, torch.full((4,), NO_SENTIMENT),
                                torch.full((4,), float("nan")), 0.5)
    assert float(nothing.detach()) == 0.0


def test_score_weights_scale_each_rows_share_of_the_score_loss():
    torch.manual_seed(0)
    sentiment_logits, score_logits = torch.randn(3, 3), torch.randn(3, 10)
    sentiment, score = torch.full((3,), NO_SENTIMENT), torch.tensor([2.0, 6.0, 9.0])
    equal, _ = multitask_loss(sentiment_logits, score_logits, sentiment, score, 0.5)
    ones, _ = multitask_loss(sentiment_logits, score_logits, sentiment, score, 0.5, torch.ones(3))
    assert float(ones) == pytest.approx(float(equal))
    first_only, _ = multitask_loss(sentiment_logits, score_logits, sentiment, score, 0.5, torch.tensor([3.0, 0, 0]))
    first_alone, _ = multitask_loss(sentiment_logits[:1], score_logits[:1], sentiment[:1], score[:1], 0.5)
    assert float(first_only) == pytest.approx(float(first_alone))
    weighted, _ = multitask_loss(sentiment_logits, score_logits, sentiment, score, 0.5, torch.tensor([2.0, 1, 1]))
    by_row = [multitask_loss(sentiment_logits[i:i + 1], score_logits[i:i + 1], sentiment[:1], score[i:i + 1],
                             0.5)[0] for i in range(3)]
    assert float(weighted) == pytest.approx(float(2 * by_row[0] + by_row[1] + by_row[2]) / 4)


def test_score_targets_share_half_scores():
    targets = score_targets(torch.tensor([7.5, 10.0, 1.0]))
    assert targets[0, 6] == pytest.approx(0.5) and targets[0, 7] == pytest.approx(0.5)
    assert targets[1, 9] == 1.0 and targets[2, 0] == 1.0
    assert torch.allclose(targets.sum(1), torch.ones(3))


def test_median_and_interval_of_a_distribution():
    certain = np.eye(10)[[7]]
    assert median_score(certain)[0] == 8.0
    skewed = np.array([[.30, .05, .05, .05, .04, .06, .05, .10, .10, .20]])
    assert median_score(skewed)[0] == 6.0
    spread = np.array([[.04, .04, .12, .10, .20, .20, .10, .09, .08, .03]])
    low, high = score_interval(spread, 0.8)
    assert (low[0], high[0]) == (3.0, 9.0)


def test_the_median_score_has_the_least_expected_absolute_error_of_any_point():
    distributions = np.random.default_rng(0).dirichlet(np.full(10, 0.3), size=200)
    scores = np.arange(1, 11)

    def expected_error(point: np.ndarray) -> np.ndarray:
        return (distributions * np.abs(scores[None, :] - point[:, None])).sum(1)

    median = median_score(distributions)
    assert set(np.unique(median)) <= set(scores.astype(float))
    least = np.min([expected_error(np.full(200, k, dtype=float)) for k in scores], axis=0)
    assert np.allclose(expected_error(median), least)
    assert (expected_error(median) <= expected_error(distributions @ scores) + 1e-12).all()


def test_save_load_round_trip_gives_identical_predictions(tiny_model, tmp_path):
    texts = ["Отличный фильм, пересмотрю ещё не раз", "Скучно и затянуто. " * 30]
    before = TransformerScorer(tiny_model, torch.device("cpu")).score_texts(texts)
    tiny_model.save(tmp_path / "model", dtype=torch.float32)
    after = TransformerScorer.load(tmp_path / "model", device="cpu").score_texts(texts)
    for a, b in zip(before, after):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert ModelConfig.load(tmp_path / "model" / "sentiscore.json").window == 34


def test_interval_is_built_from_the_fitted_mass(tiny_model, tmp_path):
    texts = ["Отличный фильм, пересмотрю ещё не раз", "Скучно и затянуто, зря потратил два часа."]
    scorer = TransformerScorer(tiny_model, torch.device("cpu"))
    _, distribution = infer_ids(tiny_model, scorer.prepare(texts), torch.device("cpu"))
    assert not np.array_equal(score_interval(distribution, 0.3), score_interval(distribution, 0.8))
    tiny_model.config.interval_mass = 0.3
    np.testing.assert_array_equal(scorer.score_texts(texts)[2],
                                  np.stack(score_interval(distribution, 0.3), axis=1))
    tiny_model.config.save(tmp_path / "with_mass.json")
    assert ModelConfig.load(tmp_path / "with_mass.json").interval_mass == 0.3
    (tmp_path / "older.json").write_text('{"name": "older", "interval": 0.9}')
    assert ModelConfig.load(tmp_path / "older.json").interval_mass == 0.9


@pytest.mark.parametrize("inner", [None, 16])
def test_head_save_load(tmp_path, inner):
    head = Head(8, 3, inner=inner)
    head.save(tmp_path / "h.safetensors")
    loaded = Head.load(tmp_path / "h.safetensors").eval()
    assert (loaded.inner is None) == (inner is None) and loaded.first_linear.in_features == 8
    x = torch.randn(2, 8)
    assert torch.equal(head.eval()(x), loaded(x))


def test_a_gpu_is_named_with_its_index_so_that_another_thread_finds_the_same_one(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 1)
    assert pick_device("cuda") == pick_device("auto") == torch.device("cuda", 1)
    assert pick_device("cuda:0") == torch.device("cuda", 0)
    assert pick_device("cpu") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert pick_device("auto") == torch.device("cpu")
    with pytest.raises(RuntimeError, match="no GPU"):
        pick_device("cuda")


def test_an_encoder_in_bf16_weights_reads_as_in_fp32_weights():
    """On a GPU the scorer casts the encoder to bf16 and reads without autocast (benchmarks/gpu_inference.py); the
    pooled sums stay fp32 and the predictions those of the fp32 weights."""
    from sentiscore.predict import resolve_model_path

    cpu = torch.device("cpu")
    model = ReviewModel.load(resolve_model_path("sentiscore-e5-fast"))
    texts = ["Отличный фильм, пересмотрю ещё не раз, актёры играют великолепно.",
             "Скучно и затянуто, зря потратил два часа. Сюжет предсказуем с первой минуты. " * 20,
             "Книга неплохая, но концовка разочаровала."]
    ids = model.encode_text(texts)
    sentiment, distribution = infer_ids(model, ids, cpu, precision="fp32")
    half = copy.deepcopy(model)
    half.encoder.to(torch.bfloat16)
    assert isinstance(encoder_autocast(half, cpu, "bf16"), contextlib.nullcontext)
    assert not isinstance(encoder_autocast(model, cpu, "bf16"), contextlib.nullcontext)
    with torch.no_grad():
        sums, _ = half.pooled_windows(*half.collate([[ids[1][:30]]])[:2])
    assert sums.dtype == torch.float32
    half_sentiment, half_distribution = infer_ids(half, ids, cpu, precision="bf16")
    assert (half_sentiment.argmax(1) == sentiment.argmax(1)).all()
    assert sentiment.argmax(1).tolist()[:2] == [2, 0]
    np.testing.assert_allclose(half_distribution @ np.arange(1, 11), distribution @ np.arange(1, 11), atol=0.1)


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a GPU"))])
def test_the_scorer_reads_in_bf16_weights_where_the_precision_is_bf16(tiny_model, device):
    scorer = TransformerScorer(tiny_model, pick_device(device), "bf16")
    assert next(scorer.model.encoder.parameters()).dtype == torch.bfloat16
    assert next(scorer.model.sentiment_head.parameters()).dtype == torch.float32
    texts = ["Отличный фильм, пересмотрю ещё не раз", "Скучно и затянуто, зря потратил два часа."]
    sentiment, score, interval = scorer.score_texts(texts)
    assert sentiment.dtype == np.float32 and np.allclose(sentiment.sum(1), 1.0, atol=1e-5)
    fp32 = TransformerScorer(copy.deepcopy(tiny_model).float(), pick_device(device), "fp32")
    assert next(fp32.model.encoder.parameters()).dtype == torch.float32
