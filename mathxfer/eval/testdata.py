"""Where the offline benchmark copies live: $MATHXFER_BENCHMARKS, else ../shared/benchmarks beside the repo."""

from __future__ import annotations

import os
from pathlib import Path

from mathxfer.paths import REPO_ROOT


def benchmarks_dir() -> Path:
    return Path(os.environ.get("MATHXFER_BENCHMARKS") or Path(REPO_ROOT).parent / "shared" / "benchmarks")
