"""The launcher path on CPU: a study whose ``launcher`` names the one-process CPU accelerate config trains its
run through ``accelerate launch ... -m mathxfer train`` exactly as a GPU node would (``mathxfer.study.run``),
and a results store moved elsewhere (as one copied back from a cluster) is read with ``--results``: the record
verifies, and the study and the book's study stage have nothing to do.

One tiny micro base built from a config, one arm, one seed, 2 steps, a 4-item micro evaluation."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
import torch
import yaml

from mathxfer.cli import main

CPU_CONFIG = "recipes/paper/accelerate/cpu.yaml"
STUDY = {"profile": "micro", "arms": ["sft-think"], "seeds": [0], "steps": 2, "workers": 1,
         "evaluation": {"kind": "micro", "eval_n": 4},
         "analysis": {"texts": "micro", "n_samples": 4, "max_tokens": 16, "umap": False, "compare_semantics": False},
         "controls": {"learning_rate": None},
         "launcher": {"kind": "accelerate", "config_file": CPU_CONFIG, "num_processes": 1, "num_machines": 1}}


@pytest.fixture(scope="module")
def launched(tmp_path_factory):
    """The study run once through the launcher: (its record, the study file, the tmp root)."""
    from mathxfer.micro.model import ModelConfig, build_model
    from mathxfer.micro.tokenizer import corpus, train_tokenizer
    from mathxfer.study import read_study
    from mathxfer.study.run import run_study

    root = tmp_path_factory.mktemp("launch")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MATHXFER_RESULTS", str(root / "results"))
        torch.set_num_threads(1)
        tok = train_tokenizer(corpus(2000, seed=1))
        build_model(ModelConfig(hidden=32, layers=2, heads=2, ffn=64), tok, seed=0).save_pretrained(root / "base")
        tok.save_pretrained(root / "base")
        study = root / "study.yaml"
        study.write_text(yaml.safe_dump({**STUDY, "base_model": str(root / "base")}, sort_keys=False))
        record = run_study(read_study(study), out=io.StringIO())
    assert record is not None
    return record, study, root


def test_the_run_trains_two_steps_through_accelerate_launch(launched):
    record, _, root = launched
    [run] = record.runs
    assert not run.reused and Path(run.output_dir).parent == root / "results" / "train" / "micro"
    info = json.loads((Path(run.output_dir) / "run.json").read_text())
    assert info["final"]["step"] == 2 and info["recipe"]["max_steps"] == 2
    [log] = (root / "results" / "logs").glob("micro-sft-think-main-seed0.log")
    first, *rest = log.read_text().splitlines()
    assert first.startswith(f"$ accelerate launch --config_file {CPU_CONFIG} --num_processes 1 --num_machines 1 "
                            "-m mathxfer train --profile micro --recipe sft-think --seed 0")
    # the launched `mathxfer train` printed its own line into the log: the child trained the run
    assert any(line.startswith("sft-think: trained in ") and line.endswith(f"; model in {run.model_path}")
               for line in rest)
    assert Path(record.path).is_file() and Path(record.path).parent.parent == root / "results" / "study"


def test_a_moved_results_store_is_read_with_results(launched, capfd, monkeypatch):
    from mathxfer.book.build import _study_stage
    from mathxfer.study import read_study
    from mathxfer.study.record import read_record, verify

    record, study, root = launched
    monkeypatch.setenv("MATHXFER_RESULTS", str(root / "elsewhere"))  # restored after the test (--results sets it)
    moved = root / "copied-back"
    shutil.move(root / "results", moved)
    stored = (moved / "study" / record.key / "study.json").read_text()
    assert str(root / "results") not in stored  # the record names its runs relative to the store

    assert main(["study", "--study", str(study), "--results", str(moved)]) == 0
    out = capfd.readouterr()  # run_study writes to the real stderr
    assert "nothing to do" in out.err and out.out.strip() == str(moved / "study" / record.key / "study.json")
    log = io.StringIO()
    _study_stage(read_study(study), log)
    assert "nothing to do" in log.getvalue()
    monkeypatch.setenv("MATHXFER_RESULTS", str(root / "elsewhere"))  # a record's own store holds its runs
    again = verify(read_record(moved / "study" / record.key / "study.json"))
    [run] = again.runs
    assert run.model_path == str(moved / "train" / "micro" / Path(record.runs[0].output_dir).name / "model")
    assert again.base["eval_path"].startswith(str(moved))
