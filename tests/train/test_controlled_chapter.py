"""The controlled chapter end to end at toy size: papermill runs it, a rerun reuses every finished run."""

from __future__ import annotations

import nbformat
import papermill
import pytest

from mathxfer.controlled.study import StudyConfig, run_study
from mathxfer.controlled import tables

TINY = {"arms": ["sft-think", "grpo"], "seeds": [0, 1], "steps": 2, "eval_n": 10, "workers": 2}


@pytest.fixture()
def results_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("MATHXFER_RESULTS", str(tmp_path / "results"))
    return tmp_path / "results"


def outputs_text(path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "\n".join(str(o.get("data", {}).get("text/html", "")) + str(o.get("data", {}).get("text/markdown", ""))
                     + str(o.get("text", "")) for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def test_chapter_runs_at_toy_size(repo_root, tmp_path, results_in_tmp):
    out = tmp_path / "controlled.ipynb"
    papermill.execute_notebook(str(repo_root / "notebooks/controlled.ipynb"), str(out), cwd=str(repo_root),
                               parameters=TINY, progress_bar=False, kernel_name="python3")
    text = outputs_text(out)
    for expected in ("Math reasoning (avg)", "sft-think", "grpo", "Group gains over the base", "TI_other",
                     "Each SFT arm again at lr 1e-04", "3e-04"):
        assert expected in text, expected
    # 2 arms x 2 seeds, plus the SFT arm again at RL's learning rate x 2 seeds
    assert len(list((results_in_tmp / "train" / "micro").iterdir())) == 6


def test_rerun_reuses_every_run(results_in_tmp):
    config = StudyConfig(arms=("sft-think",), seeds=(0,), steps=2, eval_n=10, workers=1)
    first = run_study(config)
    second = run_study(config)
    assert not first.runs[0]["reused"] and second.runs[0]["reused"]
    assert second.runs[0]["family"] == first.runs[0]["family"]
    table = tables.table1(second)
    assert list(table.columns) == ["base", "sft-think"]


def test_learning_rate_control_is_skipped_with_none(results_in_tmp):
    from mathxfer.controlled import report
    from mathxfer.controlled.study import learning_rate_control

    config = StudyConfig(arms=("sft-think",), seeds=(0,), steps=2, eval_n=10, workers=1)
    assert learning_rate_control(config, None) is None
    assert "not run" in report.learning_rate_table(run_study(config), None).data
