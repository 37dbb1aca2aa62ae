"""The one place that knows the repository layout."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent


def data_dir() -> Path:
    """Committed inputs: the paper's reported figures and small shipped artifacts."""
    return Path(os.environ.get("MATHXFER_DATA", REPO_ROOT / "data"))


def paper_dir() -> Path:
    return data_dir() / "paper"


def results_dir() -> Path:
    """Computed results (evaluations, training runs), keyed by configuration; not committed."""
    return Path(os.environ.get("MATHXFER_RESULTS", REPO_ROOT / "results"))
