"""The two analysis semantics: hand-computed cases, then the library under ``official`` against
independent ports of the authors' scripts (official_ports.py) on tiny models."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from analysis_tiny import char_tokenizer
from official_ports import official_d_star, official_kl, official_token_losses
from sklearn.decomposition import PCA
from tokenizers import processors
from transformers import LlamaConfig, LlamaForCausalLM

from mathxfer.analysis.hidden import HiddenConfig, extract_hidden
from mathxfer.analysis.latent import base_components, pca_shift
from mathxfer.analysis.semantics import (KL_SMOOTHING, SEMANTICS, check_semantics, hidden_config, other_semantics,
                                         score_config)
from mathxfer.analysis.tokens import ScoreConfig, TokenScores, score_responses, summarize

PAD = 12.0  # the pad token's embedding, (PAD, PAD): large, so pads visibly move a pad-inclusive mean


# ---- the names ------------------------------------------------------------------------------------

def test_names_and_configs():
    assert SEMANTICS == ("official", "paper") and KL_SMOOTHING == {"official": 1e-10, "paper": 0.0}
    assert other_semantics("official") == "paper" and other_semantics("paper") == "official"
    with pytest.raises(ValueError, match="'official', 'paper'"):
        check_semantics("offical")
    official, paper = hidden_config("official"), hidden_config("paper", batch_size=3)
    assert (official.pooling, official.batch_size, official.storage_dtype) == ("mean_with_pad", None, "float32")
    assert (paper.pooling, paper.batch_size, paper.storage_dtype) == ("masked_mean", 3, "float32")
    assert hidden_config("official", pooling="masked_mean").pooling == "masked_mean"  # --pooling overrides
    assert score_config("official").semantics == "official" and ScoreConfig().semantics == "paper"
    # The semantics keys the token cache; 'paper' keeps the keys written before the field existed.
    assert score_config("official").cache_fields() != score_config("paper").cache_fields()
    assert "semantics" not in ScoreConfig().cache_fields()
    with pytest.raises(ValueError, match="semantics"):
        ScoreConfig(semantics="vllm")


# ---- pooling over one batch, per batch, or real tokens only -------------------------------------

@pytest.fixture(scope="module")
def embedding_model() -> LlamaForCausalLM:
    """hidden_states[0] is the embedding lookup: token id v -> (v, -v), the pad (id 0) -> (PAD, PAD)."""
    config = LlamaConfig(vocab_size=64, hidden_size=2, intermediate_size=4, num_hidden_layers=1,
                         num_attention_heads=1, num_key_value_heads=1, pad_token_id=0)
    model = LlamaForCausalLM(config).eval()
    with torch.no_grad():
        ids = torch.arange(64, dtype=torch.float32)
        model.model.embed_tokens.weight.copy_(torch.stack([ids, -ids], dim=1))
        model.model.embed_tokens.weight[0] = PAD
    return model


# "a", "abc", "ab" are ids [4], [4, 5, 6], [4, 5]; left padding to the longest of each batch.
POOLING_CASES = [
    # one batch over all three: every text padded to 3 positions
    ("one padded batch", HiddenConfig(layers=(0,), batch_size=None, storage_dtype="float32"),
     [[(2 * PAD + 4) / 3, (2 * PAD - 4) / 3], [5, -5], [(PAD + 9) / 3, (PAD - 9) / 3]]),
    # batches of two: "ab" sits alone in the second batch, so it has no pad
    ("batches of two", HiddenConfig(layers=(0,), batch_size=2, chunk_size=2, storage_dtype="float32"),
     [[(2 * PAD + 4) / 3, (2 * PAD - 4) / 3], [5, -5], [4.5, -4.5]]),
    ("masked mean", HiddenConfig(layers=(0,), pooling="masked_mean", batch_size=None, storage_dtype="float32"),
     [[4, -4], [5, -5], [4.5, -4.5]]),
]


@pytest.mark.parametrize(("name", "config", "expected"), POOLING_CASES, ids=[c[0] for c in POOLING_CASES])
def test_pooling_by_hand(embedding_model, tokenizer, results, name, config, expected):
    hs = extract_hidden(embedding_model, tokenizer, ["a", "abc", "ab"], model_id="emb", config=config)
    np.testing.assert_allclose(hs.features[0], expected, rtol=1e-6)


def test_one_batch_and_batched_pad_inclusive_means_are_keyed_apart(embedding_model, tokenizer, results):
    one = extract_hidden(embedding_model, tokenizer, ["a", "abc", "ab"], model_id="emb",
                         config=HiddenConfig(layers=(0,), batch_size=None, storage_dtype="float32"))
    batched = extract_hidden(embedding_model, tokenizer, ["a", "abc", "ab"], model_id="emb",
                             config=HiddenConfig(layers=(0,), batch_size=4, chunk_size=4, storage_dtype="float32"))
    assert one.key != batched.key  # same numbers here (one batch either way), but not in general
    assert len(list((results / "hidden").glob("*.npz"))) == 2


def test_one_batch_ignores_the_chunk_size(embedding_model, tokenizer, results):
    # chunk_size smaller than the text count: still one batch (so still the pads of the longest text)
    config = HiddenConfig(layers=(0,), batch_size=None, chunk_size=1, storage_dtype="float32")
    hs = extract_hidden(embedding_model, tokenizer, ["a", "abc", "ab"], model_id="emb", config=config)
    np.testing.assert_allclose(hs.features[0], POOLING_CASES[0][2], rtol=1e-6)


# ---- which tokens are scored --------------------------------------------------------------------

def _bos_tokenizer():
    tok = char_tokenizer()
    tok.backend_tokenizer.post_processor = processors.TemplateProcessing(single="<s> $A",
                                                                         special_tokens=[("<s>", 2)])
    return tok


SCORED_CASES = [
    # (tokenizer, semantics, prompt, response, max_response_tokens, scored characters)
    ("no BOS", "official", "ab", "cd", None, "d"),  # full[plen + 1:] drops the first response token
    ("no BOS", "paper", "ab", "cd", None, "cd"),
    ("BOS", "official", "ab", "cd", None, "cd"),  # the BOS shifts the slice: nothing dropped
    ("BOS", "paper", "ab", "cd", None, "cd"),
    ("no BOS", "official", "ab", "cdef", 2, "de"),  # truncation applies to the scored tokens
    ("no BOS", "paper", "ab", "cdef", 2, "cd"),
    ("no BOS", "official", "ab", "c", None, ""),  # a one-token response leaves nothing
]


@pytest.mark.parametrize(("tok_name", "semantics", "prompt", "response", "max_tokens", "scored"), SCORED_CASES)
def test_scored_tokens(tuned_model, base_model, tok_name, semantics, prompt, response, max_tokens, scored):
    tok = _bos_tokenizer() if tok_name == "BOS" else char_tokenizer()
    config = score_config(semantics, max_response_tokens=max_tokens)
    scores = score_responses(tuned_model, base_model, tok, tok, [prompt], [response], config=config)
    assert tok.convert_ids_to_tokens(scores.token_id.tolist()) == list(scored)
    assert list(scores.offsets) == [0, len(scored)]


# ---- the smoothed sampled-token KL --------------------------------------------------------------

def test_kl_sampled_smoothing_by_hand():
    e = 1e-10
    # sample 0: p = 0.5 vs 0.25, and p = e^-30 vs e^-40 (so small that the 1e-10 dominates);
    # sample 1: no tokens (skipped); sample 2: p = 0.1 vs 0.2.
    logp_tuned = np.log([0.5, math.exp(-30), 0.1]).astype(np.float32)
    logp_base = np.log([0.25, math.exp(-40), 0.2]).astype(np.float32)
    scores = TokenScores(offsets=np.array([0, 2, 2, 3]), token_id=np.array([4, 5, 6], dtype=np.int32),
                         logp_tuned=logp_tuned, logp_base=logp_base, kl_full=np.zeros(3, np.float32),
                         rank_tuned=np.zeros(3, np.int32), rank_base=np.zeros(3, np.int32))
    paper = ((math.log(2) + 10) / 2 + math.log(0.5)) / 2
    official = ((math.log((0.5 + e) / (0.25 + e)) + math.log((math.exp(-30) + e) / (math.exp(-40) + e))) / 2
                + math.log((0.1 + e) / (0.2 + e))) / 2
    assert summarize(scores)["kl_sampled"] == pytest.approx(abs(paper), rel=1e-6)
    assert summarize(scores, semantics="official")["kl_sampled"] == pytest.approx(abs(official), rel=1e-6)
    assert abs(paper) > 10 * abs(official)  # the smoothing all but erases the e^-30 vs e^-40 ratio
    assert summarize(scores, "official")["n_samples"] == 2  # the empty sample is skipped
    # The exact KL and the rank shift do not depend on the semantics.
    for field in ("kl_full", "rank_shift", "n_tokens"):
        assert summarize(scores, "official")[field] == summarize(scores, "paper")[field]


# ---- the PCA sign conventions -------------------------------------------------------------------

V, W = np.array([0.8, 0.6]), np.array([-0.6, 0.8])  # PC1 and PC2 with their largest loading positive


def _along(pc1_scores, pc2_scores, offset=(1.0, 2.0)) -> np.ndarray:
    """Points whose centred PCA scores are exactly ``pc1_scores`` on V and ``pc2_scores`` on W."""
    return np.outer(pc1_scores, V) + np.outer(pc2_scores, W) + np.array(offset)


# Centred scores on V: [-3, 1, 1, 1], the largest in magnitude negative, so scikit-learn < 1.5 flips PC1;
# on W: [0, 2, -1, -1], the largest positive, so both conventions keep PC2.
DISAGREE = _along([-3, 1, 1, 1], [0, 2, -1, -1])
AGREE = _along([3, -1, -1, -1], [0, 2, -1, -1])


@pytest.mark.parametrize(("sign", "expected"), [("loadings", [V, W]), ("scores", [-V, W])])
def test_sign_conventions_by_hand(sign, expected):
    np.testing.assert_allclose(base_components(DISAGREE, sign), expected, atol=1e-12)
    np.testing.assert_allclose(base_components(AGREE, sign), [V, W], atol=1e-12)


def test_d_star_depends_on_the_sign_convention():
    # Both layers shift the tuned features by +1 along V: PC1's shift is +1 in each layer under
    # 'loadings'; under 'scores' layer 0's PC1 is -V, so its shift is -1 and the layer-average is 0.
    base = np.stack([DISAGREE, AGREE])
    tuned = base + V
    assert pca_shift(base, tuned).d_star == pytest.approx(1.0, abs=1e-12)
    assert pca_shift(base, tuned, sign="scores").d_star == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="'loadings'"):
        pca_shift(base, tuned, sign="svd")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_loadings_is_what_this_scikit_learn_fits(dtype):
    x = np.random.default_rng(3).standard_normal((30, 12)).astype(dtype) + 5.0
    expected = PCA(n_components=2).fit(x).components_
    np.testing.assert_allclose(base_components(x, "loadings"), expected, atol=1e-5)
    np.testing.assert_allclose(base_components(DISAGREE), PCA(n_components=2).fit(DISAGREE).components_,
                               atol=1e-12)


# ---- the library under 'official' equals the ports of the authors' scripts ---------------------

# Lengths 2..45 characters, one over MAX_LENGTH: padding to the longest and truncation both matter.
TEXTS = ["hi", "the cat sat on the mat.", "what is 12 + 30? it is 42.", "zz top", "a b c d e f g h",
         "one two three four five six seven eight nine", "why?", "x = 3, y = 4, so x + y = 7."]
MAX_LENGTH = 40
PROMPTS = ["what is 2+2?", "say hi", "count to 5,", "name a color.", "q"]
RESPONSES = [" it is 4.", "hi there, friend!", " 1 2 3 4 5", " red", "a"]  # the last scores nothing officially


def _library_d_star(base_model, tuned_model, tokenizer, semantics: str, sign: str = "loadings") -> float:
    config = hidden_config(semantics, max_tokens=MAX_LENGTH)
    base = extract_hidden(base_model, tokenizer, TEXTS, model_id="base", config=config)
    tuned = extract_hidden(tuned_model, tokenizer, TEXTS, model_id="tuned", config=config)
    return pca_shift(base.features, tuned.features, base.layers, sign=sign).d_star


def test_official_d_star_equals_the_script(base_model, tuned_model, tokenizer, results):
    expected = official_d_star(base_model, tuned_model, tokenizer, TEXTS, max_length=MAX_LENGTH)
    assert tokenizer.padding_side == "right"  # the port restores the shared tokenizer
    assert _library_d_star(base_model, tuned_model, tokenizer, "official") == pytest.approx(expected, rel=1e-5)
    # The paper's masked mean is another number on texts of unequal lengths (so this test can fail).
    paper = _library_d_star(base_model, tuned_model, tokenizer, "paper")
    assert abs(paper - expected) > 1e-3 * expected, (paper, expected)


def test_official_kl_and_ranks_equal_the_script(base_model, tuned_model, tokenizer):
    entries = [{"input": p, "output": r} for p, r in zip(PROMPTS, RESPONSES)]
    tuned_losses = official_token_losses(tuned_model, tokenizer, entries)
    base_losses = official_token_losses(base_model, tokenizer, entries)
    assert tuned_losses[-1] is None  # "q" + "a": the only response token is the dropped one
    scores = score_responses(tuned_model, base_model, tokenizer, tokenizer, PROMPTS, RESPONSES,
                             config=score_config("official", batch_size=2))
    summary = summarize(scores, semantics="official")
    assert summary["kl_sampled"] == pytest.approx(official_kl(tuned_losses, base_losses), rel=1e-5)
    assert summary["n_samples"] == 4
    # Token by token: the same tokens, log-probabilities, and ranks (vLLM's are 1-based).
    frame = scores.to_frame()
    for i, (t_res, b_res) in enumerate(zip(tuned_losses, base_losses)):
        got = frame[frame["sample"] == i]
        if t_res is None:
            assert got.empty
            continue
        assert [tokenizer.decode([t]) for t in got.token_id] == [t["token"] for t in t_res["token_losses"]]
        np.testing.assert_allclose(-got.logp_tuned, [t["loss"] for t in t_res["token_losses"]], atol=1e-4)
        np.testing.assert_allclose(-got.logp_base, [t["loss"] for t in b_res["token_losses"]], atol=1e-4)
        assert list(got.rank_tuned + 1) == [t["rank"] for t in t_res["token_losses"]]
        assert list(got.rank_base + 1) == [t["rank"] for t in b_res["token_losses"]]
    # Under 'paper' every response token is scored: one more per response, and another KL.
    paper = score_responses(tuned_model, base_model, tokenizer, tokenizer, PROMPTS, RESPONSES,
                            config=score_config("paper"))
    assert len(paper.token_id) == len(scores.token_id) + len(PROMPTS)
    assert summarize(paper)["kl_sampled"] != pytest.approx(summary["kl_sampled"], rel=1e-3)
