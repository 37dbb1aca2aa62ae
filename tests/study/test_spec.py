"""Study files: every profile's loads and names recipes that exist; bad files and bad --set values fail with
messages that name the file and the key, before anything trains; the dry run plans every profile."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest
import yaml

from mathxfer.book.chapters import PROFILES
from mathxfer.paths import REPO_ROOT
from mathxfer.study import StudyError, read_study
from mathxfer.study.plan import plan_study, study_key
from mathxfer.study.spec import parse_set, study_path
from mathxfer.train.recipes import available_recipes


def mathxfer(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mathxfer", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=600)


@pytest.mark.parametrize("profile", PROFILES)
def test_every_profile_study_loads_and_names_existing_recipes(profile):
    spec = read_study(profile=profile)
    assert spec.profile == profile and spec.source == str(study_path(profile))
    assert set(spec.arms) <= set(available_recipes(profile)) and "study" not in available_recipes(profile)
    runs = plan_study(spec)
    assert len(runs) >= len(spec.arms) * len(spec.seeds)
    assert all(r.fields["model_name_or_path"] == spec.base_model for r in runs)


def test_micro_study_keeps_todays_runs():
    """The study sets only the base and seed in each recipe: its runs are the same folders as
    `mathxfer train --profile micro --recipe ARM --seed S` (what the book trained before the study stage)."""
    from mathxfer.train import load

    spec = read_study(profile="micro")
    for run in plan_study(spec)[:4]:
        assert str(run.output_dir) == load("micro", run.arm, seed=run.seed).output_dir
    controls = [r for r in plan_study(spec) if r.variant != "main"]
    assert [r.arm for r in controls] == ["sft-think"] * 3 + ["sft-nothink"] * 3 + ["onpolicy-sft"] * 3
    assert all(r.fields["learning_rate"] == 1.0e-4 for r in controls)


def test_the_key_follows_what_changes_results():
    spec = read_study(profile="micro")
    key = study_key(spec, plan_study(spec))
    assert study_key(*(lambda s: (s, plan_study(s)))(read_study(profile="micro", overrides={"workers": 1}))) == key
    for change in ({"seeds": [0]}, {"evaluation.eval_n": 50}, {"analysis.n_samples": 10}, {"steps": 5},
                   {"analysis.semantics": "paper"}, {"analysis.compare_semantics": False},
                   {"analysis.pairs": [{"label": "x", "base": "a", "tuned": "b", "kind": "RL"}]}):
        other = read_study(profile="micro", overrides=change)
        assert study_key(other, plan_study(other)) != key, change


PAIR = {"label": "UniReason-RL", "base": "Qwen/Qwen3-14B-Base",
        "tuned": "ReasoningTransferability/UniReason-Qwen3-14B-RL", "kind": "RL"}
RELEASED = "paper_model_outputs/UniReason-RL_ifeval.jsonl"  # relative to the data dir

BAD = [
    ({"colour": "red"}, "unknown key(s) colour; the keys are: profile, base_model"),
    ({"evaluation": {"eval_m": 3}}, "unknown key(s) evaluation.eval_m"),
    ({"arms": ["sft-think", "nope"]}, "arms: no recipe 'nope' in"),
    ({"seeds": "zero"}, "seeds must be a list of int, not str 'zero'"),
    ({"seeds": [0, 0]}, "seeds lists a value twice"),
    ({"steps": -5}, "steps must be a positive number, not -5"),
    ({"steps": 2.5}, "steps must be int or null"),
    ({"workers": True}, "workers must be int, not bool True"),
    ({"evaluation": {"kind": "exam"}}, "evaluation.kind must be 'micro' or 'benchmarks', not 'exam'"),
    ({"evaluation": {"kind": "benchmarks", "suite": "mathz"}}, "evaluation.suite: unknown benchmark(s)"),
    ({"analysis": {"pooling": "max"}}, "analysis.pooling must be 'mean_with_pad' or 'masked_mean' or 'last' or null"),
    ({"analysis": {"scored_tokens": 0}}, "analysis.scored_tokens must be a positive number, not 0"),
    ({"analysis": {"semantics": "both"}}, "analysis.semantics must be 'official' or 'paper', not 'both'"),
    # an older study file's key: named, with what replaced it
    ({"analysis": {"compare_pooling": True}}, "unknown key(s) analysis.compare_pooling; the keys of analysis are: "),
    ({"analysis": {"compare_pooling": True}}, "analysis.compare_pooling is replaced by analysis.compare_semantics"),
    ({"analysis": {"pairs": [{"label": "x", "base": "a", "tuned": "b"}]}}, "missing key(s) analysis.pairs[0].kind"),
    ({"analysis": {"pairs": [{**PAIR, "kind": "DPO"}]}}, "analysis.pairs[0].kind must be 'RL' or 'SFT' or 'other'"),
    ({"analysis": {"pairs": [{**PAIR, "colour": 1}]}}, "unknown key(s) analysis.pairs[0].colour"),
    ({"analysis": {"pairs": [PAIR, PAIR]}}, "analysis.pairs lists a label twice"),
    ({"analysis": {"pairs": [{**PAIR, "label": "base"}]}}, "analysis.pairs[0].label 'base' cannot name a tuned model"),
    ({"analysis": {"pairs": [{**PAIR, "responses": {"add": "nowhere.jsonl"}}]}},  # a micro family's responses
     "analysis.pairs[0].responses.add: no such file 'nowhere.jsonl'"),
    ({"analysis": {"pairs": [{**PAIR, "responses": {"IFEvil": RELEASED}}]}},
     "analysis.pairs[0].responses.IFEvil: not a task of analysis.texts 'micro'"),
    ({"analysis": {"pairs": [{**PAIR, "responses": ["IFEval"]}]}},
     "analysis.pairs[0].responses must be a mapping of str to str or null"),
    ({"controls": {"learning_rate": 0}}, "controls.learning_rate must be positive"),
    ({"launcher": {"config_file": "nowhere.yaml"}}, "launcher.config_file 'nowhere.yaml' does not exist"),
    # per-arm recipe fields, budgets, per-benchmark limits and additions
    ({"recipes": {"nope": {"max_steps": 3}}}, "recipes: 'nope' is not an arm of the study"),
    ({"recipes": {"grpo": {"max_stepz": 3}}}, "recipes.grpo (with the study's base, seed and steps): "),
    ({"recipes": {"grpo": {"beta": -1.0}}}, "beta must be 0 or more, not -1.0"),
    ({"recipes": {"grpo": 3}}, "recipes.grpo must be a mapping of str to"),
    ({"budgets": {"cpu": {"seeds": [0]}}, "budget": "tpu"}, "budget 'tpu' is not one of its budgets: cpu (or auto)"),
    ({"budgets": {"gpu": {"seeds": [0]}}}, "budget auto chose 'cpu' (CUDA absent) but budgets has only gpu"),
    ({"budgets": {"cpu": {"budget": "gpu"}}}, "budgets.cpu cannot set budget"),
    ({"budgets": {"cpu": 3}}, "budgets must map a budget name to the study keys it sets"),
    ({"budgets": {"cpu": {"steps": -1}}}, "steps must be a positive number, not -1"),  # checked as any study key
    ({"evaluation": {"additions": ["WordProblems"]}}, "evaluation.additions: additions need evaluation.kind: benchmarks"),
    ({"evaluation": {"kind": "benchmarks", "additions": ["GSM9K"]}}, "evaluation.additions: 'GSM9K' is not an added"),
    ({"evaluation": {"kind": "benchmarks", "suite": "math", "limits": {"IFEvil": 3}}},
     "evaluation.limits: 'IFEvil' is not a benchmark"),
    ({"evaluation": {"kind": "benchmarks", "suite": "math", "limits": {"AIME24": 0}}},
     "evaluation.limits.AIME24 must be a positive number, not 0"),
]


@pytest.mark.parametrize(("change", "message"), BAD, ids=[m.split()[0] for _, m in BAD])
def test_bad_study_files_name_the_file_and_key(tmp_path, change, message):
    raw = yaml.safe_load(study_path("micro").read_text())
    for key, value in change.items():
        raw[key] = {**raw.get(key, {}), **value} if isinstance(value, dict) and key in raw else value
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(StudyError) as err:
        read_study(path)
    assert str(path) in str(err.value) and message in str(err.value)


def _released_copy(tmp_path, lines: list[str]) -> str:
    path = tmp_path / "responses.jsonl"
    path.write_text("".join(line + "\n" for line in lines))
    return str(path)


@pytest.mark.parametrize(("lines", "message"), [
    (['{"input": "p", "output": "r"}', "{broken"], "responses.jsonl:2: not valid JSON"),
    (['{"input": "p", "response": "r"}'],
     "responses.jsonl:1: no 'output' key (it has ['input', 'response'])"),
    ([], "responses.jsonl: empty (no JSON lines)"),
])
def test_a_bad_responses_file_is_named_before_anything_runs(tmp_path, lines, message):
    pair = {**PAIR, "responses": {"IFEval": _released_copy(tmp_path, lines)}}
    with pytest.raises(StudyError) as err:
        read_study(profile="smol", overrides={"analysis.pairs": [pair]})
    assert "recipes/smol/study.yaml: analysis.pairs[0].responses.IFEval: " in str(err.value)
    assert message in str(err.value)


def test_pairs_read_released_responses_relative_to_the_data_dir(monkeypatch):
    from mathxfer.eval.testdata import benchmarks_dir
    from mathxfer.study.spec import read_responses, responses_path

    if not (benchmarks_dir() / RELEASED).is_file():
        pytest.skip(f"no {RELEASED} under {benchmarks_dir()}")
    spec = read_study(profile="smol", overrides={"analysis.pairs": [{**PAIR, "responses": {"IFEval": RELEASED}}]})
    (pair,) = spec.analysis.pairs
    assert (pair.label, pair.kind, pair.responses) == ("UniReason-RL", "RL", {"IFEval": RELEASED})
    path = responses_path(RELEASED, spec.evaluation.data_dir)
    assert path == benchmarks_dir() / RELEASED
    prompts, responses = read_responses(path, 3)
    assert len(prompts) == len(responses) == 3 and prompts[0].startswith("<|im_start|>user\n")
    # the record stores the pairs as mappings; reading them back gives the same spec
    from mathxfer.study.spec import Analysis

    assert Analysis(**dataclasses.asdict(spec.analysis)) == spec.analysis


@pytest.mark.parametrize(("items", "message"), [
    (["seeds=zero"], "seeds must be a list of int"),
    (["evaluation.eval_n=abc"], "evaluation.eval_n must be int, not str 'abc'"),
    (["evaluation.nope=1"], "unknown key(s) evaluation.nope"),
    (["steps"], "is not KEY=VALUE"),
    (["arms=[grpo, gone]"], "no recipe 'gone'"),
])
def test_bad_set_values_name_the_key(items, message):
    with pytest.raises(StudyError, match=None) as err:
        read_study(profile="micro", overrides=parse_set(items))
    assert message in str(err.value)


def test_cli_rejects_bad_sets_before_training():
    out = mathxfer("study", "--profile", "micro", "--set", "evaluation.eval_n=-1", "--dry-run")
    assert out.returncode == 2 and "evaluation.eval_n must be a positive number" in out.stderr
    assert "Traceback" not in out.stderr
    out = mathxfer("study", "--profile", "micro", "--arm", "sft")
    assert out.returncode == 2 and "--arm 'sft' is not an arm of" in out.stderr


@pytest.mark.parametrize("profile", PROFILES)
def test_dry_run_plans_every_profile(profile):
    out = mathxfer("study", "--profile", profile, "--dry-run")
    assert out.returncode == 0, out.stderr
    spec = read_study(profile=profile)
    runs = plan_study(spec)
    assert out.stdout.count("\n== ") == len(runs)
    launches = [line.strip() for line in out.stdout.splitlines() if line.strip().startswith("accelerate launch")]
    if profile == "paper":
        assert len(launches) == len(runs)
        assert all("--config_file recipes/paper/accelerate/zero3.yaml" in line and "-m mathxfer train" in line
                   for line in launches)
    else:
        assert not launches


def test_the_budget_is_chosen_by_the_machine_and_overridable():
    """smol: no CUDA device here, so auto applies the cpu budget (one seed, short runs); --set budget=gpu the
    recipes' own numbers; a --set value wins over the budget's; the budget is part of the study's key."""
    import torch

    auto = read_study(profile="smol")
    assert not torch.cuda.is_available() and auto.budget == "cpu"
    assert auto.seeds == [0] and auto.evaluation.limits == {"WordProblems": 100}
    assert auto.evaluation.limit == 4 and auto.evaluation.batch_size == 16  # the budget's, over the file's
    assert auto.analysis.seed == 42  # a key the budget leaves alone keeps the file's value
    gpu = read_study(profile="smol", overrides={"budget": "gpu"})
    assert gpu.budget == "gpu" and gpu.seeds == [0, 1, 2] and gpu.evaluation.limit is None and not gpu.recipes
    steps = {r.arm: r.fields["max_steps"] for r in plan_study(auto)}
    assert steps == {"sft-think": 30, "sft-nothink": 30, "onpolicy-sft": 30, "grpo": 12}
    assert {r.arm: r.fields["max_steps"] for r in plan_study(gpu)} == {
        "sft-think": 200, "sft-nothink": 200, "onpolicy-sft": 200, "grpo": 100}
    mine = read_study(profile="smol", overrides={"seeds": [3], "steps": 2})
    assert mine.seeds == [3] and {r.fields["max_steps"] for r in plan_study(mine)} == {2}  # steps beats recipes
    assert study_key(auto, plan_study(auto)) != study_key(gpu, plan_study(gpu))
