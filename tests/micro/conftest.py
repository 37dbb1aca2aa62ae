"""Micro tests run on one thread (the machine is shared; torch's default threading is 30-50x slower)."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def small_tokenizer():
    """A tokenizer trained on a small corpus (fast), for tests that must not depend on the shipped one."""
    from mathxfer.micro.tokenizer import corpus, train_tokenizer

    return train_tokenizer(corpus(3000, seed=1))
