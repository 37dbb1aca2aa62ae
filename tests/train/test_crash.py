"""Crashes and damage, on real TRL runs of the micro model: a SIGKILL while a checkpoint is being written resumes
from the previous complete checkpoint to the very weights of an uninterrupted run; a damaged finished run is
never reused; a run with nothing to train on fails instead of recording an untrained model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import TrainerCallback

from mathxfer.errors import DamagedFile
from mathxfer.paths import REPO_ROOT
from mathxfer.train import load, train
from mathxfer.train.checkpoints import COMPLETE, last_checkpoint
from mathxfer.train.run import TrainingDataError, finished_run

ARM = "sft-nothink"
CRASH = {"max_steps": 9, "save_steps": 3, "dataset_size": 48, "logging_steps": 1, "per_device_train_batch_size": 4,
         "disable_tqdm": True}
SMALL = {"max_steps": 2, "save_steps": 2, "dataset_size": 16, "logging_steps": 1, "per_device_train_batch_size": 4,
         "disable_tqdm": True}


@pytest.fixture(autouse=True)
def results_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("MATHXFER_RESULTS", str(tmp_path / "results"))


class CountSteps(TrainerCallback):
    def __init__(self) -> None:
        self.steps: list[int] = []

    def on_step_end(self, args, state, control, **kwargs):
        self.steps.append(state.global_step)


def tensors(model_dir: Path) -> dict[str, torch.Tensor]:
    """Copies, not views of the mapped file (a test that then spoils the file would read through them)."""
    return {name: t.clone() for name, t in load_file(str(model_dir / "model.safetensors")).items()}


# Trains in a child process that SIGKILLs itself halfway through writing checkpoint-6: either inside the
# weights file (the probe's case: transformers then found no valid checkpoint) or inside optimizer.pt, after
# complete weights (a check for "has weights" would take that one for a good checkpoint).
KILLER = r"""
import json, os, signal, sys
import transformers
from mathxfer.train import load, train

where, overrides = sys.argv[1], json.loads(sys.argv[2])

def half_then_die(folder, name):
    with open(os.path.join(folder, name), "wb") as handle:
        handle.write(b"\x00" * 4096)  # part of the file, as the kernel left it
    os.kill(os.getpid(), signal.SIGKILL)

save_model, save_optimizer = transformers.Trainer.save_model, transformers.Trainer._save_optimizer_and_scheduler

def dying_save_model(self, output_dir=None, _internal_call=False):
    if where == "weights" and str(output_dir).endswith("checkpoint-6"):
        os.makedirs(output_dir, exist_ok=True)
        self.model.config.save_pretrained(output_dir)
        half_then_die(output_dir, "model.safetensors")
    return save_model(self, output_dir, _internal_call)

def dying_save_optimizer(self, output_dir):
    if where == "optimizer" and str(output_dir).endswith("checkpoint-6"):
        half_then_die(output_dir, "optimizer.pt")
    return save_optimizer(self, output_dir)

