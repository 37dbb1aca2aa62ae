"""The runs of a study: every (arm, seed) of the main comparison and of each control, with its resolved TRL
config, its results folder (keyed like every run of ``mathxfer.train``), whether it is already finished, a
cost estimate for scheduling and, for launcher profiles, the exact ``accelerate launch`` command."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mathxfer.provenance import config_key
from mathxfer.study.spec import StudySpec

MAIN = "main"


@dataclass(frozen=True)
class PlannedRun:
    arm: str
    seed: int
    variant: str  # "main", or the control it belongs to (e.g. "lr=1e-04")
    overrides: dict[str, Any]  # what the study sets in the arm's recipe
    fields: dict[str, Any]  # the validated recipe with the overrides applied
    output_dir: Path

    @property
    def label(self) -> str:
        return f"{self.arm} seed {self.seed}" + ("" if self.variant == MAIN else f" ({self.variant})")

    @property
    def method(self) -> str:
        return str(self.fields["method"])

    @property
    def kind(self) -> str:
        from mathxfer.train.recipes import method_kind

        return method_kind(self.method)

    @property
    def finished(self) -> bool:
        """A run is finished when its run.json parses and its model loads (``mathxfer.train.run.finished_run``);
        a damaged one is not: training it says what is damaged and retrains it from its last checkpoint."""
        from mathxfer.errors import DamagedFile
        from mathxfer.train.run import finished_run

        try:
            return finished_run(self.output_dir)
        except DamagedFile:
            return False

    def damage(self) -> str | None:
        """What is damaged in a finished-looking run's folder (the DamagedFile message), None when nothing is."""
        from mathxfer.errors import DamagedFile
        from mathxfer.train.run import finished_run

        try:
            finished_run(self.output_dir)
        except DamagedFile as err:
            return str(err)
        return None

    def sample_key(self) -> tuple[Any, ...] | None:
        """What an on-policy run's rejection sample depends on (``mathxfer.train.data.onpolicy_sample`` caches
        it): runs with the same key, such as a run and its learning-rate control, share one sample."""
        if self.method != "onpolicy_sft":
            return None
        from mathxfer.train.data import ONPOLICY_FIELDS

        return (self.fields["model_name_or_path"], self.fields.get("gguf_file"),
                *(self.fields.get(f) for f in (*ONPOLICY_FIELDS, "onpolicy_batch_size")))

    def cost(self, sampled: bool = False) -> float:
        """Relative CPU cost, for scheduling longest first. Generation dominates: GRPO (and on-policy SFT
        re-sampled as it trains, on GRPO's sampling) generates every completion token by token, one-shot
        on-policy SFT samples its data set first (unless ``sampled``: another run drew it), off-policy SFT
        and off-policy RL (the teacher writes its completions) only train. Calibrated on the micro study
        (GRPO 380-450 s, on-policy SFT 150-190 s of which sampling about 120, off-policy SFT 30-60 s)."""
        f = self.fields
        steps = f["max_steps"] if (f.get("max_steps") or 0) > 0 else 200  # -1: epochs decide (paper SFT)
        batch = f.get("per_device_train_batch_size", 8) * f.get("gradient_accumulation_steps", 1)
        if self.method in ("grpo", "online_sft"):
            return steps * batch * f.get("max_completion_length", 256)
        trained = steps * batch * 28.0
        if self.method == "onpolicy_sft" and not sampled:
            return trained + f.get("dataset_size", 0) * f.get("onpolicy_samples", 8) * f.get(
                "onpolicy_max_new_tokens", 48) * 0.3
        return trained

    def job_name(self, profile: str) -> str:
        """The run's name in file names (its log, its SLURM script): profile, arm, variant and seed."""
        return f"{profile}-{self.arm}-{self.variant}-seed{self.seed}".replace("=", "")

    def train_command(self, profile: str) -> list[str]:
        """``mathxfer train`` with exactly this run's recipe overrides."""
        command = ["-m", "mathxfer", "train", "--profile", profile, "--recipe", self.arm, "--seed", str(self.seed)]
        for key, value in self.overrides.items():
            if key != "seed":
                command += ["--set", f"{key}={json.dumps(value)}"]
        return command


