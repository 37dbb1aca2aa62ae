"""Run one post-training arm with TRL: the folder is keyed by the recipe, a finished run is reused,
an interrupted one resumes from its last complete checkpoint.

Folder layout (``config.output_dir``)::

    checkpoint-N/     TRL/transformers checkpoints while training (resume points); ``checkpoint-N/.complete``
                      is written last, once every file of the checkpoint is on disk
    model/            the final model and tokenizer (what evaluation and the analyses load)
    metrics.jsonl     every logged step: loss, grad_norm, reward, completion length, kl ...
    run.json          written last, atomically: recipe, provenance, wall time, summary
    .lock             the writer lock (``mathxfer.locks``): one process trains a folder at a time

A run is finished when ``run.json`` parses and ``model/`` holds weights that load (``finished_run``); a
damaged finished run (a truncated run.json, an emptied weights file) is retrained, resuming from its last
complete checkpoint. A checkpoint without its marker was interrupted while saving: it is deleted and the
run resumes from the newest complete one.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mathxfer.errors import DamagedFile, damaged, read_json, read_json_lines
from mathxfer.provenance import provenance, write_atomic, write_json_atomic
from mathxfer.train.checkpoints import (
    CheckpointMarker,
    ResumedAtTheEnd,
    StopAtTheEnd,
    barrier,
    fsync_tree,
    last_checkpoint,
    last_complete,
)
from mathxfer.train.config import GRPORunConfig, OffPolicyGRPOConfig, OnlineSFTConfig, OnPolicySFTConfig, SFTRunConfig
from mathxfer.train.data import TrainingDataError, dataset_for, task_data
from mathxfer.train.offpolicy import OffPolicyGRPOTrainer, teacher_rollouts
from mathxfer.train.online_sft import OnlineSFTTrainer


@dataclass(frozen=True)
class RunRecord:
    method: str
    output_dir: Path
    seconds: float
    reused: bool

    @property
    def model_dir(self) -> Path:
        return self.output_dir / "model"

    def metrics(self) -> list[dict[str, Any]]:
        return read_json_lines(self.output_dir / "metrics.jsonl", _fix(self.output_dir))

    def info(self) -> dict[str, Any]:
        return read_json(self.output_dir / "run.json", _fix(self.output_dir))


def method_of(config: Any) -> str:
    if isinstance(config, OffPolicyGRPOConfig):
        return "offpolicy_grpo"
    if isinstance(config, OnlineSFTConfig):
        return "online_sft"
    if isinstance(config, GRPORunConfig):
        return "grpo"
    if isinstance(config, OnPolicySFTConfig):
        return "onpolicy_sft"
    if isinstance(config, SFTRunConfig):
        return "sft"
    raise TypeError(f"{type(config).__name__} is not a mathxfer run config")


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _fix(out: Path) -> str:
    return (f"rerun the training (`mathxfer train` or `mathxfer study`): a damaged run is retrained, resuming "
            f"from its last complete checkpoint; or delete {out} and rerun")


# ---- finished runs -------------------------------------------------------------------------------------

def finished_run(output_dir: Path | str, fix: str | None = None) -> bool:
    """Whether the run in ``output_dir`` is finished: False while it has no run.json (never trained, or
    interrupted), True when run.json parses and model/ holds a config and weights that load; DamagedFile
    naming the first damaged file (and ``fix``) when run.json is there but the run does not verify."""
    out = Path(output_dir)
    info = out / "run.json"
    if not info.exists():
        return False
    fix = fix or _fix(out)
    record = read_json(info, fix)
    if not isinstance(record, dict) or "method" not in record:
        raise damaged(info, "not a mathxfer run record: no method", fix)
    _verify_model(out / "model", fix)
    return True


def _verify_model(model: Path, fix: str) -> None:
    """model/ holds a config.json that parses and safetensors weights whose headers parse and cover the file
    (a truncated or emptied file fails); the tokenizer's JSON files parse when they are there."""
    from safetensors import safe_open

    if not model.is_dir():
        raise damaged(model, "missing: the run.json is there but the model folder is not", fix)
    config = model / "config.json"
    if not config.is_file():
        raise damaged(config, "missing", fix)
    read_json(config, fix)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        if (model / name).is_file():
            read_json(model / name, fix)
    index = model / "model.safetensors.index.json"
    if index.is_file():
        listing = read_json(index, fix)
        weight_map = listing.get("weight_map") if isinstance(listing, dict) else None
        if not isinstance(weight_map, dict) or not weight_map:
            raise damaged(index, "no weight_map", fix)
        shards = sorted({model / str(name) for name in weight_map.values()})
    else:
        shards = [model / "model.safetensors"]
    for shard in shards:
        if not shard.is_file():
            raise damaged(shard, "missing", fix)
        if shard.stat().st_size == 0:
            raise damaged(shard, "empty file", fix)
        try:
            with safe_open(str(shard), framework="pt") as handle:
                names = list(handle.keys())
        except Exception as err:  # safetensors raises its own SafetensorError (and OSError) for a bad file
            raise damaged(shard, f"not a readable safetensors file: {err}", fix) from err
        if not names:
            raise damaged(shard, "holds no tensors", fix)


