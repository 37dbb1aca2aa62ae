"""Shared fixtures. Threads are pinned: on a busy 2-core machine torch's defaults run 30-50x slower."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402

from mathxfer.paths import REPO_ROOT  # noqa: E402


@pytest.fixture(scope="session")
def repo_root():
    return REPO_ROOT
