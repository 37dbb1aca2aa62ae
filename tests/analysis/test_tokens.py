"""Token scoring against brute-force computations on tiny models, and the aggregations by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from analysis_tiny import char_tokenizer
from mathxfer.analysis.tokens import (ScoreConfig, TokenScores, _score_positions, check_same_tokenizer, per_sample,
                                      position_profile, score_responses, shifted_tokens, summarize)

PROMPTS = ["what is 2+2?", "say hi", "count to 5,", "name a color."]
RESPONSES = ["it is 4.", "hi there, friend!", "1 2 3 4 5", ""]  # the last is empty on purpose


def _brute_force(tuned, base, tokenizer, prompt, response):
    """Unbatched full-logit computation, written as plainly as possible (float64)."""
    p = tokenizer(prompt)["input_ids"]
    r = tokenizer(response, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([p + r])
    with torch.no_grad():
        lt = torch.log_softmax(tuned(ids).logits[0].double(), -1)
        lb = torch.log_softmax(base(ids).logits[0].double(), -1)
    rows = []
    for j, y in enumerate(r):
        t = len(p) + j - 1
        pt, pb = lt[t].exp(), lb[t].exp()
        kl = sum(float(pt[v]) * math.log(float(pt[v]) / float(pb[v])) for v in range(len(pt)))
        rank_t = int(torch.argsort(lt[t], descending=True).tolist().index(y))
        rank_b = int(torch.argsort(lb[t], descending=True).tolist().index(y))
        rows.append((y, float(lt[t, y]), float(lb[t, y]), kl, rank_t, rank_b))
    return rows


def test_scores_match_brute_force(tuned_model, base_model, tokenizer):
    # batch_size 3 forces right padding with unequal lengths; token_chunk 4 splits the logit chunks.
    scores = score_responses(tuned_model, base_model, tokenizer, tokenizer, PROMPTS, RESPONSES,
                             config=ScoreConfig(batch_size=3, token_chunk=4))
    assert scores.n_samples == 4 and list(np.diff(scores.offsets)) == [8, 17, 9, 0]
    frame = scores.to_frame()
    sampled_means = []
    for i, (prompt, response) in enumerate(zip(PROMPTS[:3], RESPONSES[:3])):
        expected = np.array(_brute_force(tuned_model, base_model, tokenizer, prompt, response))
        got = frame[frame["sample"] == i]
        np.testing.assert_array_equal(got.token_id, expected[:, 0])
        np.testing.assert_allclose(got.logp_tuned, expected[:, 1], atol=1e-4)
        np.testing.assert_allclose(got.logp_base, expected[:, 2], atol=1e-4)
        np.testing.assert_allclose(got.kl_full, expected[:, 3], atol=1e-4)  # naive sum p log p/q
        np.testing.assert_array_equal(got.rank_tuned, expected[:, 4])
        np.testing.assert_array_equal(got.rank_base, expected[:, 5])
        sampled_means.append(np.mean(expected[:, 1] - expected[:, 2]))
    summary = summarize(scores)
    assert summary["n_samples"] == 3  # the empty response has no tokens to average
    assert summary["kl_sampled"] == pytest.approx(abs(np.mean(sampled_means)), abs=1e-4)
    assert summary["kl_full"] > 0.01 and summary["kl_sampled"] > 0.0


def test_kl_of_a_model_with_itself_is_zero(base_model, tokenizer):
    scores = score_responses(base_model, base_model, tokenizer, tokenizer, PROMPTS, RESPONSES)
    np.testing.assert_allclose(scores.kl_full, 0.0, atol=1e-6)
    np.testing.assert_allclose(scores.logp_tuned, scores.logp_base, atol=1e-6)
    assert (scores.rank_shift == 0).all()
    assert summarize(scores)["kl_sampled"] == pytest.approx(0.0, abs=1e-6)


def test_ranks_on_hand_made_logits():
    # rank = how many entries have a strictly larger logit (0 = argmax; ties share the best rank)
    tuned = torch.tensor([[3.0, 1.0, 2.0, 0.0], [1.0, 1.0, 0.0, 0.0]])
    base = torch.tensor([[0.0, 1.0, 2.0, 3.0], [0.0, 2.0, 1.0, 3.0]])
    out = _score_positions(tuned, base, torch.tensor([0, 1]), torch.nn.Identity(), torch.nn.Identity(), chunk=1)
    np.testing.assert_array_equal(out["rank_tuned"], [0, 0])
    np.testing.assert_array_equal(out["rank_base"], [3, 1])


def _hand_scores() -> TokenScores:
    """Two samples: tokens 5,6,5 and 7,5; rank shifts (base - tuned) 2,0,4 and -1,0."""
    n = 5
    return TokenScores(offsets=np.array([0, 3, 5]), token_id=np.array([5, 6, 5, 7, 5], dtype=np.int32),
                       logp_tuned=np.array([-1.0, -2.0, -3.0, -1.0, -1.0], dtype=np.float32),
                       logp_base=np.array([-2.0, -2.0, -3.0, -3.0, -1.0], dtype=np.float32),
                       kl_full=np.full(n, 0.5, dtype=np.float32),
                       rank_tuned=np.array([0, 1, 0, 3, 2], dtype=np.int32),
                       rank_base=np.array([2, 1, 4, 2, 2], dtype=np.int32))


def test_rank_shift_aggregates_by_hand():
    scores = _hand_scores()
    samples = per_sample(scores)
    np.testing.assert_allclose(samples.rank_shift, [2.0, -0.5])
    np.testing.assert_allclose(samples.log_ratio, [1 / 3, 1.0])
    summary = summarize(scores)
    assert summary["rank_shift"] == pytest.approx(0.75)  # mean of per-sample means
    assert summary["rank_shift_pooled"] == pytest.approx(1.0)  # mean over the 5 tokens
    assert summary["kl_sampled"] == pytest.approx(2 / 3)


def test_shifted_tokens_by_hand():
    tok = char_tokenizer()
    table = shifted_tokens(_hand_scores(), tok).set_index("token_id")
    assert sorted(table.index) == [5, 7]  # token 6 never moved
    assert table.loc[5, "n_occurrences"] == 3 and table.loc[5, "n_shifted"] == 2
    assert table.loc[5, "mean_shift"] == 3.0 and table.loc[5, "max_abs_shift"] == 4
    assert table.loc[5, "token"] == tok.convert_ids_to_tokens(5)
    assert list(shifted_tokens(_hand_scores(), tok, direction="up").token_id) == [5]
    assert list(shifted_tokens(_hand_scores(), tok, min_shift=3).token_id) == [5]


def test_position_profile_by_hand():
    profile = position_profile(_hand_scores(), n_bins=2)
    # relative positions: sample 0 -> 0, 1/3, 2/3 (bins 0, 0, 1); sample 1 -> 0, 1/2 (bins 0, 1)
    np.testing.assert_allclose(profile["mean"], [(2 + 0 - 1) / 3, (4 + 0) / 2])
    assert list(profile.n_tokens) == [3, 2]
    absolute = position_profile(_hand_scores(), relative=False, bin_tokens=2)
    assert list(absolute.bin_start) == [0, 2]


def test_different_tokenizers_are_refused(tuned_model, base_model):
    with pytest.raises(ValueError, match="tokenizers differ"):
        score_responses(tuned_model, base_model, char_tokenizer(extra="#"), char_tokenizer(), PROMPTS, RESPONSES)
    check_same_tokenizer(char_tokenizer(), char_tokenizer())


def test_cached_scores_skip_the_models(tuned_model, base_model, tokenizer, results):
    first = score_responses(tuned_model, base_model, tokenizer, tokenizer, PROMPTS, RESPONSES, cache_ids=("t", "b"))
    assert len(list((results / "tokens").glob("*.npz"))) == 1
    second = score_responses(None, None, tokenizer, tokenizer, PROMPTS, RESPONSES, cache_ids=("t", "b"))
    np.testing.assert_array_equal(first.kl_full, second.kl_full)