# ---- training ------------------------------------------------------------------------------------------

def _main_process() -> bool:
    """Rank 0 of an ``accelerate launch`` (or the only process): it holds the lock and cleans the folder."""
    return int(os.environ.get("RANK", "0")) == 0


@contextlib.contextmanager
def _writer(out: Path) -> Iterator[None]:
    from mathxfer.locks import folder_lock

    if not _main_process():  # the other ranks follow rank 0, which holds the folder's lock
        yield
        return
    with folder_lock(out):
        yield


def _trainer(config: Any, model: Any, tokenizer: Any, train_set: Any, callbacks: list[Any]) -> Any:
    import trl

    if isinstance(config, GRPORunConfig):
        data = task_data(config.dataset_name)
        if isinstance(config, OffPolicyGRPOConfig):  # the same loss on a teacher's samples (offpolicy.py)
            return OffPolicyGRPOTrainer(model=model, reward_funcs=[data.reward], args=config, train_dataset=train_set,
                                        processing_class=tokenizer, callbacks=callbacks,
                                        rollout_func=teacher_rollouts(config, tokenizer))
        # on-policy SFT re-sampled as it trains: GRPO's sampling, NLL on the first correct answer (online_sft.py)
        trainer = OnlineSFTTrainer if isinstance(config, OnlineSFTConfig) else trl.GRPOTrainer
        return trainer(model=model, reward_funcs=[data.reward], args=config, train_dataset=train_set,
                       processing_class=tokenizer, callbacks=callbacks)
    return trl.SFTTrainer(model=model, args=config, train_dataset=train_set, processing_class=tokenizer,
                          callbacks=callbacks)


def _no_data(out: Path, what: str) -> TrainingDataError:
    return TrainingDataError(f"{out}: {what}, so nothing would be trained and no run is recorded. Fix: raise "
                             "dataset_size (or, for on-policy SFT, onpolicy_samples or a stronger starting model)")


def train(config: Any, recipe: dict[str, Any] | None = None, callbacks: list[Any] | None = None) -> RunRecord:
    """Train the arm ``config`` describes (see ``mathxfer.train.recipes.load``), or reuse a finished run."""
    from mathxfer.models import load_model, load_tokenizer

    method = method_of(config)
    out = Path(config.output_dir)
    with _writer(out):
        damage = None
        try:
            if finished_run(out, fix="retraining the run now"):
                return RunRecord(method, out, 0.0, reused=True)
        except DamagedFile as err:
            damage = err
        main = _main_process()
        resume = last_checkpoint(out) if main else last_complete(out)
        if damage is not None and main:
            _say(f"{damage}, " + (f"resuming from {Path(resume).name}" if resume else "from the start"))
            (out / "run.json").unlink(missing_ok=True)  # run.json stays the last thing written
        start = time.perf_counter()
        tokenizer = load_tokenizer(config.model_name_or_path, gguf_file=config.gguf_file)
        model = load_model(config.model_name_or_path, gguf_file=config.gguf_file)
        train_set = dataset_for(config, model, tokenizer)
        if len(train_set) == 0:
            raise _no_data(out, f"the {method} training set of {config.dataset_name} is empty")
        args = copy.copy(config)  # our marker callback rotates checkpoints instead of transformers
        args.save_total_limit = None
        trainer = _trainer(args, model, tokenizer, train_set,
                           [StopAtTheEnd(), CheckpointMarker(config.save_total_limit), *(callbacks or [])])
        if hasattr(trainer.train_dataset, "__len__") and len(trainer.train_dataset) == 0:
            raise _no_data(out, f"TRL dropped all {len(train_set)} examples (too long or fully masked)")
        try:
            trainer.train(resume_from_checkpoint=resume)
        except ResumedAtTheEnd:
            pass  # the checkpoint was the last step: its weights, now loaded, are the trained model
        if trainer.state.global_step == 0:
            raise _no_data(out, "training ran no optimiser step")
        trainer.save_model(str(out / "model"))
        seconds = time.perf_counter() - start
        if trainer.is_world_process_zero():
            tokenizer.save_pretrained(str(out / "model"))
            fsync_tree(out / "model")  # the weights are on disk before run.json says they are
            history = trainer.state.log_history
            write_atomic(out / "metrics.jsonl", "".join(json.dumps(row) + "\n" for row in history))
            final = next((row for row in reversed(history) if "train_loss" in row), {})
            write_json_atomic(out / "run.json", {
                "method": method, "recipe": recipe or {}, "train_examples": len(train_set),
                "wall_seconds": round(seconds, 1), "final": final,
                "provenance": provenance({"method": method, **(recipe or {})}, seed=config.seed),
            })
        barrier()
        return RunRecord(method, out, seconds, reused=False)
