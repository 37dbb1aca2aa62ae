"""Evaluation results cannot go stale or double: changed weights or data are evaluated again, records are
keyed by (item, sample), and two evaluations of one model never write at once."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mathxfer.errors import DamagedFile, UsageError
from mathxfer.eval.backends import Generation
from mathxfer.eval.data import load_items
from mathxfer.eval.runner import EvalConfig, run_eval
from mathxfer.eval.specs import SPECS
from mathxfer.scores_file import read_scores

QUIET = {"log": lambda _message: None}


class Oracle:
    """Answers with the gold answer of the data it was given (so a changed answer shows in the score)."""

    name, revision = "oracle", "oracle-rev"

    def __init__(self, answers: dict[str, str]):
        self.answers, self.seen = answers, []

    def render(self, prompt, *, thinking):
        return prompt

    def generate(self, prompts, sampling, *, stop=(), seed=0):
        self.seen += prompts
        return [[Generation(r"\boxed{" + self.answers.get(p, "0") + "}", 3, "stop")] * sampling.n for p in prompts]


def oracle_for(data_dir: Path, limit: int) -> Oracle:
    items, _ = load_items("AIME25", data_dir, limit=limit)
    return Oracle({SPECS["AIME25"].prompt.format(**it.fields): it.gold["answer"] for it in items})


@pytest.fixture
def own_data(bench_dir, tmp_path) -> Path:
    """A private copy of the AIME25 file that a test may edit."""
    root = tmp_path / "data"
    for rel in SPECS["AIME25"].local:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(bench_dir / rel, root / rel)
    return root


def _records(cfg: EvalConfig) -> Path:
    return cfg.run_dir() / "records" / "AIME25-v1.jsonl"


def test_weights_replaced_at_the_same_path_are_evaluated_again(bench_dir, tmp_path, tiny):
    from tests.eval.conftest import tiny_model_and_tokenizer

    model, tok = tiny
    folder = tmp_path / "model"
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    cfg = EvalConfig(model=str(folder), benchmarks=("MATH500",), limit=2, data_dir=str(bench_dir),
                     out=str(tmp_path / "eval"), max_new_tokens=4)
    _, [first] = run_eval(cfg, **QUIET)
    _, [again] = run_eval(cfg, **QUIET)
    assert (first.status, again.status) == ("done", "skipped")
    import torch

    torch.manual_seed(1)  # other weights, same path, same config.json
    other, _ = tiny_model_and_tokenizer()
    for p in other.parameters():
        p.data.normal_()
    other.save_pretrained(folder)
    _, [after] = run_eval(cfg, **QUIET)
    assert after.status == "done" and after.n_new == 2
    info = json.loads((cfg.run_dir() / "run.json").read_text())
    assert info["revision"].startswith("local:")  # the content identity, not a hash of config.json


def test_changed_data_is_evaluated_again_item_by_item(own_data, tmp_path):
    cfg = EvalConfig(model="fake", benchmarks=("AIME25",), limit=4, data_dir=str(own_data), out=str(tmp_path / "o"))
    path, [first] = run_eval(cfg, backend_factory=lambda: oracle_for(own_data, 4), **QUIET)
    assert first.score == 100.0
    before = read_scores(path)[1]["config"]["data"]["AIME25"]
    stale = oracle_for(own_data, 4)  # keeps answering the old gold
    file = own_data / SPECS["AIME25"].local[0]
    rows = [json.loads(line) for line in file.read_text().splitlines() if line.strip()]
    rows[1]["answer"] = "123456"  # the data changed under the same --data-dir
    file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    path, [second] = run_eval(cfg, backend_factory=lambda: stale, **QUIET)
    assert second.status == "done" and second.n_new == 1 and len(stale.seen) == 1
    assert second.score == 75.0  # graded against the new answer
    after = read_scores(path)[1]["config"]["data"]["AIME25"]
    assert after["items"] != before["items"] and after["sources"] == str(file)


def test_a_half_written_item_is_redone_and_counted_once(bench_dir, tmp_path):
    cfg = EvalConfig(model="fake", benchmarks=("AIME25",), limit=3, data_dir=str(bench_dir), out=str(tmp_path))
    run_eval(cfg, backend_factory=lambda: oracle_for(bench_dir, 3), **QUIET)
    lines = _records(cfg).read_text().splitlines()
    assert len(lines) == 3 * 10
    last = [json.loads(x) for x in lines[-10:]]
    wrong = [dict(r, correct=False, score=0.0) for r in last[:2]]  # only 2 of its 10 samples reached the disk
    _records(cfg).write_text("\n".join(lines[:-10] + [json.dumps(r) for r in wrong]) + "\n")
    path, [outcome] = run_eval(cfg, backend_factory=lambda: oracle_for(bench_dir, 3), **QUIET)
    assert outcome.n_new == 1 and outcome.score == 100.0  # the redone samples replace the torn ones: 10 of 10
    with _records(cfg).open("a") as fh:  # the same record written twice counts once
        fh.write(lines[0] + "\n")
    _, [again] = run_eval(cfg, backend_factory=lambda: oracle_for(bench_dir, 3), **QUIET)
    assert again.status == "skipped" and again.score == 100.0 and again.n_items == 3


SLOW_EVAL = textwrap.dedent('''
    import sys, time
    from mathxfer.eval.backends import Generation
    from mathxfer.eval.runner import EvalConfig, run_eval

    class Slow:
        name, revision = "slow", "slow-rev"
        def render(self, prompt, *, thinking):
            return prompt
        def generate(self, prompts, sampling, *, stop=(), seed=0):
            time.sleep(1.0)
            return [[Generation("\\\\boxed{1}", 3, "stop")] * sampling.n for _ in prompts]

    data, out = sys.argv[1:3]
    cfg = EvalConfig(model="fake", benchmarks=("AIME25",), limit=6, data_dir=data, out=out, batch_size=1)
    run_eval(cfg, backend_factory=Slow)
''')


def test_two_concurrent_evaluations_leave_one_record_per_item_and_sample(bench_dir, tmp_path):
    script = tmp_path / "slow_eval.py"
    script.write_text(SLOW_EVAL)
    out = tmp_path / "out"
    procs = [subprocess.Popen([sys.executable, str(script), str(bench_dir), str(out)], cwd=Path(__file__).parents[2],
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    assert any("is being written by process" in e for e in errors), errors  # the second one waited, and said so
    [records] = list(out.glob("*/records/AIME25-v1.jsonl"))
    keys = [(r["item_id"], r["sample"]) for r in map(json.loads, records.read_text().splitlines())]
    assert len(keys) == len(set(keys)) == 6 * 10


def test_a_damaged_record_line_is_named(bench_dir, tmp_path):
    cfg = EvalConfig(model="fake", benchmarks=("AIME25",), limit=2, data_dir=str(bench_dir), out=str(tmp_path))
    run_eval(cfg, backend_factory=lambda: oracle_for(bench_dir, 2), **QUIET)
    lines = _records(cfg).read_text().splitlines()
    lines[3] = "garbage{"
    _records(cfg).write_text("\n".join(lines) + "\n")
    with pytest.raises(DamagedFile, match=r"AIME25-v1\.jsonl:4: damaged .*Fix: delete that line"):
        run_eval(cfg, backend_factory=lambda: oracle_for(bench_dir, 2), **QUIET)


def test_a_damaged_scores_file_is_named(bench_dir, tmp_path):
    cfg = EvalConfig(model="fake", benchmarks=("AIME25",), limit=2, data_dir=str(bench_dir), out=str(tmp_path))
    path, _ = run_eval(cfg, backend_factory=lambda: oracle_for(bench_dir, 2), **QUIET)
    path.write_text(path.read_text()[:40])
    with pytest.raises(UsageError, match=r"scores\.json:\d+: damaged \(not valid JSON"):
        run_eval(cfg, backend_factory=lambda: oracle_for(bench_dir, 2), **QUIET)


def test_a_study_record_is_stale_when_its_benchmark_data_changed(own_data, tmp_path):
    from mathxfer.study.evaluation import DATA_SEED, changed_data
    from mathxfer.study.spec import parse_set, read_study

    spec = read_study(profile="smol", overrides=parse_set(
        ["evaluation.suite=AIME25", "evaluation.additions=[]", "evaluation.limit=3", f"evaluation.data_dir={own_data}"]))
    cfg = EvalConfig(model="fake", benchmarks=("AIME25",), limit=3, data_dir=str(own_data), out=str(tmp_path),
                     seed=DATA_SEED)
    path, _ = run_eval(cfg, backend_factory=lambda: oracle_for(own_data, 3), **QUIET)
    assert changed_data(spec, str(path)) is None
    file = own_data / SPECS["AIME25"].local[0]
    rows = [json.loads(line) for line in file.read_text().splitlines() if line.strip()]
    rows[0]["problem"] += " (revised)"
    file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert changed_data(spec, str(path)) == "AIME25"
