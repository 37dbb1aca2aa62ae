"""The one place that knows the repository layout and the results layout.

Results (not committed) live under ``results_dir()``, one subfolder per kind, each named only here::

    train/<profile>/<method>-<key>/   training runs (mathxfer.train.run documents a run folder)
    eval/<model>-<key>/               benchmark evaluations (mathxfer.eval.runner)
    micro-eval/<key>.json             held-out evaluations of micro models
    study/<profile>-<key>/study.json  study records (mathxfer.study.record)
    logs/                             trainer logs of study runs
    hidden/ tokens/ umap/ responses/  analysis caches
    onpolicy/                         rejection samples of on-policy SFT, shared by runs that differ only in training
    file_hashes.json                  memo of file hashes behind model identities

The store is ``results/`` in the repository unless ``$MATHXFER_RESULTS`` names another folder; ``--results DIR``
(``use_results_dir``) sets that variable, so worker processes, ``accelerate launch`` and notebook kernels all
read the same store. Records inside it name their files relative to the store (``results_relative`` /
``in_results``), so a store copied from a cluster or moved elsewhere still reads.
"""

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


def recipes_dir() -> Path:
    return REPO_ROOT / "recipes"


RESULTS_ENV = "MATHXFER_RESULTS"


def results_dir() -> Path:
    """Computed results (evaluations, training runs), keyed by configuration; not committed."""
    return Path(os.environ.get(RESULTS_ENV, REPO_ROOT / "results"))


def use_results_dir(path: str | Path) -> Path:
    """Make ``path`` the results store of this process and of every process it starts, through the one
    override ``results_dir`` reads; returns it, absolute. A path that is a file is refused."""
    from mathxfer.errors import UsageError

    root = Path(path).expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise UsageError(f"--results {path}: {root} is a file, not a folder; give the results folder "
                         "(the one holding train/, eval/, study/)")
    os.environ[RESULTS_ENV] = str(root)
    return root


def results_relative(path: str | Path) -> str:
    """How a record stores a file: relative to the results store when inside it (so the store can move),
    else as given (a hub id, a base model outside the store)."""
    try:
        return str(Path(path).resolve().relative_to(results_dir().resolve()))
    except ValueError:
        return str(path)


def in_results(stored: str, store: Path | None = None) -> str:
    """A path a record stored with ``results_relative``, under ``store`` (default: the current results store);
    an absolute path (an older record, a file outside the store) as stored."""
    return stored if Path(stored).is_absolute() else str((store or results_dir()) / stored)


def train_dir(profile: str) -> Path:
    return results_dir() / "train" / profile


def eval_dir() -> Path:
    return results_dir() / "eval"


def micro_eval_dir() -> Path:
    return results_dir() / "micro-eval"


def study_dir() -> Path:
    return results_dir() / "study"


def logs_dir() -> Path:
    return results_dir() / "logs"


def cache_dir(kind: str) -> Path:
    """A cache: hidden, tokens, umap or responses (analyses), onpolicy (rejection samples)."""
    if kind not in ("hidden", "tokens", "umap", "responses", "onpolicy"):
        raise ValueError(f"unknown cache {kind!r}")
    return results_dir() / kind


def file_hashes_path() -> Path:
    return results_dir() / "file_hashes.json"


def repo_path(path: str | Path) -> Path:
    """A repository-relative path works from any folder (notebooks run in notebooks/); others as given."""
    p = Path(path).expanduser()
    if not p.exists() and not p.is_absolute() and (REPO_ROOT / p).exists():
        return REPO_ROOT / p
    return p
