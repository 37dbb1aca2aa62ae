"""The controlled study: one base, the same math prompts, several post-training arms, several seeds.

Every (arm, seed) trains through ``mathxfer.train`` (a finished run is reused, an interrupted one resumes)
and is evaluated on the held-out sets; evaluations are cached beside the model they score. Runs go to a
small process pool (one torch thread each), since a 2-core machine trains two tiny models at once faster
than one model with two threads.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from mathxfer.provenance import write_json_atomic

EVAL_VERSION = 1  # bump when the evaluation protocol changes, so cached evaluations are redone


@dataclass(frozen=True)
class StudyConfig:
    profile: str = "micro"
    base_model: str = "data/micro/base"
    arms: tuple[str, ...] = ("sft-think", "sft-nothink", "onpolicy-sft", "grpo")
    seeds: tuple[int, ...] = (0, 1, 2)
    steps: int | None = None  # override every recipe's max_steps (None: the recipes' own)
    eval_n: int = 200  # held-out items per group
    workers: int = 2
    overrides: dict[str, Any] = field(default_factory=dict)  # extra recipe fields for every arm


def _threads(n: int = 1) -> None:
    os.environ["OMP_NUM_THREADS"] = str(n)
    import torch

    torch.set_num_threads(n)


def evaluate_model(model_dir: str | Path, profile: str, eval_n: int) -> dict[str, Any]:
    """Held-out accuracy per family and group of one model, cached in the results folder under the model's
    identity (so a retrained model is re-evaluated and an unchanged one never is)."""
    from mathxfer.models import identity, load_model, load_tokenizer
    from mathxfer.paths import REPO_ROOT, results_dir

    model_dir = Path(model_dir) if Path(model_dir).is_absolute() else REPO_ROOT / model_dir
    digest = hashlib.sha256(identity(model_dir).encode()).hexdigest()[:12]  # weights, config, tokenizer
    if profile == "micro":  # the held-out sets come from the world: another world is another evaluation
        from mathxfer.micro.world import fingerprint

        digest = f"w{fingerprint()}-{digest}"
    cache = results_dir() / "eval-cache" / f"{profile}-n{eval_n}-v{EVAL_VERSION}-{digest}.json"
    if cache.exists():
        return json.loads(cache.read_text())
    if profile != "micro":
        raise NotImplementedError(f"the {profile} profile evaluates with `mathxfer eval`; run it on {model_dir}")
    from mathxfer.micro.evaluate import evaluate

    start = time.perf_counter()
    result = evaluate(load_model(str(model_dir)), load_tokenizer(str(model_dir)), n_per_group=eval_n)
    payload = {"model": str(model_dir), "eval_n": eval_n, "seconds": round(time.perf_counter() - start, 1),
               "family": result.accuracy("family"), "group": result.accuracy("group"),
               "records": result.to_rows()}
    write_json_atomic(cache, payload)
    return payload


def results_dir_for_logs() -> Path:
    from mathxfer.paths import results_dir

    return results_dir() / "logs"


def _log_to_file(path: Path) -> None:
    """Send this worker's output (trainer logs, warnings) to a file: a notebook kernel would otherwise
    capture it from the shared file descriptors and print it on the page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def run_arm(profile: str, arm: str, seed: int, base_model: str, steps: int | None, eval_n: int,
            overrides: dict[str, Any]) -> dict[str, Any]:
    """Train (or reuse) one arm at one seed and evaluate it. Runs inside a worker process."""
    _threads(1)
    _log_to_file(Path(results_dir_for_logs()) / f"{profile}-{arm}-seed{seed}.log")
    import datasets
    import transformers

    from mathxfer.train import load, train

    # many runs side by side: their per-step bars would interleave; the study prints one line per run
    datasets.disable_progress_bars()
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    extra = {"disable_tqdm": True, **overrides, **({"max_steps": steps} if steps else {})}
    config = load(profile, arm, seed=seed, model_name_or_path=base_model, **extra)
    record = train(config)
    evaluation = evaluate_model(record.model_dir, profile, eval_n)
    return {"arm": arm, "seed": seed, "output_dir": str(record.output_dir), "reused": record.reused,
            "train_seconds": record.info()["wall_seconds"], "family": evaluation["family"],
            "group": evaluation["group"]}


