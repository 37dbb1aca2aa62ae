"""``mathxfer study``: train every (arm, seed) through ``mathxfer.train``, evaluate the base and every run,
warm the analyses' caches, and write the study record.

CPU profiles train in a pool of worker processes (one torch thread each: a 2-core machine trains two tiny
models at once faster than one model with two threads), longest run first so that no core idles while one
long run finishes alone. Launcher profiles train each run through ``accelerate launch`` on the node's GPUs.
Finished runs and evaluations are reused, interrupted runs resume from their last checkpoint; trainer
output goes to ``results/logs/``, the terminal gets one progress bar and a status line per run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TextIO

from mathxfer.paths import REPO_ROOT, logs_dir
from mathxfer.provenance import provenance, write_json_atomic
from mathxfer.study.plan import (MAIN, PlannedRun, launch_argv, launch_command, plan_study, sample_providers,
                                 study_key)
from mathxfer.study.evaluation import task_groups
from mathxfer.study.record import RunEntry, StudyRecord, record_path, spec_record_path
from mathxfer.study.spec import StudySpec


def _quiet_worker(log_name: str) -> None:
    """One torch thread, and this worker's output (trainer logs, warnings) into its log file."""
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)
    path = logs_dir() / log_name
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def _base_entry(spec: StudySpec) -> dict[str, Any]:
    from mathxfer.models import identity
    from mathxfer.study.evaluation import evaluate

    scores = evaluate(spec, spec.base_model)
    return {"model_path": spec.base_model, "model_identity": identity(spec.base_model, gguf_file=spec.gguf_file),
            "eval_path": scores.path, "scores": scores.task, "group_scores": scores.group, "missing": scores.missing}


def _fix(run: PlannedRun) -> str:
    return f"rerun the study (a damaged run is retrained from its last checkpoint), or delete {run.output_dir}"


def _entry(spec: StudySpec, run: PlannedRun, reused: bool) -> RunEntry:
    from mathxfer.errors import damaged, read_json
    from mathxfer.models import identity
    from mathxfer.study.evaluation import evaluate
    from mathxfer.train.run import finished_run

    if not finished_run(run.output_dir, _fix(run)):  # DamagedFile when its run.json or model does not verify
        raise damaged(run.output_dir / "run.json", "missing after training", _fix(run))
    model = run.output_dir / "model"
    scores = evaluate(spec, str(model), tuned_from=spec.base_model)
    info = read_json(run.output_dir / "run.json", _fix(run))
    return RunEntry(run.arm, run.seed, run.variant, run.kind, run.method, run.fields, str(run.output_dir), str(model),
                    identity(str(model)), str(run.output_dir / "metrics.jsonl"), scores.path, scores.task,
                    scores.group, float(info.get("wall_seconds", 0.0)), reused)


def base_job(spec: StudySpec) -> dict[str, Any]:
    _quiet_worker(f"{spec.profile}-base-eval.log")
    return _base_entry(spec)


def run_job(spec: StudySpec, run: PlannedRun) -> tuple[RunEntry, float]:
    """Train (or reuse) one run and evaluate it, in a worker; returns its entry and the CPU seconds spent."""
    _quiet_worker(f"{run.job_name(spec.profile)}.log")
    from mathxfer.train import train
    from mathxfer.train.recipes import build_config

    cpu = time.process_time()
    reused = run.finished
    if not reused:
        config = build_config({**run.fields, "disable_tqdm": True})
        config._mathxfer_recipe = run.fields
        train(config)
    return _entry(spec, run, reused), time.process_time() - cpu


def warm_job(spec: StudySpec, base: dict[str, Any], entry: RunEntry | None) -> float:
    """Cache one model's share of the analyses (the base's when ``entry`` is None) as soon as it is trained and
    evaluated, so the analyses fill the workers while the last runs train."""
    _quiet_worker(f"{spec.profile}-analysis.log")
    from mathxfer.study.analyses import BASE, warm

    cpu = time.process_time()
    record = StudyRecord("", spec, task_groups(spec.evaluation), base, [entry] if entry else [], {}, "")
    warm(record, BASE if entry is None else analysis_label(spec, entry))
    return time.process_time() - cpu


def analysis_label(spec: StudySpec, entry: RunEntry) -> str:
    """The model's label in the analyses (``mathxfer.study.analyses.tuned_refs``): arm and seed, or the arm
    alone when only each arm's first seed is analysed."""
    return f"{entry.arm} s{entry.seed}" if spec.analysis.all_seeds else entry.arm


def _analysed(spec: StudySpec, entry: RunEntry) -> bool:
    return entry.variant == MAIN and (spec.analysis.all_seeds or entry.seed == min(spec.seeds))


def _accelerate() -> str:
    """The ``accelerate`` beside this Python (its environment's, activated or not), else the one on PATH."""
    beside = Path(sys.executable).with_name("accelerate")
    return str(beside) if beside.is_file() else "accelerate"


