"""The study stage and the chapters that read it, at toy size for micro and for a real-model profile."""

from __future__ import annotations

import json
from pathlib import Path

import papermill
import pytest

from mathxfer.analysis import hidden, refs, tokens
from mathxfer.controlled import gradnorm, report, tables
from mathxfer.groups import BENCHMARK_GROUPS
from mathxfer.paths import REPO_ROOT
from mathxfer.study import analyses
from mathxfer.study.record import StudyRecordMissing, load_record, read_record

from conftest import executed_errors, outputs_text  # noqa: E402  (tests/study on sys.path)


def _forbid(*_args, **_kwargs):
    raise AssertionError("recomputed although the result is cached")


def _with_analysis(record, **fields):
    """The record with its study's analysis settings changed (in memory)."""
    import dataclasses

    spec = dataclasses.replace(record.spec, analysis=dataclasses.replace(record.spec.analysis, **fields))
    return dataclasses.replace(record, spec=spec)


def _execute(name: str, record, tmp_path: Path) -> Path:
    out = tmp_path / f"{name}.ipynb"
    papermill.execute_notebook(str(REPO_ROOT / "notebooks" / f"{name}.ipynb"), str(out),
                               parameters={"profile": record.profile, "study": record.path},
                               cwd=str(REPO_ROOT / "notebooks"), kernel_name="python3", progress_bar=False)
    assert not executed_errors(out)
    return out


def test_micro_record_holds_every_run(micro_study):
    record, root = micro_study
    assert record.key.startswith("micro-") and Path(record.path).is_file()
    main = [(r.arm, r.seed, r.kind) for r in record.select("main")]
    assert main == [("sft-think", 0, "SFT"), ("sft-think", 1, "SFT"), ("grpo", 0, "RL"), ("grpo", 1, "RL")]
    assert [(r.arm, r.seed) for r in record.select("lr=1e-04")] == [("sft-think", 0), ("sft-think", 1)]
    for run in record.runs:
        assert Path(run.model_path, "config.json").is_file() and Path(run.metrics_path).is_file()
        assert Path(run.eval_path).is_file() and set(run.scores) <= set(record.groups)  # 10 items: not every family
    payload = json.loads(Path(record.path).read_text())
    assert {"config", "seed", "versions", "git_sha"} <= set(payload["provenance"])


def test_rerun_reuses_everything_and_finds_the_record(micro_study, in_results, monkeypatch):
    record, root = micro_study
    in_results(root)
    from mathxfer.study import read_study
    from mathxfer.study.run import run_study

    monkeypatch.setattr("mathxfer.train.run.train", _forbid)
    spec = read_study(root / "study.yaml")
    with open(root / "rerun.log", "w") as log:
        again = run_study(spec, out=log)
    assert "nothing to do" in (root / "rerun.log").read_text() and again.key == record.key
    assert load_record(root / "study.yaml").key == record.key

    # an evaluation file lost: the record no longer verifies, so the study redoes that evaluation and
    # writes the record again, reusing every trained run
    Path(record.runs[0].eval_path).unlink()
    with open(root / "rerun.log", "w") as log:
        redone = run_study(spec, out=log)
    assert all(r.reused for r in redone.runs) and Path(redone.runs[0].eval_path).is_file()
    assert [r.scores for r in redone.runs] == [r.scores for r in record.runs]
    assert load_record(root / "study.yaml").key == record.key


def test_stale_and_missing_records_name_the_command(micro_study, in_results, tmp_path):
    record, root = micro_study
    in_results(root)
    other = tmp_path / "study.yaml"
    other.write_text((root / "study.yaml").read_text().replace("eval_n: 10", "eval_n: 11"))
    with pytest.raises(StudyRecordMissing, match=f"run `mathxfer study --study {other}`"):
        load_record(other)
    stale = json.loads(Path(record.path).read_text())
    stale["runs"][0]["model_identity"] = "local:0000"
    path = tmp_path / "study.json"
    path.write_text(json.dumps(stale))
    with pytest.raises(StudyRecordMissing, match="is stale: sft-think seed 0"):
        load_record(path)


