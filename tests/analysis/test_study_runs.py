"""The latent/token orchestration on a tiny real study (two arms, one seed, two training steps), and both
chapters executed by papermill on it. One thread; the study is built once per module."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pandas as pd
import papermill
import pytest
import torch

from mathxfer.analysis import hidden, study_runs, tokens
from mathxfer.paths import REPO_ROOT

ARMS, SEEDS, STEPS, EVAL_N, N = ("sft-think", "grpo"), (0, 1), 2, 10, 8  # two seeds: the chapters' default all_seeds path
BENCHMARKS_DIR = Path("/work/shared/benchmarks")


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """A tiny micro base and a real run_study on it, with results in a private folder."""
    from mathxfer.controlled.study import StudyConfig, run_study
    from mathxfer.micro.model import ModelConfig, build_model
    from mathxfer.micro.tokenizer import corpus, train_tokenizer

    root = tmp_path_factory.mktemp("study")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MATHXFER_RESULTS", str(root / "results"))
        mp.setenv("OMP_NUM_THREADS", "1")
        torch.set_num_threads(1)
        tok = train_tokenizer(corpus(2000, seed=1))
        build_model(ModelConfig(hidden=32, layers=2, heads=2, ffn=64), tok, seed=0).save_pretrained(root / "base")
        tok.save_pretrained(root / "base")
        results = run_study(StudyConfig(base_model=str(root / "base"), arms=ARMS, seeds=SEEDS, steps=STEPS,
                                        eval_n=EVAL_N, workers=2))
        yield results, root
    study_runs._cached_model.cache_clear()


@pytest.fixture()
def env(study, monkeypatch):
    results, root = study
    monkeypatch.setenv("MATHXFER_RESULTS", str(root / "results"))
    return results, root


def _forbid(*_args, **_kwargs):
    raise AssertionError("recomputed although the result is cached")


def test_models_of_a_study(env):
    results, _ = env
    refs = study_runs.study_models(results)
    assert [(r.label, r.kind) for r in refs] == [("sft-think", "SFT"), ("grpo", "RL")]
    assert all(Path(r.path, "config.json").exists() for r in refs)
    every = study_runs.study_models(results, all_seeds=True)
    assert sorted(r.label for r in every) == ["grpo s0", "grpo s1", "sft-think s0", "sft-think s1"]


def test_latent_frames_and_cache(env, monkeypatch):
    results, _ = env
    monkeypatch.setattr(hidden.gc, "collect", lambda: 0)  # 0.25 s per chunk on this heap; nothing leaks in a test
    config = study_runs.LatentConfig(n_samples=N, umap=False)
    latent = study_runs.latent_from_study(results, config)
    n_fam, n_layers = len(study_runs.micro_tasks()), 3  # embeddings + 2 layers
    assert list(latent.d_star.columns) == ["model", "benchmark", "d_star", "arm", "seed", "kind", "group"]
    assert len(latent.d_star) == 2 * n_fam and latent.d_star.d_star.ge(0).all()
    assert len(latent.points) == 2 * n_fam * n_layers * 2  # (model, family, layer, role)
    assert {"d_star_mean_with_pad", "d_star_masked_mean", "rel_change"} <= set(latent.pooling.columns)
    assert len(latent.pooling) == 2 * n_fam
    table = study_runs.group_means(latent.d_star, "d_star")
    assert list(table.arm) == list(ARMS) and {"math", "other", "non"} <= set(table.columns)
    assert "Does SFT's d*" in study_runs.sft_vs_rl(latent.d_star, "d_star", "d*").data
    assert "median" in study_runs.pooling_summary(latent).data
    assert (study_runs.latent_table(latent).source.str.startswith("ours")).sum() == 2

    # A second call reads every hidden state from disk: no model is loaded, no forward pass runs.
    study_runs._cached_model.cache_clear()
    monkeypatch.setattr(study_runs, "load_model", _forbid)
    monkeypatch.setattr(hidden, "_forward_chunk", _forbid)
    again = study_runs.latent_from_study(results, config)
    assert again.d_star.equals(latent.d_star)


def test_token_frames_and_cache(env, monkeypatch):
    results, _ = env
    config = study_runs.TokenConfig(n_samples=N, max_tokens=64)
    scored = study_runs.tokens_from_study(results, config)
    assert {"model", "benchmark", "kl_sampled", "kl_full", "rank_shift", "arm", "kind", "group"} <= set(
        scored.summary.columns)
    assert set(scored.summary.model) == set(ARMS)
    assert scored.summary.n_samples.le(N).all()
    assert {"bin", "mean", "n_tokens", "group"} <= set(scored.profile.columns)
    grouped = study_runs.profile_by_group(scored)
    assert set(grouped.benchmark) <= {"math", "other", "non"}
    shifted = study_runs.most_shifted(scored)
    counts = study_runs.shifted_counts(scored, shifted)
    assert list(counts.model) == list(ARMS) and counts.distinct_shifted.ge(0).all()
    assert "exact KL" in study_runs.kl_estimators_summary(scored).data

    monkeypatch.setattr(tokens, "_final_hidden", _forbid)  # the second call must be served from the cache
    again = study_runs.tokens_from_study(results, config)
    assert again.summary.equals(scored.summary)


@pytest.mark.skipif(not (BENCHMARKS_DIR / "math500").exists(), reason="no local benchmarks folder")
def test_benchmark_path_offline(env):
    """The smol/paper code path (benchmark text from mathxfer.eval), on the tiny models with limit=3."""
    results, _ = env
    base, models = study_runs.base_ref(results.config.base_model), study_runs.study_models(results)
    names = ["MATH500", "IFEval"]
    latent = study_runs.latent_from_benchmarks(
        base, models, names, study_runs.LatentConfig(n_samples=3, umap=False, compare_pooling=False),
        data_dir=BENCHMARKS_DIR, limit=3)
    assert set(latent.d_star.benchmark) == set(names) and set(latent.d_star.group) == {"math", "non"}
    scored = study_runs.tokens_from_benchmarks(base, models[:1], names, study_runs.TokenConfig(n_samples=2),
                                               data_dir=BENCHMARKS_DIR, limit=2, max_new_tokens=6)
    assert set(scored.summary.benchmark) == set(names)


@pytest.mark.parametrize("name", ["latent", "tokens"])
def test_chapter_executes(env, name, tmp_path):
    _, root = env
    out = tmp_path / f"{name}.ipynb"
    params = {"base_model": str(root / "base"), "arms": list(ARMS), "seeds": list(SEEDS), "steps": STEPS,
              "eval_n": EVAL_N, "n_samples": N}
    papermill.execute_notebook(str(REPO_ROOT / "notebooks" / f"{name}.ipynb"), str(out), parameters=params,
                               cwd=str(REPO_ROOT / "notebooks"), kernel_name="python3", progress_bar=False)
    executed = nbformat.read(out, as_version=4)
    assert not [o for c in executed.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert os.environ["MATHXFER_RESULTS"] == str(root / "results")


def test_first_seed_and_seed_mean_by_hand():
    frame = pd.DataFrame({
        "model": ["sft s0", "sft s1", "grpo s1", "grpo s2", "sft s0"],
        "arm": ["sft", "sft", "grpo", "grpo", "sft"], "seed": [0, 1, 1, 2, 0], "kind": ["SFT", "SFT", "RL", "RL", "SFT"],
        "benchmark": ["a", "a", "a", "a", "b"], "v": [1.0, 3.0, 10.0, 20.0, 5.0]})
    first = study_runs.first_seed(frame)
    assert sorted(zip(first.model, first.seed, first.benchmark)) == [("grpo", 1, "a"), ("sft", 0, "a"), ("sft", 0, "b")]
    mean = study_runs.seed_mean(frame, "v").set_index(["model", "benchmark"])
    assert mean.loc[("sft", "a"), "v"] == 2.0 and mean.loc[("grpo", "a"), "v"] == 15.0
    assert mean.loc[("sft", "a"), "n_seeds"] == 2 and mean.loc[("sft", "b"), "n_seeds"] == 1
    assert mean.loc[("grpo", "a"), "v_sd"] == pytest.approx(7.0710678)