def plan_study(spec: StudySpec) -> list[PlannedRun]:
    """Every run of the study, main comparison first, in the study file's order."""
    from mathxfer.train.recipes import RL_METHODS, read_recipe, recipe_path, run_dir

    variants: list[tuple[str, list[str], dict[str, Any], list[int]]] = [(MAIN, list(spec.arms), {}, spec.seeds)]
    if spec.controls.learning_rate is not None:
        sft = [a for a in spec.arms if _recipe_method(spec, a) not in RL_METHODS]
        if sft:
            variants.append((lr_variant(spec.controls.learning_rate), sft,
                             {"learning_rate": spec.controls.learning_rate}, spec.seeds))
    for arm, rates in spec.sweep.learning_rates.items():
        variants += [(lr_variant(lr), [arm], {"learning_rate": lr}, spec.sweep.seeds or spec.seeds) for lr in rates]
    runs: list[PlannedRun] = []
    planned: set[Path] = set()
    for variant, arms, extra, seeds in variants:
        for arm in arms:
            for seed in seeds:
                overrides = {**spec.recipe_overrides(seed, arm), **extra}
                fields = read_recipe(recipe_path(spec.profile, arm), overrides)
                out = run_dir(fields)
                if out in planned:  # a sweep point at the recipe's (or the control's) rate is that run
                    continue
                planned.add(out)
                runs.append(PlannedRun(arm, seed, variant, overrides, fields, out))
    return runs


def lr_label(learning_rate: float) -> str:
    """A learning rate as pages and variant names write it: "1e-04", every digit kept (2.5e-4 is 0.00025)."""
    short = f"{learning_rate:.0e}"
    return short if float(short) == learning_rate else f"{learning_rate:g}"


def lr_variant(learning_rate: float) -> str:
    """The variant name of a run at another learning rate: "lr=1e-04"."""
    return f"lr={lr_label(learning_rate)}"


def sample_providers(runs: list[PlannedRun]) -> dict[int, int]:
    """For each run that can reuse another's rejection sample, the index of the run that draws it (the first
    with the same sample key): the scheduler holds the first until the second is done."""
    first: dict[tuple[Any, ...], int] = {}
    out = {}
    for i, run in enumerate(runs):
        key = run.sample_key()
        if key is None:
            continue
        if key in first:
            out[i] = first[key]
        else:
            first[key] = i
    return out


def _recipe_method(spec: StudySpec, arm: str) -> str:
    from mathxfer.train.recipes import read_recipe, recipe_path

    return str(read_recipe(recipe_path(spec.profile, arm))["method"])


def launcher_options(spec: StudySpec) -> list[str]:
    """``accelerate launch``'s options for the study's launcher: its config file, the processes of every
    machine together, and the machines (launcher profiles only)."""
    if spec.launcher is None:
        raise ValueError(f"the {spec.profile} study has no launcher; its runs train in local workers")
    return ["--config_file", spec.launcher.config_file,
            "--num_processes", str(spec.launcher.num_processes * spec.launcher.num_machines),
            "--num_machines", str(spec.launcher.num_machines)]


def launch_argv(spec: StudySpec, run: PlannedRun, accelerate: str = "accelerate") -> list[str]:
    """The ``accelerate launch`` command that trains ``run`` on a GPU node (launcher profiles), as arguments;
    ``accelerate`` is the executable to name."""
    return [accelerate, "launch", *launcher_options(spec), *run.train_command(spec.profile)]


def launch_command(spec: StudySpec, run: PlannedRun) -> str:
    """``launch_argv`` as the one shell line the plan prints and the run's log starts with."""
    return shlex.join(launch_argv(spec, run))


def study_key(spec: StudySpec, runs: list[PlannedRun]) -> str:
    """The record's key: everything that changes the study's numbers, the base's identity and every run's
    folder (whose names already hold the runs' recipes, base identity and data version)."""
    from mathxfer.models import identity

    return f"{spec.profile}-" + config_key({
        "study": spec.result_fields(), "base": identity(spec.base_model, gguf_file=spec.gguf_file),
        "runs": [run.output_dir.name for run in runs]})
