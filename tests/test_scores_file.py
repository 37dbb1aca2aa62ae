"""The scores-file schema and adding models to the survey."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mathxfer.groups import BENCHMARKS
from mathxfer.provenance import provenance
from mathxfer.scores_file import SCHEMA, ScoreRecord, ScoresFileError, read_scores, write_scores
from mathxfer.survey import load_survey


def qwen_pair_records(scale: float = 1.0) -> list[ScoreRecord]:
    """A made-up RL model over Qwen3-14B-Base: +5 points everywhere (x scale on math)."""
    survey = load_survey()
    base = survey.scores.loc["Qwen3-14B-Base"]
    return [ScoreRecord("my-rl (ours)", "Qwen3-14B-Base", b, min(100.0, base[b] + (5 * scale if i < 4 else 5)),
                        100, method="RL") for i, b in enumerate(BENCHMARKS)]


def test_roundtrip_carries_provenance(tmp_path):
    path = tmp_path / "scores.json"
    write_scores(path, qwen_pair_records(), provenance({"suite": "paper"}, seed=3))
    records, prov = read_scores(path)
    assert len(records) == 12 and records[0].model == "my-rl (ours)"
    assert prov["seed"] == 3 and prov["config"] == {"suite": "paper"}
    assert {"git_sha", "versions", "config_key"} <= set(prov)


def test_added_model_joins_without_changing_other_rows(tmp_path):
    path = tmp_path / "scores.json"
    write_scores(path, qwen_pair_records(), provenance({}, seed=0))
    before = load_survey().ti("pooled").set_index("model")
    survey = load_survey(extra_results=[path])
    after = survey.ti("pooled").set_index("model")
    assert after.at["my-rl (ours)", "TI_other"] > 0
    assert after.at["my-rl (ours)", "family"] == "Qwen3-14B-Base"
    assert after.drop(index="my-rl (ours)")[["TI_other", "TI_non"]].equals(before[["TI_other", "TI_non"]])
    assert "my-rl (ours)" in set(survey.gains()["model"])


def test_model_with_no_math_gain_is_undefined_not_infinite(tmp_path):
    path = tmp_path / "scores.json"
    write_scores(path, qwen_pair_records(scale=0.0), provenance({}, seed=0))
    ti = load_survey(extra_results=[path]).ti("pooled").set_index("model")
    assert "math domain index is 0" in ti.at["my-rl (ours)", "undefined"]


def write_raw(tmp_path, payload) -> str:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(payload))
    return str(path)


ROW = {"model": "m", "base_model": "Qwen3-14B-Base", "benchmark": "MATH500", "score": 61.0, "n": 500}
BAD = [
    ({"schema": "other", "provenance": {}, "scores": [ROW]}, "mathxfer/scores@1"),
    ({"schema": SCHEMA, "scores": [ROW]}, "provenance"),
    ({"schema": SCHEMA, "provenance": {}, "scores": [{**ROW, "benchmark": "MMLU"}]}, "unknown benchmark 'MMLU'"),
    ({"schema": SCHEMA, "provenance": {}, "scores": [{**ROW, "score": 0.61 * 200}]}, "percentage"),
    ({"schema": SCHEMA, "provenance": {}, "scores": [{**ROW, "n": 0}]}, "positive number of items"),
    ({"schema": SCHEMA, "provenance": {}, "scores": [{k: v for k, v in ROW.items() if k != "n"}]}, "missing field"),
    ({"schema": SCHEMA, "provenance": {}, "scores": [ROW, ROW]}, "two scores for MATH500"),
]


@pytest.mark.parametrize(("payload", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_scores_files_say_what_is_wrong(tmp_path, payload, message):
    with pytest.raises(ScoresFileError, match=message):
        read_scores(write_raw(tmp_path, payload))


def test_name_clash_and_unknown_base_are_refused(tmp_path):
    clash = write_raw(tmp_path, {"schema": SCHEMA, "provenance": {}, "scores": [{**ROW, "model": "Qwen3-14B-Base"}]})
    with pytest.raises(ScoresFileError, match="already in the survey table"):
        load_survey(extra_results=[clash])
    orphan = write_raw(tmp_path, {"schema": SCHEMA, "provenance": {}, "scores": [{**ROW, "base_model": "nobody"}]})
    with pytest.raises(ScoresFileError, match="base model 'nobody'"):
        load_survey(extra_results=[orphan])


def test_a_model_added_as_rl_joins_figure_2_and_the_rl_mean(tmp_path):
    from mathxfer.survey import charts, report

    path = tmp_path / "scores.json"
    write_scores(path, qwen_pair_records(), provenance({}, seed=0))
    before = load_survey().ti("pooled")
    survey = load_survey(extra_results=[path])
    ti = survey.ti("pooled")
    assert ti.set_index("model").at["my-rl (ours)", "method"] == "RL"
    n_rl = lambda frame: int((frame["method"] == "RL").sum())  # noqa: E731
    assert n_rl(ti) == n_rl(before) + 1
    assert f"RL {ti[ti.method == 'RL'].TI_other.mean():+.1f} (n={n_rl(ti)})" in report.method_means_sentence(ti).data
    assert "my-rl (ours)" in json.dumps(charts.ti_by_family(survey, ti).to_dict())  # a point of Figure 2


# ---- mathxfer eval --base: a survey row, or a base we evaluated (found by its weights, not its path) ---------

def eval_args(*options: str):
    from mathxfer.cli import build_parser

    return build_parser().parse_args(["eval", "--model", "tuned", *options])


def evaluate_fake(tmp_path, model: str, name: str, limit: int = 1):
    """A real scores file for ``model`` on AIME25, as `mathxfer eval` writes it (a stand-in backend answers)."""
    from eval.test_runner import FakeBackend  # tests/ is on sys.path (tests/eval is a package)
    from mathxfer.eval.runner import EvalConfig, run_eval
    from mathxfer.eval.testdata import benchmarks_dir

    cfg = EvalConfig(model=model, benchmarks=("AIME25",), name=name, limit=limit, data_dir=str(benchmarks_dir()),
                     out=str(tmp_path / "eval"))
    return run_eval(cfg, backend_factory=FakeBackend, log=lambda m: None)[0]


def local_model(folder: Path, weights: str) -> str:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"weights": weights}))
    return str(folder)


def test_base_is_a_survey_row_or_the_name_of_our_own_evaluation(tmp_path):
    from mathxfer.eval.cli import scores_base

    base = local_model(tmp_path / "base", "a")
    evaluate_fake(tmp_path, base, "Qwen3-14B-Base (ours)")
    evaluate_fake(tmp_path, "my-org/hub-base", "hub-base (ours)")
    evaluate_fake(tmp_path, "my-org/twice", "twice at limit 1")
    evaluate_fake(tmp_path, "my-org/twice", "twice at limit 2", limit=2)
    moved = local_model(tmp_path / "elsewhere" / "same-weights", "a")  # same files, another path
    out = tmp_path / "eval"
    for given, options, wanted in [("Qwen3-14B-Base", (), "Qwen3-14B-Base"), (base, (), "Qwen3-14B-Base (ours)"),
                                   (moved, (), "Qwen3-14B-Base (ours)"), ("my-org/hub-base", (), "hub-base (ours)"),
                                   ("my-org/twice", ("--limit", "2"), "twice at limit 2"),
                                   ("my-org/twice", ("--limit", "1"), "twice at limit 1")]:
        assert scores_base(given, eval_args(*options), out) == wanted, given


def test_a_tuned_model_over_our_base_uses_our_base_scores_in_figure_2_and_the_rl_mean(tmp_path):
    """The scores file of a tuned model evaluated with ``--base PATH --method RL`` links to our evaluation of that
    base: its gains are over our base scores, and it is a point of Figure 2 and counted in the RL mean."""
    from mathxfer.eval.cli import scores_base
    from mathxfer.eval.runner import EvalConfig
    from mathxfer.survey import charts, report

    base = local_model(tmp_path / "base", "a")
    paper_base = load_survey().scores.loc["Qwen3-14B-Base"]
    measured = tmp_path / "eval" / "base-run" / "scores.json"  # as `mathxfer eval --model BASE --name ...` writes it
    write_scores(measured, [ScoreRecord("Qwen3-14B-Base (ours)", "", b, max(0.0, paper_base[b] - 10), 100, "base")
                            for b in BENCHMARKS], provenance(EvalConfig(model=base, benchmarks=()).key_config()))
    tuned = tmp_path / "tuned.json"
    write_scores(tuned, [ScoreRecord("my-rl (ours)", scores_base(base, eval_args(), tmp_path / "eval"), r.benchmark,
                                     r.score, r.n, "RL") for r in qwen_pair_records()], provenance({}, seed=0))
    survey = load_survey(extra_results=[measured, tuned])
    gains = survey.gains().query("model == 'my-rl (ours)'").set_index("benchmark")
    assert set(gains["base_model"]) == {"Qwen3-14B-Base (ours)"}
    assert gains.at["MATH500", "base_score"] == max(0.0, paper_base["MATH500"] - 10)  # ours, not the paper's
    ti = survey.ti("pooled")
    assert ti.set_index("model").at["my-rl (ours)", "method"] == "RL"
    n_rl = int((ti["method"] == "RL").sum())
    assert n_rl == int((load_survey().ti("pooled")["method"] == "RL").sum()) + 1
    assert f"RL {ti[ti.method == 'RL'].TI_other.mean():+.1f} (n={n_rl})" in report.method_means_sentence(ti).data
    assert "my-rl (ours)" in json.dumps(charts.ti_by_family(survey, ti).to_dict())  # a point of Figure 2


FINDINGS = [  # (RL's TI other/non, SFT's TI other/non, the verdict); NaN: undefined
    ((50.0, 10.0), (20.0, -30.0), "is **supported** (other reasoning: RL +50.0 against SFT +20.0; "
                                  "non-reasoning: RL +10.0 against SFT -30.0)"),
    ((10.0, -40.0), (20.0, -30.0), "is **contradicted**"),
    ((50.0, -40.0), (20.0, -30.0), "is **supported in one group only**"),
    ((float("nan"), 5.0), (20.0, -30.0), "**cannot be resolved**: no RL run has a defined TI in both groups"),
    ((float("nan"), float("nan")), (float("nan"), 1.0), "no RL or SFT run has a defined TI"),
]


@pytest.mark.parametrize(("rl", "sft", "verdict"), FINDINGS, ids=[v[:30] for *_, v in FINDINGS])
def test_a_studys_rows_are_judged_against_the_survey_finding(rl, sft, verdict):
    import pandas as pd

    from mathxfer.survey import report

    ti = pd.DataFrame([{"model": "ours-rl", "method": "RL", "TI_other": rl[0], "TI_non": rl[1]},
                       {"model": "ours-sft", "method": "SFT", "TI_other": sft[0], "TI_non": sft[1]},
                       {"model": "theirs", "method": "RL", "TI_other": 500.0, "TI_non": 500.0}])  # not one of ours
    text = report.finding_sentence(ti, ["ours-rl", "ours-sft"], "smol").data
    assert text.startswith("From the smol study's rows") and verdict in text
    assert report.finding_sentence(ti, [], "micro").data == ""  # no rows of ours: nothing to say
