"""Checkpoints that survive a crash: each ``checkpoint-N/`` gets a ``.complete`` marker once every file of it is
on disk, a resume starts from the newest complete one, and a checkpoint is never half deleted.

transformers' own rotation (``save_total_limit``) is done here instead: it deletes the previous checkpoint
before ``on_save`` runs, so a kill between the two would leave no complete checkpoint.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from mathxfer.provenance import write_atomic

COMPLETE = ".complete"  # checkpoint-N/.complete: every file of checkpoint-N is written
CHECKPOINT = re.compile(r"checkpoint-(\d+)")  # transformers' own folder names (trainer_utils._re_checkpoint)
TRASH = ".trash-"  # a checkpoint being deleted is renamed to .trash-checkpoint-N first (atomic), then removed


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _step(path: Path) -> int:
    return int(path.name.split("-")[-1])


def _checkpoints(out: Path) -> list[Path]:
    """checkpoint-N folders, oldest first (by step, not by mtime)."""
    if not out.is_dir():
        return []
    return sorted((p for p in out.iterdir() if CHECKPOINT.fullmatch(p.name) and p.is_dir()), key=_step)


def _complete(path: Path) -> bool:
    return (path / COMPLETE).is_file()


def _discard(path: Path) -> None:
    """Remove a checkpoint so that no reader ever sees part of it: rename it out of the checkpoint-N names
    first (atomic), then delete it."""
    trash = path.with_name(f"{TRASH}{path.name}")
    shutil.rmtree(trash, ignore_errors=True)
    os.replace(path, trash)
    shutil.rmtree(trash, ignore_errors=True)


def _empty_trash(out: Path) -> None:
    for left in out.glob(f"{TRASH}*") if out.is_dir() else []:
        shutil.rmtree(left, ignore_errors=True)


def last_checkpoint(out: Path, log: Callable[[str], None] = _say) -> str | None:
    """The newest complete checkpoint (None: train from the start). Newer checkpoints without the marker
    were interrupted while saving: each is reported in one line and deleted, so that neither
    transformers' resume nor the checkpoint rotation trips over it."""
    _empty_trash(out)
    points = _checkpoints(out)
    complete = [p for p in points if _complete(p)]
    last = complete[-1] if complete else None
    for point in points:
        if last is None or _step(point) > _step(last):
            then = f"resuming from {last.name}" if last else "training from the start"
            log(f"{point} is incomplete (interrupted while saving); {then}")
            _discard(point)
    return str(last) if last else None


def fsync_tree(folder: Path) -> None:
    """Flush every file of ``folder`` to disk, so that the marker never outlives the data after a power loss."""
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def barrier() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()


class CheckpointMarker(TrainerCallback):
    """Writes ``checkpoint-N/.complete`` once the checkpoint is whole, then keeps the newest ``keep`` complete
    checkpoints (transformers' own rotation is switched off: it deletes the previous checkpoint before
    ``on_save`` runs, so a kill between the two would leave no complete checkpoint).

    transformers calls ``on_save`` right after ``Trainer._save_checkpoint`` returns, which has written the
    weights, optimizer, scheduler, scaler, RNG state and trainer_state.json (``_maybe_log_save_evaluate``)."""

    def __init__(self, keep: int | None):
        self.keep = keep

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        barrier()  # every rank has written its share (RNG state, optimizer shards) before the marker
        if not state.is_world_process_zero:
            return
        out = Path(args.output_dir)
        folder = out / f"checkpoint-{state.global_step}"
        if not folder.is_dir():
            return
        fsync_tree(folder)
        write_atomic(folder / COMPLETE, json.dumps({"global_step": state.global_step}) + "\n")
        _fsync_dir(folder)
        if self.keep is not None and self.keep > 0:
            complete = [p for p in _checkpoints(out) if _complete(p)]
            kept = set(complete[-self.keep:])
            if state.best_model_checkpoint:
                kept.add(Path(state.best_model_checkpoint))
            for point in _checkpoints(out):
                if point not in kept and _step(point) < state.global_step:
                    _discard(point)


class ResumedAtTheEnd(Exception):
    """Raised by StopAtTheEnd before a step past the end would run."""


class StopAtTheEnd(TrainerCallback):
    """Resumed from the checkpoint of its last step (killed before model/ was saved, or a damaged run retrained),
    transformers' loop would run one optimiser step more before its stop check (it checks after each step):
    stop before that step, with the checkpoint's weights, optimizer and log already loaded."""

    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.max_steps > 0 and state.global_step >= state.max_steps:
            raise ResumedAtTheEnd


def last_complete(out: Path) -> str | None:
    """The other ranks' view: the newest complete checkpoint (rank 0 deletes the incomplete ones)."""
    complete = [p for p in _checkpoints(out) if _complete(p)]
    return str(complete[-1]) if complete else None
