"""The scores-file schema and adding models to the survey."""

from __future__ import annotations

import json

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