def test_micro_tables_read_the_record(micro_study):
    record, _ = micro_study
    t1 = tables.table1(record)
    assert list(t1.columns) == ["base", "sft-think", "grpo"] and "Math reasoning (avg)" in t1.index
    assert "add" in t1.index and "±" in t1.at["add", "grpo"]  # two seeds: mean ± sd
    assert set(tables.gains(record, "task").group) == {"math", "other", "non"}
    assert "RL (grpo) keeps non-reasoning better than sft-think" in report.agreement(record).data
    lr = report.learning_rate_table(record)
    assert list(lr.index) == [("sft-think", "3e-04"), ("sft-think", "1e-04"), ("grpo", "1e-04")]
    assert tables.side_by_side_benchmarks(record) is None


def test_micro_response_lengths_and_table7_read_the_logs(micro_study):
    from mathxfer.micro.evaluate import read_evaluation

    record, _ = micro_study
    lengths = record.response_lengths()
    per_model = lengths.groupby(["arm", "seed"]).size()
    assert sorted(per_model.index) == [("base", -1), ("grpo", 0), ("grpo", 1), ("sft-think", 0), ("sft-think", 1)]
    assert per_model[("grpo", 1)] == len(read_evaluation(record.select()[3].eval_path)["records"])
    assert set(lengths.name) <= set(record.groups) and lengths.words.ge(0).all() and lengths.words.gt(0).any()
    t7 = gradnorm.table7(record)  # two steps, logged every 5: too few points, so NaN, never a made-up number
    assert list(t7.index) == ["sft-think", "grpo", "sft-think (paper: Qwen3-14B-SFT-think)",
                              "grpo (paper: Qwen3-14B-RL)"]
    assert t7.loc[["sft-think", "grpo"], "t_half"].isna().all()
    assert list(t7.loc[["sft-think", "grpo"], "seeds"]) == [0, 0]  # no norm was logged in two steps
    assert t7.at["grpo (paper: Qwen3-14B-RL)", "t_half"] == 22.0
    assert "logged enough gradient norms" in gradnorm.note(record).data


def test_micro_analyses_are_cached_by_the_study(micro_study, in_results, monkeypatch):
    record, root = micro_study
    in_results(root)
    refs.cached_model.cache_clear()
    monkeypatch.setattr(hidden, "_forward_chunk", _forbid)  # the study stage computed every hidden state
    monkeypatch.setattr(tokens, "_final_hidden", _forbid)  # and every token score
    latent = analyses.latent_for(record)  # both semantics' hidden states were cached by the study
    assert sorted(set(latent.d_star.model)) == ["grpo s0", "grpo s1", "sft-think s0", "sft-think s1"]
    assert latent.umap is not None and set(latent.umap.group) == {"math", "other", "non"}
    assert latent.config.semantics == "official"  # the study file's default
    assert (latent.semantics["d_star_official"] == latent.semantics.merge(latent.d_star)["d_star"]).all()
    assert (latent.semantics["d_star_paper"] != latent.semantics["d_star_official"]).any()  # pads matter
    assert len(latent.sign) == len(latent.d_star) and latent.sign["d_star_scores"].notna().all()
    scored = analyses.tokens_for(record)  # and both semantics' token scores
    assert scored.summary.n_samples.le(8).all() and set(scored.summary.group) == {"math", "other", "non"}
    assert len(scored.semantics) == len(scored.summary)
    # the official semantics drops a micro answer's first token: fewer tokens scored than under paper
    paper = analyses.tokens_for(_with_analysis(record, semantics="paper", compare_semantics=False)).summary
    assert paper.n_tokens.sum() > scored.summary.n_tokens.sum()


def test_real_record_holds_the_paper_groups(real_study):
    record, _ = real_study
    assert record.profile == "smol" and record.spec.evaluation.kind == "benchmarks"
    assert {g: record.tasks(g) for g in ("math", "other", "non")} == {g: list(b) for g, b in BENCHMARK_GROUPS.items()}
    evaluated = set(record.base["scores"]) | set(record.base["missing"])
    assert evaluated == set(record.groups)  # every benchmark scored, or reported missing with its reason
    assert {"AIME24", "MATH500", "IFEval", "HeadQA"} <= set(record.base["scores"])
    for run in record.runs:
        assert json.loads(Path(run.eval_path).read_text())["schema"].startswith("mathxfer/scores")


