"""Hidden-state extraction: pooling, agreement with a plain forward pass, cache, resumption, memory."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import torch

from mathxfer.analysis.hidden import HiddenConfig, extract_hidden, pool

TEXTS = ["the cat sat on the mat", "a", "what is 12 + 30?", "hello world", "zz", "one two three four five six"]


class CountingModel(torch.nn.Module):
    """Wraps a model, counting forward calls; optionally fails on call number ``fail_at``."""

    def __init__(self, model, fail_at: int | None = None):
        super().__init__()
        self.model, self.calls, self.fail_at = model, 0, fail_at

    def forward(self, **kwargs):
        self.calls += 1
        if self.fail_at is not None and self.calls == self.fail_at:
            raise RuntimeError("simulated crash")
        return self.model(**kwargs)


def test_pooling_on_a_hand_made_batch():
    hidden = torch.tensor([[[1.0, 1.0], [1.0, 1.0], [3.0, 5.0], [5.0, 7.0]]])  # 2 left pads, 2 real tokens
    mask = torch.tensor([[0, 0, 1, 1]])
    with_pad, masked = pool(hidden, mask, "mean_with_pad"), pool(hidden, mask, "masked_mean")
    np.testing.assert_allclose(with_pad, [[2.5, 3.5]])
    np.testing.assert_allclose(masked, [[4.0, 6.0]])
    np.testing.assert_allclose(pool(hidden, mask, "last"), [[5.0, 7.0]])
    # The quirk, exactly: pad-inclusive mean = (n_real * masked mean + sum over pad rows) / seq_len.
    np.testing.assert_allclose(with_pad, (2 * masked + hidden[:, :2].sum(1)) / 4)
    # Without pads the two agree.
    np.testing.assert_allclose(pool(hidden[:, 2:], mask[:, 2:], "mean_with_pad"), masked)


def test_features_match_a_plain_left_padded_forward(base_model, tokenizer, results):
    config = HiddenConfig(batch_size=2, chunk_size=2, max_tokens=8)
    hs = extract_hidden(base_model, tokenizer, TEXTS[:2], model_id="tiny-base", config=config)
    assert hs.layers == (0, 1, 2) and hs.features.dtype == np.float16 and hs.features.shape == (3, 2, 32)
    tokenizer.padding_side = "left"
    enc = tokenizer(TEXTS[:2], return_tensors="pt", padding=True, truncation=True, max_length=8)
    tokenizer.padding_side = "right"
    assert enc["input_ids"].shape[1] == 8  # truncated to max_tokens
    with torch.no_grad():
        out = base_model(**enc, output_hidden_states=True)
    expected = torch.stack([h.mean(dim=1) for h in out.hidden_states]).numpy()  # pads included
    np.testing.assert_allclose(hs.features.astype(np.float32), expected, rtol=2e-3, atol=2e-3)
    assert tokenizer.padding_side == "right"  # the caller's tokenizer settings are restored


def test_layer_subset_and_masked_pooling_are_keyed_separately(base_model, tokenizer, results):
    a = extract_hidden(base_model, tokenizer, TEXTS, model_id="m", config=HiddenConfig(layers=(-1,), batch_size=2, chunk_size=2))
    b = extract_hidden(base_model, tokenizer, TEXTS, model_id="m",
                       config=HiddenConfig(layers=(-1,), pooling="masked_mean", batch_size=2, chunk_size=2))
    assert a.layers == (2,) and a.features.shape == (1, len(TEXTS), 32)
    assert a.key != b.key and not np.allclose(a.features, b.features)


def test_cache_hit_runs_no_model(base_model, tokenizer, results):
    counted = CountingModel(base_model)
    config = HiddenConfig(batch_size=2, chunk_size=4)
    first = extract_hidden(counted, tokenizer, TEXTS, model_id="m", config=config)
    assert counted.calls == 3
    assert first.path.exists() and first.path.parent == results / "hidden"

    def loader():
        raise AssertionError("a cache hit must not load the model")

    second = extract_hidden(loader, tokenizer, TEXTS, model_id="m", config=config)
    np.testing.assert_array_equal(first.features, second.features)
    # Another model id or other texts miss the cache.
    extract_hidden(counted, tokenizer, TEXTS[:3], model_id="m", config=config)
    assert counted.calls == 5


def test_resumes_after_a_crash(base_model, tokenizer, results, tmp_path):
    config = HiddenConfig(batch_size=2, chunk_size=2)  # 3 chunks of one batch each
    crashing = CountingModel(base_model, fail_at=3)
    with pytest.raises(RuntimeError, match="simulated"):
        extract_hidden(crashing, tokenizer, TEXTS, model_id="m", config=config)
    assert len(list((results / "hidden").glob("*.partial/chunk_*.npz"))) == 2
    resumed = CountingModel(base_model)
    out = extract_hidden(resumed, tokenizer, TEXTS, model_id="m", config=config)
    assert resumed.calls == 1  # only the missing chunk ran
    assert not list((results / "hidden").glob("*.partial"))
    fresh = extract_hidden(base_model, tokenizer, TEXTS, model_id="m", config=config, cache_dir=tmp_path / "fresh")
    np.testing.assert_array_equal(out.features, fresh.features)


def test_config_errors_name_the_fix():
    with pytest.raises(ValueError, match="multiple of batch_size"):
        HiddenConfig(batch_size=3, chunk_size=4)
    with pytest.raises(ValueError, match="pooling"):
        HiddenConfig(pooling="max")
    with pytest.raises(ValueError, match="positive"):
        HiddenConfig(batch_size=0)
    HiddenConfig(batch_size=None, chunk_size=3)  # one batch over all texts: no multiple to respect


def _peak_above_result(model, tokenizer, n: int, cache_dir) -> tuple[int, int]:
    texts = [f"text number {i} " + "abc " * (i % 7) for i in range(n)]
    config = HiddenConfig(batch_size=16, chunk_size=64)
    tracemalloc.start()
    out = extract_hidden(model, tokenizer, texts, model_id="m", config=config, cache_dir=cache_dir)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak - out.features.nbytes, out.features.nbytes


def test_memory_beyond_the_result_does_not_grow_with_n(base_model, tokenizer, tmp_path):
    small_extra, _ = _peak_above_result(base_model, tokenizer, 64, tmp_path / "a")
    big_extra, big_result = _peak_above_result(base_model, tokenizer, 1024, tmp_path / "b")
    # 16x the texts: the traced working set beyond the stored float16 array stays flat (a design that
    # kept all chunks and concatenated them would add another full copy of the result here).
    # (half the result as the bound: a few tens of kB of allocator noise measured 0.25x just over in CI)
    assert big_extra - small_extra < 0.5 * big_result, (small_extra, big_extra, big_result)


def test_model_identity(tmp_path, results):
    from mathxfer.identity import model_identity

    assert model_identity("Qwen/Qwen3-14B-Base", "abc123") == "Qwen/Qwen3-14B-Base@abc123"
    assert model_identity("Qwen/Qwen3-14B-Base") == "Qwen/Qwen3-14B-Base@main"
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "model.safetensors").write_bytes(b"weights-1")
    first = model_identity(ckpt)
    assert first.startswith("local:") and model_identity(ckpt) == first
    (ckpt / "model.safetensors").write_bytes(b"weights-2")
    assert model_identity(ckpt) != first


def test_tokenizer_fingerprint_ignores_call_time_padding_state():
    from transformers import PreTrainedTokenizerFast
    from tokenizers import Tokenizer, models, pre_tokenizers

    from mathxfer.identity import tokenizer_fingerprint

    raw = Tokenizer(models.WordLevel({"<pad>": 0, "a": 1, "b": 2}, unk_token="<pad>"))
    raw.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = PreTrainedTokenizerFast(tokenizer_object=raw, pad_token="<pad>")
    before = tokenizer_fingerprint(tok)
    tok(["a b", "a"], padding=True, truncation=True, max_length=2)  # leaves state on the backend
    assert tokenizer_fingerprint(tok) == before
