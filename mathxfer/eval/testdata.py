"""Where the offline benchmark copies live: $MATHXFER_DATA_DIR, else ../shared/benchmarks beside the repo."""

from __future__ import annotations

from pathlib import Path

from mathxfer.eval.data import default_data_dir
from mathxfer.paths import REPO_ROOT


def benchmarks_dir() -> Path:
    return default_data_dir() or REPO_ROOT.parent / "shared" / "benchmarks"
