"""analysis.pairs: the latent and token analyses (and both chapters) compare off-the-shelf (base, tuned) pairs
instead of the study's runs, each tuned model against its own base, on its released responses when given.
The pairs study of conftest.py is trained once per session; every check here reads its caches."""

from __future__ import annotations

import math
from pathlib import Path

import papermill
import pytest

from mathxfer.analysis import hidden, refs, tokens
from mathxfer.analysis.latent_analysis import d_star_frames, hidden_by_task, latent_table
from mathxfer.analysis.refs import ModelRef
from mathxfer.analysis.tokens import score_responses, summarize
from mathxfer.book import claims
from mathxfer.models import load_tokenizer
from mathxfer.paths import REPO_ROOT
from mathxfer.study import analyses
from mathxfer.study.record import read_record
from mathxfer.study.spec import read_responses

from conftest import RELEASED_IFEVAL, executed_errors, outputs_text  # noqa: E402  (tests/study on sys.path)


def _forbid(*_args, **_kwargs):
    raise AssertionError("recomputed although the study cached it")


@pytest.fixture()
def cached_only(pairs_study, in_results, monkeypatch):
    """The pairs study's record, with every model forward forbidden: the study stage computed everything."""
    record, root = pairs_study
    in_results(root)
    refs.cached_model.cache_clear()
    monkeypatch.setattr(hidden, "_forward_chunk", _forbid)
    monkeypatch.setattr(tokens, "_final_hidden", _forbid)
    return record, root


def test_the_pairs_replace_the_runs_grouped_by_base(cached_only):
    record, root = cached_only
    groups = analyses.analysed(record)
    assert [(Path(b.path).name, [(r.label, r.kind, Path(r.path).name) for r in tuned]) for b, tuned in groups] == [
        ("base-a", [("tiny-RL", "RL", "tuned-a")]), ("base-b", [("tiny-SFT", "SFT", "tuned-b")])]
    assert [r.arm for r in record.select("main")] == ["sft-nothink"]  # trained and evaluated, but not analysed


def test_the_latent_frames_hold_each_pair_against_its_own_base(cached_only):
    record, _ = cached_only
    latent = analyses.latent_for(record)
    d_star = latent.d_star.set_index("model")
    assert sorted(d_star.index) == ["tiny-RL", "tiny-SFT"] and set(d_star.benchmark) == {"IFEval"}
    assert d_star.loc["tiny-SFT", "group"] == "non" and d_star.loc["tiny-SFT", "kind"] == "SFT"
    # tiny-SFT's d* is against base-b, its own base; against base-a (also cached) it would differ
    (base_a, _), (base_b, (sft,)) = analyses.analysed(record)
    config, texts = analyses.latent_config(record), analyses.latent_texts(record)
    tokenizer = load_tokenizer(base_a.path)

    def d_against(base: ModelRef) -> float:
        states = hidden_by_task(base, tokenizer, texts, config.hidden())
        return float(d_star_frames(states, {sft.label: hidden_by_task(sft, tokenizer, texts, config.hidden())})[1]
                     .d_star.iloc[0])

    assert d_star.loc["tiny-SFT", "d_star"] == pytest.approx(d_against(base_b))
    assert d_star.loc["tiny-SFT", "d_star"] != pytest.approx(d_against(base_a), rel=1e-3)
    for frame, columns in ((latent.semantics, ["d_star_official", "d_star_paper"]),
                           (latent.sign, ["d_star_loadings", "d_star_scores"])):
        assert sorted(frame.model) == ["tiny-RL", "tiny-SFT"]
        assert frame[columns].map(math.isfinite).all().all()
    assert latent.semantics.set_index("model").loc["tiny-RL", "d_star_official"] == d_star.loc["tiny-RL", "d_star"]
    ours = latent_table(latent, "smol").query("source.str.startswith('ours')")  # Table 6's layout: each base named
    assert dict(zip(ours.model, ours.base)) == {"tiny-RL": "base-a", "tiny-SFT": "base-b"}
    assert ours["non"].notna().all() and ours["math"].isna().all()  # only IFEval (non-reasoning) was analysed


def test_the_token_frames_hold_the_pairs_kl_on_its_released_responses(cached_only):
    record, root = cached_only
    scored = analyses.tokens_for(record)
    summary = scored.summary.set_index("model")
    assert sorted(summary.index) == ["tiny-RL", "tiny-SFT"] and set(summary.benchmark) == {"IFEval"}
    assert summary.loc["tiny-RL", "n_samples"] == 2  # the file's 2 responses, each with scored tokens
    # the same KL, scored directly from the released file's input/output (cached: no model runs)
    prompts, responses = read_responses(root / "ifeval-2.jsonl", 10)
    assert len(prompts) == 2 and prompts[0].endswith("<think>\n\n</think>\n\n")
    (base_a, (rl,)), _ = analyses.analysed(record)
    config = analyses.token_config(record)
    direct = score_responses(refs.cached_model(rl.path), refs.cached_model(base_a.path), load_tokenizer(rl.path),
                             load_tokenizer(base_a.path, padding_side="right"), prompts, responses,
                             config=config.score(), cache_ids=(rl.identity(), base_a.identity()))
    assert summary.loc["tiny-RL", "kl_sampled"] == pytest.approx(summarize(direct, "official")["kl_sampled"])
    both = scored.semantics.set_index("model")
    assert both.loc["tiny-RL", "kl_sampled_official"] == summary.loc["tiny-RL", "kl_sampled"]
    assert both.loc["tiny-RL", "kl_sampled_paper"] != pytest.approx(both.loc["tiny-RL", "kl_sampled_official"])


def test_the_claims_compare_the_pairs(cached_only):
    record, _ = cached_only
    found = claims.verdicts(claims.Results("smol", record=read_record(record.path)))
    for claim_id in ("latent-sft-shifts-more", "tokens-sft-kl-more"):
        assert found[claim_id].status != "not run", found[claim_id]
        assert "tiny-RL" in found[claim_id].evidence and "tiny-SFT" in found[claim_id].evidence


@pytest.mark.parametrize("name", ["latent", "tokens"])
def test_both_chapters_show_the_pairs(cached_only, name, tmp_path):
    record, _ = cached_only
    out = tmp_path / f"{name}.ipynb"
    papermill.execute_notebook(str(REPO_ROOT / "notebooks" / f"{name}.ipynb"), str(out),
                               parameters={"profile": record.profile, "study": record.path},
                               cwd=str(REPO_ROOT / "notebooks"), kernel_name="python3", progress_bar=False)
    assert not executed_errors(out)
    text = outputs_text(out)
    assert "`analysis.pairs`" in text and "**tiny-RL** (RL)" in text and "released responses for IFEval" in text
    assert "tiny-SFT" in text and "**`official`**" in text


def test_the_released_file_is_the_authors(pairs_study):
    """The fixture's responses are the first lines of the released file, in its schema."""
    from mathxfer.eval.testdata import benchmarks_dir

    _, root = pairs_study
    full = read_responses(benchmarks_dir() / RELEASED_IFEVAL, 2)
    assert read_responses(root / "ifeval-2.jsonl", 5) == full
