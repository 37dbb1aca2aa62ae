"""Charts build valid vega-lite specs from the frames the analysis functions return."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mathxfer.analysis import charts
from mathxfer.analysis.latent import pca_shift, shift_frames
from mathxfer.analysis.paper import paper_group_means, paper_long
from mathxfer.analysis.tokens import TokenScores, over, position_profile, shifted_tokens, summary_frame
from analysis_tiny import char_tokenizer


def _scores(seed: int) -> TokenScores:
    rng = np.random.default_rng(seed)
    n = 30
    return TokenScores(offsets=np.array([0, 12, 30]), token_id=rng.integers(4, 20, n).astype(np.int32),
                       logp_tuned=-rng.random(n).astype(np.float32), logp_base=-rng.random(n).astype(np.float32),
                       kl_full=rng.random(n).astype(np.float32), rank_tuned=rng.integers(0, 5, n).astype(np.int32),
                       rank_base=rng.integers(0, 5, n).astype(np.int32))


def test_latent_grid_spec():
    rng = np.random.default_rng(0)
    base = rng.standard_normal((3, 10, 6))
    shifts = {(m, b): pca_shift(base, base + rng.standard_normal(6)) for m in ("SFT", "RL") for b in ("MATH500", "CoQA")}
    spec = charts.latent_shift_grid(shift_frames(shifts)[0]).to_dict()
    text = str(spec)
    assert charts.BASE_COLOR in text and charts.TUNED_COLOR in text and "triangle-up" in text and "d* = " in text
    with pytest.raises(ValueError, match="shift_frames"):
        charts.latent_shift_grid(pd.DataFrame({"x": [1]}))


def test_token_charts_specs():
    scores = {(m, b): _scores(i) for i, (m, b) in enumerate([("SFT", "MATH500"), ("RL", "MATH500"), ("RL", "CoQA")])}
    summary = summary_frame(scores)
    charts.benchmark_bars(summary, "kl_sampled", paper_long("token_kl"), title="KL").to_dict()
    charts.benchmark_bars(summary, "rank_shift").to_dict()
    charts.position_profile_chart(over(scores, position_profile, n_bins=4)).to_dict()
    table = over(scores, shifted_tokens, tokenizer=char_tokenizer())
    charts.shifted_tokens_chart(table, top=5).to_dict()
    charts.shifted_tokens_chart(shifted_tokens(scores[("RL", "CoQA")], char_tokenizer())).to_dict()


def test_umap_chart_spec():
    coords = pd.DataFrame({"group": ["math"] * 4, "model": ["base", "RL"] * 2, "item": [0, 0, 1, 1],
                           "x": [0.0, 1, 2, 3], "y": [1.0, 0, 1, 0]})
    charts.umap_scatter(coords).to_dict()


def test_paper_tables_load():
    kl = paper_long("token_kl")
    assert kl.value.notna().all() and {"MATH500", "CoQA"} <= set(kl.benchmark)
    assert kl.set_index(["model", "benchmark"]).loc[("UniReason-Qwen3-14B-RL", "MATH500"), "value"] == 0.084
    assert {"math", "other", "non"} <= set(paper_group_means().columns)
