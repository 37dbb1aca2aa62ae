"""SLURM batch scripts for a launcher study (``mathxfer study --profile paper --emit-slurm DIR``).

One script per run trains it on ``launcher.num_machines`` nodes of ``launcher.num_processes`` GPUs: ``srun``
starts one task per node and each task runs the same ``accelerate launch ... -m mathxfer train ...`` as
``mathxfer study`` would on one node (``plan.launch_command``), with the main process's address from SLURM and
its own machine rank. One more script, once every run is finished, evaluates the base and the runs and writes
the study record: it trains nothing (a run still missing stops it). ``submit_all.sh`` submits them all with
``sbatch --dependency`` and ``README.md`` lists them. The layout follows open-r1's ``slurm/train.slurm``.

Every node must see the repository and the results store (``MATHXFER_RESULTS``, a shared folder): the scripts
name both as variables to edit. Runs land in their keyed folders, so a store copied back from the cluster is
read here with ``--results DIR``.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mathxfer.errors import UsageError
from mathxfer.paths import REPO_ROOT, repo_path, results_dir
from mathxfer.provenance import write_atomic
from mathxfer.study.plan import PlannedRun, launcher_options, plan_study, sample_providers, study_key
from mathxfer.study.spec import StudySpec

STUDY_COPY = "study.yaml"  # the resolved study, --set overrides included, that the record step reads
RECORD_SCRIPT = "record.slurm"
SUBMIT_SCRIPT = "submit_all.sh"
INDEX = "README.md"
MAIN_PORT = 29500


@dataclass(frozen=True)
class Emitted:
    """What ``emit_slurm`` wrote: the run scripts (in the plan's order), the record script and the index."""

    folder: Path
    key: str
    runs: list[tuple[PlannedRun, Path]]
    record: Path
    submit: Path
    index: Path


def emit_slurm(spec: StudySpec, folder: str | Path) -> Emitted:
    """Write the study's SLURM scripts into ``folder`` (created; each file atomically). Needs a launcher."""
    if spec.launcher is None:
        raise UsageError(f"--emit-slurm: the {spec.profile} study ({spec.source}) has no launcher section, so its "
                         "runs train in local CPU workers, not on a cluster; use a launcher profile (--profile "
                         "paper) or add a launcher section to your study file")
    out = Path(folder).expanduser().resolve()
    if any(ch.isspace() for ch in str(out)):
        raise UsageError(f"--emit-slurm {folder}: {out} holds whitespace, which #SBATCH lines cannot quote; "
                         "pick a folder without spaces")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--emit-slurm {folder}: {out} is a file; give a folder for the scripts")
    runs = plan_study(spec)
    key = study_key(spec, runs)
    (out / "logs").mkdir(parents=True, exist_ok=True)
    _write(out / STUDY_COPY, _study_copy(spec, key))
    written = []
    for run in runs:
        path = out / f"{run.job_name(spec.profile)}.slurm"
        _write(path, run_script(spec, run, key, out), executable=True)
        written.append((run, path))
    record = out / RECORD_SCRIPT
    _write(record, record_script(spec, runs, key, out), executable=True)
    submit = out / SUBMIT_SCRIPT
    _write(submit, submit_script(spec, runs, key), executable=True)
    index = out / INDEX
    _write(index, index_text(spec, runs, key))
    return Emitted(out, key, written, record, submit, index)


def _write(path: Path, text: str, executable: bool = False) -> None:
    write_atomic(path, text)
    path.chmod(0o755 if executable else 0o644)  # the atomic write's temp file is private (0600)


def _study_copy(spec: StudySpec, key: str) -> str:
    header = (f"# The study {key}, resolved from {spec.source} (--set overrides included) by\n"
              f"# `mathxfer study --emit-slurm`: {RECORD_SCRIPT} reads it, so the record step plans exactly the runs\n"
              "# these scripts train.\n")
    return header + yaml.safe_dump(spec.as_dict(), sort_keys=False)


# ---- the pieces every script shares --------------------------------------------------------------------------

def _header(job: str, nodes: int, gpus: int, out: Path) -> list[str]:
    return ["#!/bin/bash",
            f"#SBATCH --job-name={job}",
            f"#SBATCH --nodes={nodes}",
            "#SBATCH --ntasks-per-node=1",
            f"#SBATCH --gpus-per-node={gpus}",
            "#SBATCH --exclusive",
            f"#SBATCH --output={out / 'logs'}/%x-%j.out",
            "#SBATCH --requeue",
            "# add your cluster's own directives here, e.g. #SBATCH --partition=... --account=... --time=...",
            ""]


def _environment(key: str, out: Path) -> list[str]:
    """The variables a user edits (the checkout, the shared results store, the Python environment, this
    folder); each keeps a value exported before sbatch."""
    return ["set -eo pipefail",
            "",
            "# ---- edit for your cluster (or export these before sbatch) ----------------------------------",
            f"MATHXFER_REPO=${{MATHXFER_REPO:-{shlex.quote(str(REPO_ROOT))}}}  # the repository checkout, seen by every node",
            f"export MATHXFER_RESULTS=${{MATHXFER_RESULTS:-{shlex.quote(str(results_dir().resolve()))}}}"
            "  # the results store: a shared folder every node reads and writes",
            'MATHXFER_ENV=${MATHXFER_ENV:-$MATHXFER_REPO/.venv}  # the Python environment with `pip install -e .[gpu]`',
            f"MATHXFER_SLURM=${{MATHXFER_SLURM:-{shlex.quote(str(out))}}}  # this folder (its {STUDY_COPY}, its logs/)",
            '# shellcheck source=/dev/null',
            'source "$MATHXFER_ENV/bin/activate"  # or: conda activate <env>',
            "# ---------------------------------------------------------------------------------------------",
            "set -u",
            f"STUDY_KEY={key}",
            'cd "$MATHXFER_REPO"',
            ""]


def _commented(text: str) -> list[str]:
    return [f"#   {line}" if line else "#" for line in text.rstrip("\n").splitlines()]


def _launcher_description(spec: StudySpec) -> str:
    """What the accelerate config sets up, read from it: e.g. 'DeepSpeed ZeRO-3'."""
    assert spec.launcher is not None
    try:
        config = yaml.safe_load(repo_path(spec.launcher.config_file).read_text()) or {}
    except (OSError, yaml.YAMLError):
        return "the accelerate config"
    kind = str(config.get("distributed_type", "")) if isinstance(config, dict) else ""
    if kind == "DEEPSPEED":
        stage = (config.get("deepspeed_config") or {}).get("zero_stage")
        return f"DeepSpeed ZeRO-{stage}" if stage is not None else "DeepSpeed"
    return {"NO": "one process, no distribution", "MULTI_GPU": "DDP", "FSDP": "FSDP"}.get(kind, kind or "accelerate")


def _generation_note(fields: dict[str, Any]) -> list[str]:
    if fields.get("method") != "grpo":
        return []
    if not fields.get("use_vllm"):
        return ["# GRPO generates its rollouts with the trainer's own model (the recipe's use_vllm is false)."]
    mode = fields.get("vllm_mode", "server")
    if mode == "colocate":
        return ["# GRPO generates its rollouts with vLLM colocated with training (the recipe's use_vllm: true,",
                "# vllm_mode: colocate): every training process runs its own vLLM engine on its GPU, so no GPU is",
                "# set aside for a vLLM server and nothing else needs to be started."]
    return [f"# GRPO generates its rollouts with vLLM in {mode} mode (the recipe's vllm_mode): start the vLLM "
            "server yourself before this job (`trl vllm-serve`), or set vllm_mode: colocate in the recipe."]


# ---- the scripts ----------------------------------------------------------------------------------------------

def run_script(spec: StudySpec, run: PlannedRun, key: str, out: Path) -> str:
    """The batch script that trains ``run`` on the launcher's nodes through ``srun`` + ``accelerate launch``."""
    assert spec.launcher is not None
    launcher = spec.launcher
    recipe = f"recipes/{spec.profile}/{run.arm}.yaml"
    folder = f"train/{spec.profile}/{run.output_dir.name}"
    lines = _header(f"mathxfer-{run.job_name(spec.profile)}", launcher.num_machines, launcher.num_processes, out)
    lines += [f"# {run.label} of the {spec.profile} study {key} ({run.kind}, {run.method}), recipe {recipe}:",
              f"# accelerate + {_launcher_description(spec)} ({launcher.config_file}) on {launcher.num_machines} "
              f"node(s) x {launcher.num_processes} GPU(s),",
              f"# into $MATHXFER_RESULTS/{folder} (the folder's name is the run's key).",
              "# A finished run is reused and an interrupted or requeued one resumes from its last checkpoint, so",
              "# resubmitting is safe. Written by `mathxfer study --emit-slurm`: emit again after changing the",
              "# study or a recipe.",
              *_generation_note(run.fields),
              "#",
              f"# The resolved recipe ({recipe} with the study's overrides, passed below as --set):",
              *_commented(yaml.safe_dump(run.fields, sort_keys=False)),
              ""]
    lines += _environment(key, out)
    options = launcher_options(spec)
    lines += [f"RUN_DIR=\"$MATHXFER_RESULTS\"/{shlex.quote(folder)}",
              'echo "START $(date): $SLURM_JOB_NAME ($STUDY_KEY) on $SLURM_JOB_NODELIST -> $RUN_DIR"',
              "",
              "# the main process runs on the first node; every node's task passes its own rank",
              'MAIN_PROCESS_IP=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)',
              f"MAIN_PROCESS_PORT=${{MAIN_PROCESS_PORT:-{MAIN_PORT}}}",
              f"ACCELERATE_OPTIONS=({shlex.join(options)} \\",
              '    --main_process_ip "$MAIN_PROCESS_IP" --main_process_port "$MAIN_PROCESS_PORT")',
              f"TRAIN=({shlex.join(run.train_command(spec.profile))})",
              "export NCCL_ASYNC_ERROR_HANDLING=1  # a hung collective fails the job instead of stalling it",
              "",
              "# --kill-on-bad-exit: one failed node stops the others; --wait: how long the others may outlive it",
              "srun --kill-on-bad-exit=1 --wait=60 \\",
              "    bash -c 'exec accelerate launch --machine_rank \"$SLURM_PROCID\" \"$@\"' accelerate-launch \\",
              '    "${ACCELERATE_OPTIONS[@]}" "${TRAIN[@]}"',
              'echo "END $(date): $RUN_DIR"',
              ""]
    return "\n".join(lines)


def record_script(spec: StudySpec, runs: Sequence[PlannedRun], key: str, out: Path) -> str:
    """The batch script that evaluates the base and every finished run and writes the study record."""
    assert spec.launcher is not None
    lines = _header(f"mathxfer-{spec.profile}-record", 1, spec.launcher.num_processes, out)
    lines += [f"# The record step of the {spec.profile} study {key}, once every run is trained:",
              f"# `mathxfer study` evaluates the base and each run ({spec.evaluation.backend}), caches the latent and "
              "token analyses",
              f"# and writes $MATHXFER_RESULTS/study/{key}/study.json.",
              "# It trains nothing: a run that is not finished stops it (submit that run's script first).",
              "# Then copy $MATHXFER_RESULTS back and read it with `--results DIR`.",
              ""]
    lines += _environment(key, out)
    lines += ["RUNS=(",
              *[f"    {shlex.quote(f'train/{spec.profile}/{run.output_dir.name}')}  # {run.label}" for run in runs],
              ")",
              "missing=0",
              'for run in "${RUNS[@]}"; do',
              '    if [ ! -f "$MATHXFER_RESULTS/$run/run.json" ]; then',
              '        echo "not finished: $MATHXFER_RESULTS/$run (submit its script first)" >&2',
              "        missing=1",
              "    fi",
              "done",
              'if [ "$missing" -ne 0 ]; then exit 1; fi',
              "",
              f'python -m mathxfer study --study "$MATHXFER_SLURM/{STUDY_COPY}" --results "$MATHXFER_RESULTS"',
              'echo "study record: $MATHXFER_RESULTS/study/$STUDY_KEY/study.json"',
              ""]
    return "\n".join(lines)


def submit_script(spec: StudySpec, runs: Sequence[PlannedRun], key: str) -> str:
    """``submit_all.sh``: every run's job, then the record step once all of them succeed."""
    providers = sample_providers(list(runs))  # a run reusing another's rejection sample waits for that run
    lines = ["#!/bin/bash",
             f"# Submits every run of the {spec.profile} study {key}, then {RECORD_SCRIPT} once they all succeed.",
             "set -euo pipefail",
             'cd "$(dirname "$0")"',
             "",
             "# the job id, without ;cluster; a refused submission stops the script (set -e)",
             'submit() { local id; id=$(sbatch --parsable "$@") || return 1; echo "${id%%;*}"; }',
             "jobs=()"]
    for i, run in enumerate(runs):
        script = f"{run.job_name(spec.profile)}.slurm"
        after = f" --dependency=afterok:\"${{jobs[{providers[i]}]}}\"" if i in providers else ""
        lines.append(f"id=$(submit{after} {shlex.quote(script)}); jobs+=(\"$id\")  # {run.label}")
    lines += ['record=$(submit --dependency="afterok:$(IFS=:; echo "${jobs[*]}")" ' + RECORD_SCRIPT + ")",
              'echo "submitted ${#jobs[@]} run(s): ${jobs[*]}; the record step: $record"',
              ""]
    return "\n".join(lines)


def index_text(spec: StudySpec, runs: Sequence[PlannedRun], key: str) -> str:
    assert spec.launcher is not None
    rows = [f"| `{run.job_name(spec.profile)}.slurm` | {run.label} | `recipes/{spec.profile}/{run.arm}.yaml` | "
            f"`train/{spec.profile}/{run.output_dir.name}` |" for run in runs]
    return "\n".join([
        f"# SLURM scripts of the {spec.profile} study `{key}`",
        "",
        f"Written by `mathxfer study --emit-slurm` from `{spec.source}`. Each run trains on "
        f"{spec.launcher.num_machines} node(s) x {spec.launcher.num_processes} GPU(s) through `accelerate launch "
        f"--config_file {spec.launcher.config_file}` ({_launcher_description(spec)}); `{RECORD_SCRIPT}` then "
        "evaluates every model and writes the study record.",
        "",
        "1. Emit them on the cluster (this trains nothing and needs no GPU), or edit the paths: `MATHXFER_REPO`, "
        "`MATHXFER_RESULTS` (a folder every node sees), `MATHXFER_ENV` and `MATHXFER_SLURM` near the top of each "
        "script (or export them before submitting) and the `#SBATCH --output` line; add your partition and time "
        "limit to the `#SBATCH` lines.",
        f"2. `bash {SUBMIT_SCRIPT}` submits every run, then `{RECORD_SCRIPT}` once they all succeed "
        "(`sbatch --dependency=afterok`). Logs go to `logs/`.",
        "3. Copy the results folder back and build the book from it: "
        f"`mathxfer book --profile {spec.profile} --results DIR` (runs are found by their keyed folders).",
        "",
        "| script | run | recipe | results folder (under `$MATHXFER_RESULTS`) |",
        "|---|---|---|---|",
        *rows,
        f"| `{RECORD_SCRIPT}` | evaluation and study record | `{STUDY_COPY}` | `study/{key}/study.json` |",
        ""])