@dataclass
class StudyResults:
    config: StudyConfig
    base: dict[str, Any]
    runs: list[dict[str, Any]]
    seconds: float

    def accuracy(self, by: str = "family") -> pd.DataFrame:
        """Long table: arm, seed, name (family or group), accuracy in percent; the base has seed -1."""
        rows = [{"arm": "base", "seed": -1, "name": k, "accuracy": 100 * v} for k, v in self.base[by].items()]
        for run in self.runs:
            rows += [{"arm": run["arm"], "seed": run["seed"], "name": k, "accuracy": 100 * v}
                     for k, v in run[by].items()]
        return pd.DataFrame(rows)

    def metrics(self) -> pd.DataFrame:
        """Every logged training step of every run: arm, seed, step and TRL's logged values."""
        frames = []
        for run in self.runs:
            path = Path(run["output_dir"]) / "metrics.jsonl"
            rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
            frame = pd.DataFrame([r for r in rows if "step" in r or "loss" in r])
            frames.append(frame.assign(arm=run["arm"], seed=run["seed"]))
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _reporter(log: TextIO | None) -> Callable[[str], None]:
    """Progress lines go to ``log``; in a notebook kernel to the page (stdout: stderr would be a build
    warning) and to the terminal that runs the kernel (``mathxfer book``), which otherwise sees nothing
    until the long study cell ends. ipykernel captures fd 2, so the terminal gets its saved original."""
    if log is not None:
        return lambda message: print(message, file=log, flush=True)
    terminal = getattr(sys.stderr, "_original_stdstream_copy", None) if "ipykernel" in sys.modules else None

    def say(message: str) -> None:
        if terminal is None:
            print(message, file=sys.stderr, flush=True)
            return
        print(message, file=sys.stdout, flush=True)
        os.write(terminal, (message + "\n").encode())

    return say


def run_study(config: StudyConfig, log: TextIO | None = None) -> StudyResults:
    """All arms x seeds (in a process pool), plus the base; reuses every finished run and evaluation."""
    say = _reporter(log)
    start = time.perf_counter()
    _threads(1)
    base = evaluate_model(config.base_model, config.profile, config.eval_n)
    jobs = [(arm, seed) for arm in config.arms for seed in config.seeds]
    say(f"controlled study: {len(jobs)} runs ({', '.join(config.arms)} x seeds {list(config.seeds)}), "
        f"{config.workers} at a time; finished runs are reused")
    runs: list[dict[str, Any]] = []
    with ProcessPoolExecutor(max_workers=max(1, config.workers), mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(run_arm, config.profile, arm, seed, config.base_model, config.steps,
                               config.eval_n, config.overrides): (arm, seed) for arm, seed in jobs}
        for i, future in enumerate(as_completed(futures), 1):
            arm, seed = futures[future]
            run = future.result()
            state = "reused" if run["reused"] else f"trained in {run['train_seconds']:.0f}s"
            math_acc = 100 * run["group"].get("math", float("nan"))
            say(f"[{i}/{len(jobs)}] {arm} seed {seed}: {state}; math {math_acc:.1f}%")
            runs.append(run)
    runs.sort(key=lambda r: (config.arms.index(r["arm"]), r["seed"]))
    return StudyResults(config, base, runs, time.perf_counter() - start)


def sft_arms(config: StudyConfig) -> tuple[str, ...]:
    """The study's arms whose recipe is a form of SFT (every method but GRPO)."""
    from mathxfer.train.recipes import arm_kind

    return tuple(a for a in config.arms if arm_kind(config.profile, a) == "SFT")


def learning_rate_control(config: StudyConfig, learning_rate: float | None,
                          log: TextIO | None = None) -> StudyResults | None:
    """The SFT arms again at ``learning_rate`` (RL's, by default in the chapter), everything else equal: does
    the forgetting come from the method or from SFT's larger step? ``None`` skips the control."""
    if learning_rate is None:
        return None
    arms = sft_arms(config)
    if not arms:
        raise ValueError(f"the study has no SFT arm to rerun at lr {learning_rate}; its arms are {config.arms}")
    return run_study(replace(config, arms=arms, overrides={**config.overrides, "learning_rate": learning_rate}), log)


def arms_list(arms: Sequence[str] | str) -> tuple[str, ...]:
    return tuple(a.strip() for a in arms.split(",")) if isinstance(arms, str) else tuple(arms)