def test_real_tables_hold_the_paper_groups(real_study):
    record, _ = real_study
    t1 = tables.table1(record)
    for label in ("Math reasoning (avg)", "Other reasoning (avg)", "Non-reasoning (avg)", "MATH500", "IFEval"):
        assert label in t1.index, label
    per_benchmark = tables.side_by_side_benchmarks(record)
    assert "paper grpo" in per_benchmark.columns and "ours sft-nothink" in per_benchmark.columns
    assert per_benchmark.at["MATH500", "paper grpo"] == pytest.approx(87.8 - 60.4)  # Table 1: UniReason-RL vs base
    assert "paper's 18 reported pairs" in report.sigma_note(record).data
    assert list(tables.transfer_summary(record).index) == ["sft-nothink", "grpo"]
    lengths = record.response_lengths()  # from each benchmark's per-sample log, the same items for every model
    counts = lengths.groupby(["name", "arm"]).size().unstack("arm")
    assert {"MATH500", "IFEval"} <= set(counts.index) <= set(record.groups)
    assert (counts["base"] == counts["grpo"]).all() and (counts["base"] >= 2).all()


# every chapter that reads a study, on both records; what each page must show beyond its provenance line
# the latent and token pages: the main semantics, named from the record, then both semantics and both sign rules
LATENT_MICRO = ("computed under the **`official`** semantics", "d_star_official", "d_star_paper",
                "Switching from `official` to `paper` changes d* by a median of", "SFT-vs-RL ordering",
                "d_star_loadings", "d_star_scores", "Switching to the rule of scikit-learn before 1.5",
                "math: official", "non: paper", "math: loadings", "non: scores")  # the per-group tables' columns
TOKENS_MICRO = ("computed under the **`official`** semantics", "kl_sampled_official", "kl_sampled_paper",
                "**Sampled-token KL.** Switching from `official` to `paper`", "**Exact KL.**",
                "rank_shift", "math: official", "non: paper")  # the per-metric, per-group table
NOT_COMPARED = "the other semantics was not computed (`analysis.compare_semantics` is false)"
CHAPTER_CASES = [("micro_study", "micro", ()), ("micro_study", "latent", LATENT_MICRO),
                 ("micro_study", "tokens", TOKENS_MICRO),
                 ("micro_ablation", "ablation", ("Off-policy RL", "paper: Qwen3-8B-Base", "ours: grpo-kl (2 seeds)",
                                                 "Not run here, so not compared: On-policy SFT")),
                 ("micro_sweep", "sweep", ("Does RL dominate SFT at matched gain here?", "RL's Razor",
                                           "on its frontier", "KL(base || tuned) in nats per answer, on 8 of")),
                 ("micro_study", "controlled", ("Math reasoning (avg)", "Each SFT arm again at lr 1e-04", "3e-04",
                                                "TI_other")),
                 ("real_study", "latent", (NOT_COMPARED, "math: scores")), ("real_study", "tokens", (NOT_COMPARED,)),
                 ("real_study", "controlled", ("MATH500", "Other reasoning (avg)", "paper's 18 reported pairs")),
                 # the landing page: every claim for every profile, linked to its chapter; only this study has a record
                 ("micro_study", "index", ('href="controlled.html"', "study `micro-", "no smol study record")),
                 ("real_study", "index", ('href="latent.html"', "no micro study record", "no paper study record"))]


@pytest.mark.parametrize(("study", "name", "expected"), CHAPTER_CASES, ids=[f"{s}-{n}" for s, n, _ in CHAPTER_CASES])
def test_chapter_executes_on_the_record(request, in_results, study, name, expected, tmp_path):
    record, root = request.getfixturevalue(study)
    in_results(root)
    text = outputs_text(_execute(name, record, tmp_path))
    assert f"Profile **{record.profile}**" in text
    for item in expected:
        assert item in text, item


def test_record_round_trip(micro_study):
    record, _ = micro_study
    again = read_record(record.path)  # rewritten by the rerun test: the same runs, now all reused
    assert again.spec == record.spec and again.groups == record.groups and again.base == record.base
    assert [(r.model_path, r.scores) for r in again.runs] == [(r.model_path, r.scores) for r in record.runs]
