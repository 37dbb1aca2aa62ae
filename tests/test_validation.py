"""Bad input fails before any work starts, in one line that names the option or file, the value and the fix.

Each table row is (what is given, a fragment the message must hold). The CLI rows run ``mathxfer.cli.main``
in-process (an exception escaping it would fail the test, so a row that passes printed no traceback); a few
run the installed command to check the console end to end.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mathxfer.book.chapters import chapter
from mathxfer.cli import main
from mathxfer.eval.testdata import benchmarks_dir
from mathxfer.groups import BENCHMARKS
from mathxfer.scores_file import SCHEMA, ScoresFileError, read_scores
from mathxfer.survey.table import load_scores_csv

REPO = Path(__file__).parents[1]
PAPER_SCORES = (REPO / "data" / "paper" / "survey_scores.csv").read_text()
MATHXFER = str(Path(sys.executable).with_name("mathxfer"))


def fails(capsys, argv: list[str]) -> str:
    """The one-line error of a command that must exit 2."""
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and err.count("\n") == 1, err
    return err


# ---- mathxfer eval: counts must be positive (0 is not "unset") ---------------------------------------------

EVAL_OPTIONS = [
    (["--max-new-tokens", "0"], "--max-new-tokens 0: give a positive token budget"),
    (["--max-new-tokens", "-5"], "--max-new-tokens -5: give a positive token budget"),
    (["--batch-size", "0"], "--batch-size 0: give a positive number of prompts per batch"),
    (["--batch-size", "-3"], "--batch-size -3: give a positive number of prompts per batch"),
    (["--tensor-parallel-size", "0"], "--tensor-parallel-size 0: give a positive number of GPUs"),
    (["--limit", "0"], "--limit 0: give a positive number of items per benchmark"),
    (["--method", "RL"], "--method RL: only a tuned model has a method; pass its base with --base"),
    (["--base", "Qwen3-14B-Bse"], "not a survey model, a hub id (org/name) or a local path; the closest survey "
                                  "models are Qwen3-14B-Base"),
    (["--base", "my-org/never-evaluated"], "no evaluation of that model in"),
]


@pytest.mark.parametrize(("options", "message"), EVAL_OPTIONS, ids=[" ".join(o) for o, _ in EVAL_OPTIONS])
def test_eval_refuses_non_positive_counts_before_loading(capsys, tmp_path, options, message):
    err = fails(capsys, ["eval", "--model", str(tmp_path / "no-model"), "--out", str(tmp_path / "out"), *options])
    assert message in err
    assert not (tmp_path / "out").exists()  # nothing started


def test_a_negative_seed_is_fine():
    from mathxfer.cli import build_parser
    from mathxfer.eval.cli import _check_positive

    _check_positive(build_parser().parse_args(["eval", "--model", "m", "--seed", "-1"]))


# ---- mathxfer regrade: a file with nothing to grade, or a bad line, is named -----------------------------

GOOD = {"input": "<|im_start|>user\nProblem: 1+1?\nAnswer:<|im_end|>", "output": "\\boxed{2}"}
REGRADE = [
    ("", "r.jsonl: holds no responses"),
    ("\n\n", "r.jsonl: holds no responses"),
    (json.dumps(GOOD) + '\n{"input": "x"\n', "r.jsonl:2: damaged (not valid JSON"),
    (json.dumps(GOOD) + "\n\n" + json.dumps({"input": "x"}) + "\n", "r.jsonl:3: damaged (no 'output')"),
    (json.dumps({"output": "x"}) + "\n", "r.jsonl:1: damaged (no 'input')"),
    (json.dumps({"input": "x", "output": None}) + "\n", "r.jsonl:1: damaged ('output' is not a string)"),
    ("[1, 2]\n", "r.jsonl:1: damaged (a JSON list, not an object)"),
]


@pytest.mark.parametrize(("text", "message"), REGRADE, ids=[m.split(": ", 1)[-1] for _, m in REGRADE])
def test_regrade_names_the_responses_file_and_line(capsys, tmp_path, text, message):
    path = tmp_path / "r.jsonl"
    path.write_text(text)
    # the file is read before the benchmark loads: no data folder is needed to refuse it
    err = fails(capsys, ["regrade", "--benchmark", "MATH500", "--responses", str(path),
                         "--data-dir", str(tmp_path / "no-data")])
    assert message in err and str(tmp_path) in err


def test_regrade_refuses_a_missing_file(capsys, tmp_path):
    err = fails(capsys, ["regrade", "--benchmark", "MATH500", "--responses", str(tmp_path / "none.jsonl")])
    assert "none.jsonl: no such responses file" in err


def test_regrade_with_no_matching_prompt_grades_nothing_and_says_so(capsys, tmp_path):
    if not (benchmarks_dir() / "math500").is_dir():
        pytest.skip("offline benchmark copies not found")
    path = tmp_path / "other.jsonl"
    path.write_text(json.dumps({"input": "<|im_start|>user\nnot a MATH500 problem<|im_end|>", "output": "x"}) + "\n")
    err = fails(capsys, ["regrade", "--benchmark", "MATH500", "--responses", str(path),
                         "--data-dir", str(benchmarks_dir())])
    assert f"{path}: none of its 1 response(s) matches a MATH500 prompt" in err
    assert "nan" not in err


# ---- score tables (CSV, `mathxfer survey ti --scores`) -----------------------------------------------------

def edit(old: str, new: str) -> str:
    assert old in PAPER_SCORES
    return PAPER_SCORES.replace(old, new, 1)


QWEN_ROW = "Qwen2.5-1.5B-Base,0.0,0.0,27.4"  # line 4 of survey_scores.csv
TABLES = [
    ("score 830", edit(QWEN_ROW, "Qwen2.5-1.5B-Base,830,0.0,27.4"),
     ":4, column AIME24 (Qwen2.5-1.5B-Base): 830 is not a percentage in [0, 100]"),
    ("negative", edit(QWEN_ROW, "Qwen2.5-1.5B-Base,0.0,-1,27.4"),
     ":4, column AIME25 (Qwen2.5-1.5B-Base): -1 is not a percentage"),
    ("nan", edit(QWEN_ROW, "Qwen2.5-1.5B-Base,0.0,0.0,nan"), ":4, column MATH500 (Qwen2.5-1.5B-Base): nan is not"),
    ("blank", edit(QWEN_ROW, "Qwen2.5-1.5B-Base,,0.0,27.4"), ":4, column AIME24 (Qwen2.5-1.5B-Base): blank"),
    ("blank with spaces", edit(QWEN_ROW, "Qwen2.5-1.5B-Base,0.0,  ,27.4"), ":4, column AIME25 (Qwen2.5-1.5B-Base): blank"),
    ("not a number", edit(QWEN_ROW, "Qwen2.5-1.5B-Base,0.0,0.0,27.4%"),
     ":4, column MATH500 (Qwen2.5-1.5B-Base): '27.4%' is not a number"),
    ("model twice", PAPER_SCORES + PAPER_SCORES.splitlines()[3] + "\n",
     ":32: model 'Qwen2.5-1.5B-Base' is listed twice (also on line 4)"),
    ("column twice", edit("model,AIME24,", "model,AIME24,AIME24,"), ":1: column(s) AIME24 appear twice"),
    ("a cell short", edit(QWEN_ROW, "Qwen2.5-1.5B-Base,0.0,27.4"), ":4: 12 cells for the header's 13 columns"),
    ("blank model", edit(QWEN_ROW, ",0.0,0.0,27.4"), ":4: column model is blank"),
    ("missing column", edit("HaluEval", "Halu"), "missing column(s) HaluEval"),
    ("header only", PAPER_SCORES.splitlines()[0] + "\n", "no model rows"),
    ("empty", "", "empty file"),
]


@pytest.mark.parametrize(("text", "message"), [t[1:] for t in TABLES], ids=[t[0] for t in TABLES])
def test_score_tables_are_checked_cell_by_cell(tmp_path, capsys, text, message):
    path = tmp_path / "table.csv"
    path.write_text(text)
    with pytest.raises(ValueError) as caught:
        load_scores_csv(path)
    assert str(caught.value).startswith(str(path)) and message in str(caught.value)
    err = fails(capsys, ["survey", "ti", "--scores", str(path)])
    assert message in err and str(path) in err


def test_the_papers_table_passes_the_checks():
    table = load_scores_csv(REPO / "data" / "paper" / "survey_scores.csv")
    assert table.shape == (30, 12) and list(table.columns) == list(BENCHMARKS)
    assert table.at["UniReason-Qwen3-14B-RL", "AIME24"] == 55.7  # parsed exactly as written


def test_blank_lines_in_a_table_are_skipped_and_lines_still_counted(tmp_path):
    lines = PAPER_SCORES.splitlines()
    path = tmp_path / "t.csv"
    path.write_text("\n".join([lines[0], "", *lines[1:3], lines[3].replace("0.0", "830", 1), *lines[4:]]) + "\n")
    with pytest.raises(ValueError, match=r"t\.csv:5, column AIME24"):
        load_scores_csv(path)


# ---- scores files (mathxfer/scores@1 JSON: `--extra`, the survey chapter's extra_results) --------------------

ROW = {"model": "m", "base_model": "Qwen3-14B-Base", "benchmark": "MATH500", "score": 61.0, "n": 500}


def payload(*rows: dict) -> str:
    return json.dumps({"schema": SCHEMA, "provenance": {}, "scores": list(rows)})


SCORES_FILES = [
    ("score 830", payload({**ROW, "score": 830}), "scores[0]: score 830 is not a percentage in [0, 100]"),
    ("score -1", payload({**ROW, "score": -1}), "scores[0]: score -1 is not a percentage"),
    ("score a string", payload({**ROW, "score": "61"}), "scores[0]: score '61' is not a percentage"),
    ("score null", payload({**ROW, "score": None}), "scores[0]: score None is not a percentage"),
    ("duplicate", payload(ROW, {**ROW, "score": 70.0}), "scores[1]: m has two scores for MATH500 (also scores[0])"),
    ("two bases", payload(ROW, {**ROW, "benchmark": "AIME24", "base_model": "Llama3.1-8B"}),
     "scores[1]: m has base_model 'Llama3.1-8B' but 'Qwen3-14B-Base' in scores[0]"),
    ("missing score", payload({k: v for k, v in ROW.items() if k != "score"}), "scores[0]: missing field(s) score"),
    ("missing model", payload({k: v for k, v in ROW.items() if k != "model"}), "scores[0]: missing field(s) model"),
    ("base not a name", payload({**ROW, "base_model": 3}), "scores[0]: 'base_model' 3 must be a model name"),
    ("row not an object", payload([ROW]), "scores[0] is a JSON list, not an object"),
    ("no rows", payload(), "'scores' must be a non-empty list"),
    ("not JSON", payload(ROW)[:-5], ":1: damaged (not valid JSON"),
    ("a CSV", None, "a CSV score table, not a scores file"),
]


@pytest.mark.parametrize(("text", "message"), [s[1:] for s in SCORES_FILES], ids=[s[0] for s in SCORES_FILES])
def test_scores_files_are_checked(tmp_path, capsys, text, message):
    path = tmp_path / ("mine.csv" if text is None else "mine.json")
    path.write_text(PAPER_SCORES if text is None else text)
    with pytest.raises(ScoresFileError) as caught:
        read_scores(path)
    assert str(caught.value).startswith(str(path)) and message in str(caught.value)
    err = fails(capsys, ["survey", "ti", "--extra", str(path)])
    assert message in err


# ---- chapter parameters (`mathxfer book -p KEY=VALUE`), checked by type before any notebook runs ------------

PARAMETERS = [
    ("survey", {"extra_results": "a.json,b.json"},
     "extra_results must be a list of files, e.g. -p extra_results='[a.json,b.json]'"),
    ("survey", {"extra_results": 3}, "extra_results must be a list of files, e.g. -p extra_results='[a.json]'"),
    ("survey", {"extra_results": [1, 2]}, "extra_results must be a list of files"),
    ("survey", {"extra_results": "no/such/scores.json"}, "parameter extra_results: no such file no/such/scores.json"),
    ("survey", {"extra_results": None}, "extra_results must be a list of files"),
    ("survey", {"scores": 123}, "scores must be a string, e.g. -p scores='\"123\"' (got 123)"),
    ("survey", {"scores": None}, "scores must be a string, e.g. -p scores=reported (got None)"),
    ("survey", {"ti_reading": True}, "ti_reading must be a string"),
    ("survey", {"ti_reading": "median"}, "ti_reading='median' is not one of pooled, literal, v1"),
    ("survey", {"data_dir": 5}, "data_dir must be a string or null"),
    ("survey", {"profile": "smol"}, "the profile is chosen with --profile (here 'micro'), not -p"),
    ("survey", {"colour": "red"}, "chapter 'survey' has no parameter 'colour'; its parameters are: data_dir,"),
    ("micro", {"n_examples": "two"}, "n_examples must be an integer, e.g. -p n_examples=2 (got 'two')"),
    ("micro", {"n_examples": True}, "n_examples must be an integer"),
    ("micro", {"seed": 1.5}, "seed must be an integer, e.g. -p seed=1 (got 1.5)"),
    ("micro", {"study": 7}, "study must be a string or null"),
    ("micro", {"extra_results": []}, "chapter 'micro' has no parameter 'extra_results'"),
]


@pytest.mark.parametrize(("name", "overrides", "message"), PARAMETERS,
                         ids=[f"{n}-{next(iter(o))}={next(iter(o.values()))!r}" for n, o, _ in PARAMETERS])
def test_chapter_parameters_are_checked_by_type(name, overrides, message):
    with pytest.raises(ValueError) as caught:
        chapter(name).parameters("micro", overrides)
    assert message in str(caught.value)


ACCEPTED = [
    ("survey", {"extra_results": "{tmp}/x.json"}, "extra_results", ["{tmp}/x.json"]),
    ("survey", {"extra_results": ["{tmp}/a.json", "{tmp}/b.json"]}, "extra_results", ["{tmp}/a.json", "{tmp}/b.json"]),
    ("survey", {"extra_results": []}, "extra_results", []),
    ("survey", {"data_dir": None}, "data_dir", None),
    ("survey", {"ti_reading": "v1"}, "ti_reading", "v1"),
    ("survey", {"profile": "micro"}, "profile", "micro"),
    ("micro", {"n_examples": 3}, "n_examples", 3),
    ("micro", {"study": "results/study/k/study.json"}, "study", "results/study/k/study.json"),
]


@pytest.mark.parametrize(("name", "overrides", "key", "value"), ACCEPTED)
def test_good_parameters_pass_and_one_file_is_a_one_element_list(name, overrides, key, value, tmp_path):
    def placed(v):  # "{tmp}/x.json": a file that exists (the existence of each file is checked too)
        if isinstance(v, list):
            return [placed(x) for x in v]
        if isinstance(v, str) and v.startswith("{tmp}"):
            (tmp_path / v[6:]).touch()
            return v.format(tmp=tmp_path)
        return v

    overrides = {k: placed(v) for k, v in overrides.items()}
    assert chapter(name).parameters("micro", overrides)[key] == placed(value)


BOOK = [
    (["--only", "survey", "-p", "extra_results=a.json,b.json"], "parameter extra_results must be a list of files"),
    (["--only", "survey", "-p", "ti_reading=median"], "ti_reading='median' is not one of pooled, literal, v1"),
    (["--only", "micro", "-p", "n_examples=two"], "n_examples must be an integer"),
    (["--only", "survey", "-p", "scores=123"], "scores must be a string, e.g. -p scores='\"123\"'"),
    (["--only", "survey", "-p", "data_dir=yes"], "data_dir must be a string or null"),
]


@pytest.mark.parametrize(("options", "message"), BOOK, ids=[o[-1] for o, _ in BOOK])
def test_book_checks_parameters_before_any_chapter_runs(capsys, monkeypatch, options, message):
    from mathxfer.book import build

    def started(*_args, **_kwargs):
        pytest.fail("the book started work before refusing the parameter")

    monkeypatch.setattr(build, "execute_chapter", started)
    monkeypatch.setattr(build, "_study_stage", started)
    err = fails(capsys, ["book", "--quiet", *options])
    assert err.startswith("mathxfer book: error: ") and message in err


# ---- the installed command: one line on stderr, exit 2, no traceback --------------------------------------

CONSOLE = [
    (["eval", "--model", "none", "--max-new-tokens", "0"], "--max-new-tokens 0"),
    (["book", "--only", "survey", "-p", "extra_results=a.json,b.json"], "extra_results must be a list of files"),
    (["survey", "ti", "--scores", "TABLE"], "column AIME24 (Qwen2.5-1.5B-Base): 830 is not a percentage"),
    (["regrade", "--benchmark", "MATH500", "--responses", "EMPTY"], "holds no responses"),
]


@pytest.mark.parametrize(("args", "message"), CONSOLE, ids=[a[0] for a, _ in CONSOLE])
def test_the_console_command_prints_one_line(tmp_path, args, message):
    table, empty = tmp_path / "t.csv", tmp_path / "r.jsonl"
    table.write_text(edit(QWEN_ROW, "Qwen2.5-1.5B-Base,830,0.0,27.4"))
    empty.write_text("")
    args = [{"TABLE": str(table), "EMPTY": str(empty)}.get(a, a) for a in args]
    out = subprocess.run([MATHXFER, *args], capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 2 and message in out.stderr
    assert "Traceback" not in out.stderr and out.stderr.count("\n") == 1, out.stderr
