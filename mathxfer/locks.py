"""One writer per results folder: a second process that would write the same folder waits for the first.

The lock is an advisory ``flock`` on ``<folder>/.lock`` holding the owner's pid; the kernel drops it
when the owner exits, however it exits, so a crash never leaves a folder locked.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

LOCK_NAME = ".lock"


def _say(message: str) -> None:
    print(message, file=sys.stderr)


@contextlib.contextmanager
def folder_lock(folder: Path, log: Callable[[str], None] = _say) -> Iterator[None]:
    """Hold ``folder``'s writer lock; if another process holds it, say which and wait for it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK_NAME, "a+") as handle:  # closing it releases the flock
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "unknown"
            log(f"{folder} is being written by process {owner}; waiting for it to finish "
                f"(stop it with `kill {owner}` to take over: its finished work is kept)")
            fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
