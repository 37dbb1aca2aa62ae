"""The `mathxfer` command line, run as a user runs it."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from mathxfer.cli import UsageError, parse_parameter
from mathxfer.provenance import provenance
from mathxfer.scores_file import ScoreRecord, write_scores

MATHXFER = str(Path(sys.executable).with_name("mathxfer"))


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([MATHXFER, *args], capture_output=True, text=True, timeout=120)


def test_survey_ti_prints_csv_for_every_tuned_model():
    out = run("survey", "ti", "--reading", "pooled")
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert list(rows[0]) == ["model", "base_model", "TI_other", "TI_non"]
    assert len(rows) == 20
    by_model = {r["model"]: r for r in rows}
    assert float(by_model["UniReason-Qwen3-14B-RL"]["TI_other"]) == pytest.approx(82.3, abs=1.5)
    assert float(by_model["s1.1-7B"]["TI_non"]) == pytest.approx(-213.3, abs=1.5)


def test_survey_ti_v1_reports_undefined_rows_on_stderr():
    out = run("survey", "ti", "--reading", "v1")
    assert out.returncode == 0
    assert "Llama3.1-8B-SimpleRL: TI undefined" in out.stderr
    llama = next(r for r in csv.DictReader(io.StringIO(out.stdout)) if r["model"] == "Llama3.1-8B-SimpleRL")
    assert llama["TI_other"] == ""


def test_survey_ti_takes_another_score_table_and_extra_models(tmp_path):
    table = (Path(__file__).parents[1] / "data" / "paper" / "survey_scores.csv").read_text()
    edited = tmp_path / "scores.csv"
    edited.write_text(table.replace("UniReason-Qwen3-14B-RL,55.7", "UniReason-Qwen3-14B-RL,99.0"))
    base = run("survey", "ti").stdout
    changed = run("survey", "ti", "--scores", str(edited)).stdout
    assert base != changed
    extra = tmp_path / "mine.json"
    write_scores(extra, [ScoreRecord("mine", "Qwen3-14B-Base", "MATH500", 70.0, 500, "SFT")], provenance({}))
    out = run("survey", "ti", "--extra", str(extra))
    assert out.returncode == 0 and "mine,Qwen3-14B-Base" in out.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["book", "--profile", "huge"], "invalid choice: 'huge' (choose from 'micro', 'smol', 'paper')"),
    (["study", "--profile", "micro", "--study", "x.yaml"], "pass --profile or --study, not both"),
    (["study", "--study", "/nonexistent/study.yaml"], "no such study file"),
    (["book", "--set", "seeds=[0, 0]"], "seeds lists a value twice"),
    (["book", "--only", "nope"], "unknown chapter 'nope'; the chapters are: index, survey, micro, controlled"),
    (["book", "-p", "colour=red"], "has no parameter 'colour'; its parameters are: profile, study"),
    (["book", "-p", "novalue"], "is not KEY=VALUE"),
    (["survey", "ti", "--scores", "/nonexistent/table.csv"], "No such file"),
])
def test_bad_input_is_a_clear_error_with_exit_2(args, message):
    out = run(*args)
    assert out.returncode == 2
    assert message in out.stderr
    assert "Traceback" not in out.stderr


def test_unknown_reading_lists_the_choices():
    out = run("survey", "ti", "--reading", "median")
    assert out.returncode == 2 and "pooled" in out.stderr and "literal" in out.stderr


@pytest.mark.parametrize(("text", "expected"), [
    ("ti_reading=literal", ("ti_reading", "literal")),
    ("extra_results=[a.json, b.json]", ("extra_results", ["a.json", "b.json"])),
    ("steps=20", ("steps", 20)),
    ("flag=true", ("flag", True)),
])
def test_parameters_keep_their_types(text, expected):
    assert parse_parameter(text) == expected


def test_parameter_without_equals_is_refused():
    with pytest.raises(UsageError):
        parse_parameter("=3")
