"""Regrading the authors' released UniReason-Qwen3-14B-RL responses: the numbers and their cause."""

from __future__ import annotations

import pytest

from mathxfer.cli import main


@pytest.fixture(scope="module")
def table(bench_dir):
    from mathxfer.eval.regrade import regrade_released

    return regrade_released(bench_dir).set_index("benchmark")


def test_regrade_numbers(table):
    math = table.loc["MATH500"]
    assert (math.n, math.n_incomplete, math.reported) == (500, 164, 87.8)
    assert 60 < math.score < 75          # a third of the responses never reach \boxed{}
    assert math.score_complete > 95      # when they do, they are almost always right
    gpqa = table.loc["GPQA-Diamond"]
    assert gpqa.n == 198 and gpqa.n_unmatched == 0 and gpqa.n_incomplete > 60
    assert gpqa.score < gpqa.reported < gpqa.score_complete + 5
    ife = table.loc["IFEval"]
    assert ife.n == 540 and ife.n_unmatched == 1 and 60 < ife.score < 70


def test_regrade_cli_prints_counts(bench_dir, capsys):
    rc = main(["regrade", "--benchmark", "MATH500", "--responses",
               str(bench_dir / "paper_model_outputs" / "UniReason-RL_hendrycks_math_500.jsonl"),
               "--data-dir", str(bench_dir)])
    out = capsys.readouterr().out
    # math-verify comparisons can time out under load, so the correct count may move by one or two
    assert rc == 0 and "/500 items correct" in out and "no final answer: 164/500" in out


def test_cli_usage_errors(capsys, tmp_path):
    assert main(["eval", "--model", "x", "--suite", "nonsense"]) == 2
    assert "unknown benchmark" in capsys.readouterr().err
    assert main(["regrade", "--benchmark", "Nope", "--responses", str(tmp_path / "r.jsonl")]) == 2