def _launch(spec: StudySpec, run: PlannedRun, say: Callable[[str], None]) -> RunEntry:
    """A launcher profile's run: ``accelerate launch ... -m mathxfer train ...`` on this node, then evaluation.
    The child inherits the environment, so it trains into this process's results store."""
    reused = run.finished
    if not reused:
        command = launch_command(spec, run)
        log = logs_dir() / f"{run.job_name(spec.profile)}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        say(f"{run.label}: {command}  (log: {log})")
        with log.open("a") as handle:
            print(f"$ {command}", file=handle, flush=True)
            done = subprocess.run(launch_argv(spec, run, _accelerate()), cwd=REPO_ROOT, stdout=handle,
                                  stderr=subprocess.STDOUT)
        if done.returncode != 0:
            raise RuntimeError(f"{run.label}: `{command}` failed with exit status {done.returncode}; see {log}")
    return _entry(spec, run, reused)


def describe_plan(spec: StudySpec, runs: Sequence[PlannedRun], out: TextIO) -> None:
    """``--dry-run``: every run's resolved TRL config, whether it is reused, and how it would train."""
    from mathxfer.train.recipes import build_config

    print(f"study {spec.source}: {len(runs)} runs ({', '.join(spec.arms)} x seeds {spec.seeds}"
          + (f", controls lr={spec.controls.learning_rate:.0e}" if spec.controls.learning_rate else "") + ")", file=out)
    print(f"record: {spec_record_path(spec)}", file=out)
    for run in sorted(runs, key=lambda r: -r.cost()) if spec.launcher is None else runs:
        config = build_config(run.fields)
        damage = run.damage()
        state = f"to retrain: {damage}" if damage else "reused (finished)" if run.finished else "to train"
        print(f"\n== {run.label} [{run.kind}, {run.method}]: {state}; {run.output_dir}", file=out)
        if spec.launcher is not None:
            print(f"   {launch_command(spec, run)}", file=out)
        shown = {k: getattr(config, k) for k in sorted(run.fields) if k != "method" and hasattr(config, k)}
        for key in ("output_dir", "max_steps", "learning_rate", "per_device_train_batch_size", "seed"):
            shown[key] = getattr(config, key)
        print("   " + ", ".join(f"{k}={v!r}" for k, v in sorted(shown.items())), file=out)


class _Progress:
    """One tqdm bar for the study on the terminal; a status line per finished job above it."""

    def __init__(self, total: int, out: TextIO):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=total, desc="study", unit="job", file=out, dynamic_ncols=True,
                        disable=not total)
        self.out = out

    def say(self, message: str) -> None:
        self.bar.write(message, file=self.out)

    def step(self, message: str) -> None:
        self.say(message)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


def run_study(spec: StudySpec, *, arms: Sequence[str] | None = None, seeds: Sequence[int] | None = None,
              out: TextIO | None = None) -> StudyRecord | None:
    """Train, evaluate and analyse the study; returns its record, or None when ``arms``/``seeds`` left
    part of it untrained (the record is written only for a whole study). Progress goes to ``out``
    (default: stderr at call time)."""
    out = out if out is not None else sys.stderr
    start = time.perf_counter()
    plan = plan_study(spec)
    chosen = [r for r in plan if (not arms or r.arm in arms) and (seeds is None or r.seed in seeds)]
    key = study_key(spec, plan)
    whole = len(chosen) == len(plan)
    if whole and (done := _recorded(key)) is not None:
        print(f"study {key}: every run, evaluation and analysis is recorded in {done.path}; nothing to do",
              file=out)
        return done
    todo = sorted(chosen, key=lambda r: -r.cost())  # longest first (the launcher trains one at a time)
    models = len([r for r in plan if r.variant == MAIN]) if spec.analysis.all_seeds else len(spec.arms)
    analyses = ((1 + models if spec.launcher is None else 0) + 1 + bool(spec.sweep.kl_prompts)) if whole else 0
    progress = _Progress(len(todo) + 1 + analyses, out)
    progress.say(f"study {key}: {len(chosen)} of {len(plan)} runs, "
                 f"{sum(r.finished for r in chosen)} already finished; "
                 + (f"{spec.workers} worker(s)" if spec.launcher is None else f"via {spec.launcher.kind} launch"))
    entries: dict[tuple[str, int, str], RunEntry] = {}
    cpu_seconds = 0.0  # the workers' CPU time for training and evaluation (the schedule's lower bound)
    runs_wall = 0.0
    try:
        if spec.launcher is not None:
            base = _base_entry(spec)
            progress.step("base: evaluated")
            for run in todo:
                entries[(run.arm, run.seed, run.variant)] = entry = _launch(spec, run, progress.say)
                progress.step(_status(entry))
            record = _assemble(spec, key, base, plan, entries)
        else:
            with ProcessPoolExecutor(max_workers=max(1, spec.workers), mp_context=get_context("spawn")) as pool:
                base: dict[str, Any] = {}
                for kind, job, result in _schedule(pool, spec, todo, analyse=whole):
                    if kind == "base":
                        base = result
                        progress.step("base: evaluated")
                    elif kind == "warm":
                        progress.step(f"analysis: {job} cached")
                    else:
                        entry, cpu = result
                        cpu_seconds += cpu
                        entries[(entry.arm, entry.seed, entry.variant)] = entry
                        runs_wall = time.perf_counter() - start
                        progress.step(_status(entry))
            if not whole:
                progress.close()
                print(f"trained {len(chosen)} of {len(plan)} runs; the study record is written once every run "
                      f"is finished (run `mathxfer study` without --arm/--seed)", file=out)
                return None
            record = _assemble(spec, key, base, plan, entries)
        import transformers

        from mathxfer.study.analyses import latent_for, tokens_for

        transformers.utils.logging.disable_progress_bar()  # the study's bar is the terminal's only one
        latent_for(record)  # the PCA and UMAP views on the cached states, so the chapters compute nothing
        tokens_for(record)
        progress.step("analyses: latent and token views cached")
        if spec.sweep.kl_prompts:
            from mathxfer.study.analyses import drift_for

            drift_for(record)  # the sweep chapter's KL(base || tuned) of every run, cached
            progress.step(f"sweep: KL on {spec.sweep.kl_prompts} training prompts cached for {len(record.runs)} runs")
    finally:
        progress.close()
    wall = time.perf_counter() - start
    payload = record.to_json()
    payload["provenance"] = {**provenance(spec.result_fields()), "wall_seconds": round(wall, 1),
                             "runs_wall_seconds": round(runs_wall, 1), "runs_cpu_seconds": round(cpu_seconds, 1),
                             "workers": spec.workers}
    path = record_path(key)
    write_json_atomic(path, payload)
    bound = f"; runs {runs_wall:.0f}s wall for {cpu_seconds:.0f}s CPU on {spec.workers} workers" if cpu_seconds else ""
    print(f"study record: {path} ({wall:.0f}s{bound})", file=out)
    from mathxfer.study.record import read_record

    return read_record(path)