transformers.Trainer.save_model = dying_save_model
transformers.Trainer._save_optimizer_and_scheduler = dying_save_optimizer
train(load("micro", "sft-nothink", **overrides))
"""


@pytest.mark.parametrize("where", ["weights", "optimizer"])
def test_sigkill_while_saving_a_checkpoint_resumes_from_the_previous_one_to_identical_weights(
        tmp_path, capfd, where):
    straight = load("micro", ARM, **CRASH)
    straight.output_dir = str(tmp_path / "straight")  # the same run, uninterrupted, in a folder of its own
    reference = train(straight)

    script = tmp_path / "killer.py"
    script.write_text(KILLER)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    child = subprocess.run([sys.executable, str(script), where, json.dumps(CRASH)], cwd=REPO_ROOT, env=env,
                           capture_output=True, text=True, timeout=300, check=False)
    assert child.returncode == -signal.SIGKILL, child.stderr[-3000:]
    out = Path(load("micro", ARM, **CRASH).output_dir)
    assert (out / "checkpoint-3" / COMPLETE).is_file()
    assert (out / "checkpoint-6").is_dir() and not (out / "checkpoint-6" / COMPLETE).exists()
    assert not (out / "run.json").exists() and not finished_run(out)

    capfd.readouterr()
    counter = CountSteps()
    record = train(load("micro", ARM, **CRASH), callbacks=[counter])
    err = capfd.readouterr().err
    assert "checkpoint-6 is incomplete (interrupted while saving); resuming from checkpoint-3" in err
    assert counter.steps == [4, 5, 6, 7, 8, 9] and not record.reused and finished_run(out)
    ours, theirs = tensors(record.model_dir), tensors(reference.model_dir)
    assert ours.keys() == theirs.keys()
    assert all(torch.equal(ours[name], theirs[name]) for name in theirs), \
        [name for name in theirs if not torch.equal(ours[name], theirs[name])]
    # the rotation kept the newest complete checkpoint only, and nothing is left half deleted
    assert sorted(p.name for p in out.iterdir() if "checkpoint" in p.name) == ["checkpoint-9"]
    assert (out / "checkpoint-9" / COMPLETE).is_file()


def test_choosing_the_checkpoint_to_resume_from(tmp_path):
    said: list[str] = []
    assert last_checkpoint(tmp_path / "never-trained", said.append) is None  # no folder: a fresh start
    out = tmp_path / "run"
    out.mkdir()
    assert last_checkpoint(out, said.append) is None and said == []
    for step in (3, 6, 10):
        (out / f"checkpoint-{step}").mkdir()
        (out / f"checkpoint-{step}" / "config.json").write_text("{}")
    (out / "checkpoint-3" / COMPLETE).write_text("{}")
    (out / ".trash-checkpoint-1").mkdir()  # a deletion that was itself interrupted
    assert last_checkpoint(out, said.append) == str(out / "checkpoint-3")
    assert said == [f"{out / 'checkpoint-6'} is incomplete (interrupted while saving); resuming from checkpoint-3",
                    f"{out / 'checkpoint-10'} is incomplete (interrupted while saving); resuming from checkpoint-3"]
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint-3"]
    (out / "checkpoint-3" / COMPLETE).unlink()
    said.clear()
    assert last_checkpoint(out, said.append) is None
    assert said == [f"{out / 'checkpoint-3'} is incomplete (interrupted while saving); training from the start"]


def _truncate_run_json(out: Path) -> Path:
    path = out / "run.json"
    path.write_bytes(path.read_bytes()[:40])
    return path


def _empty_weights(out: Path) -> Path:
    path = out / "model" / "model.safetensors"
    path.write_bytes(b"")
    return path


def _halve_weights(out: Path) -> Path:
    path = out / "model" / "model.safetensors"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path


def _drop_model_config(out: Path) -> Path:
    path = out / "model" / "config.json"
    path.unlink()
    return path


DAMAGE = {"truncated run.json": (_truncate_run_json, "not valid JSON"),
          "emptied model.safetensors": (_empty_weights, "empty file"),
          "half a model.safetensors": (_halve_weights, "not a readable safetensors file"),
          "no model/config.json": (_drop_model_config, "missing")}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_a_damaged_finished_run_is_not_reused_but_retrained(case, capfd):
    from mathxfer import cli
    from mathxfer.study.plan import PlannedRun
    from mathxfer.train.recipes import read_recipe, recipe_path

    first = train(load("micro", ARM, **SMALL))
    good = tensors(first.model_dir)
    spoil, problem = DAMAGE[case]
    path = spoil(first.output_dir)
    with pytest.raises(DamagedFile) as err:
        finished_run(first.output_dir)
    message = str(err.value)
    assert message.startswith(f"{path}") and ": damaged (" in message and problem in message and "Fix: " in message
    assert "\n" not in message
    fields = read_recipe(recipe_path("micro", ARM), SMALL)
    planned = PlannedRun(ARM, 0, "main", SMALL, fields, first.output_dir)
    assert not planned.finished and planned.damage() == message  # the study trains it again too

    capfd.readouterr()
    argv = ["train", "--profile", "micro", "--recipe", ARM] + [f"--set={k}={json.dumps(v)}" for k, v in SMALL.items()]
    assert cli.main(argv) == 0
    printed = capfd.readouterr()
    assert "reused" not in printed.out and "trained in" in printed.out
    notice = [line for line in printed.err.splitlines() if line.startswith(str(path))]
    assert len(notice) == 1 and problem in notice[0]
    assert notice[0].endswith("Fix: retraining the run now, resuming from checkpoint-2")
    assert finished_run(first.output_dir)
    again = tensors(first.model_dir)
    assert all(torch.equal(good[name], again[name]) for name in good)  # resumed at the end: the same model


def test_a_run_with_an_empty_training_set_records_nothing(monkeypatch):
    from datasets import Dataset

    from mathxfer.train import run

    monkeypatch.setattr(run, "dataset_for", lambda *_: Dataset.from_dict({"prompt": [], "completion": []}))
    config = load("micro", ARM, **SMALL)
    with pytest.raises(TrainingDataError, match="training set of micro-math is empty"):
        train(config)
    assert not (Path(config.output_dir) / "run.json").exists() and not finished_run(config.output_dir)


def test_onpolicy_sft_with_no_correct_sample_records_nothing(monkeypatch):
    from datasets import Dataset

    from mathxfer.train import data

    monkeypatch.setattr(data, "onpolicy_sample", lambda *_: Dataset.from_dict({"messages": []}))
    config = load("micro", "onpolicy-sft", **SMALL, onpolicy_samples=2)
    with pytest.raises(TrainingDataError, match="kept no correct answer"):
        train(config)
    assert not (Path(config.output_dir) / "run.json").exists()


def test_a_second_training_of_the_same_folder_waits_and_then_reuses_the_first_ones_run(tmp_path, capfd):
    """Two trainings of one run folder never both write it: the second waits for the first's lock (saying which
    process holds it) and, the run being finished meanwhile, reuses it instead of training it again."""
    import shutil
    import threading
    import time

    from mathxfer.locks import folder_lock

    elsewhere = load("micro", ARM, **SMALL)
    elsewhere.output_dir = str(tmp_path / "elsewhere")
    finished = train(elsewhere)
    config = load("micro", ARM, **SMALL)
    out = Path(config.output_dir)
    held, release = threading.Event(), threading.Event()

    def first_writer():
        with folder_lock(out):
            held.set()
            release.wait(60)
            for item in finished.output_dir.iterdir():  # the first writer finishes the run
                if item.name != ".lock":
                    (shutil.copytree if item.is_dir() else shutil.copy2)(item, out / item.name)

    holder = threading.Thread(target=first_writer)
    holder.start()
    assert held.wait(30)
    capfd.readouterr()
    result: dict[str, object] = {}
    second = threading.Thread(target=lambda: result.update(record=train(config)))
    second.start()
    deadline, said = time.monotonic() + 30, ""
    while "waiting for it to finish" not in said and time.monotonic() < deadline:
        time.sleep(0.1)
        said += capfd.readouterr().err
    assert f"{out} is being written by process {os.getpid()}; waiting for it to finish" in said
    assert second.is_alive() and not list(out.glob("checkpoint-*"))  # it waits without writing
    release.set()
    holder.join(60)
    second.join(60)
    assert result["record"].reused