def _schedule(pool: ProcessPoolExecutor, spec: StudySpec, runs: Sequence[PlannedRun], analyse: bool
              ) -> Iterator[tuple[str, Any, Any]]:
    """Run every job on the pool, yielding (kind, job, result) as each finishes: ("base", None, entry),
    ("run", PlannedRun, (entry, cpu)) and, with ``analyse``, ("warm", label, cpu).

    A list schedule: whenever a worker is free it takes the longest ready job, so no core idles while one
    long run finishes alone. The base's evaluation goes first; a model's analysis is ready once the model is
    evaluated, and being short it fills the workers at the end. A run that reuses another's rejection sample
    waits until that run is done (then it only trains), rather than drawing the same sample beside it."""
    providers = sample_providers(list(runs))  # run index -> index of the run that draws its sample
    ready: list[tuple[float, str, Any]] = [(float("inf"), "base", None)]
    ready += [(runs[i].cost(), "run", i) for i in range(len(runs)) if i not in providers]
    running: dict[Future[Any], tuple[str, Any]] = {}
    base: dict[str, Any] | None = None
    trained: list[RunEntry] = []

    def submit(kind: str, job: Any) -> Future[Any]:
        if kind == "base":
            return pool.submit(base_job, spec)
        if kind == "run":
            return pool.submit(run_job, spec, runs[job])
        return pool.submit(warm_job, spec, base, job)

    while ready or running:
        ready.sort(key=lambda r: r[0], reverse=True)
        while ready and len(running) < max(1, spec.workers):
            _, kind, job = ready.pop(0)
            running[submit(kind, job)] = (kind, job)
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in done:
            kind, job = running.pop(future)
            result = future.result()
            if kind == "base":
                base = result
                yield "base", None, result
                if analyse:  # the models already evaluated, and the base itself
                    ready += [(1.0, "warm", e) for e in trained] + [(1.0, "warm", None)]
            elif kind == "run":
                ready += [(runs[k].cost(sampled=True), "run", k) for k, j in providers.items() if j == job]
                entry = result[0]
                if analyse and _analysed(spec, entry):
                    trained.append(entry)
                    if base is not None:
                        ready.append((1.0, "warm", entry))
                yield "run", runs[job], result
            else:
                yield "warm", "base" if job is None else analysis_label(spec, job), result


def _recorded(key: str) -> StudyRecord | None:
    """The study's record when it exists and still verifies (its key already holds every input)."""
    from mathxfer.study.record import StudyRecordMissing, read_record, verify

    if not record_path(key).is_file():
        return None
    try:
        return verify(read_record(record_path(key)))
    except StudyRecordMissing:
        return None  # stale or damaged: redo what changed (finished runs are still reused)


def _status(entry: RunEntry) -> str:
    state = "reused" if entry.reused else f"trained in {entry.train_seconds:.0f}s"
    math = entry.group_scores.get("math", float("nan"))
    return f"{entry.label}: {state}; math {math:.1f}%"


def _assemble(spec: StudySpec, key: str, base: dict[str, Any], plan: Sequence[PlannedRun],
              entries: dict[tuple[str, int, str], RunEntry]) -> StudyRecord:
    runs = [entries[(r.arm, r.seed, r.variant)] for r in plan]  # the study file's order, not finishing order
    return StudyRecord(key, spec, task_groups(spec.evaluation), base, runs, {}, str(record_path(key)))
