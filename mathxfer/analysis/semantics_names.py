"""The names of the two analysis semantics, a leaf module so ``tokens`` can use them while
``semantics`` (which builds the configs) imports ``tokens`` and ``hidden``."""

from __future__ import annotations

from typing import Literal, cast

Semantics = Literal["official", "paper"]
SEMANTICS: tuple[Semantics, ...] = ("official", "paper")
# The epsilon added to each sampled-token probability before the log ratio: calculate_KL.py's 1e-10.
KL_SMOOTHING: dict[Semantics, float] = {"official": 1e-10, "paper": 0.0}


def check_semantics(value: str) -> Semantics:
    """``value`` as a Semantics, or a ValueError naming the choices."""
    if value not in SEMANTICS:
        raise ValueError(f"semantics={value!r}; use one of {', '.join(map(repr, SEMANTICS))} "
                         "('official': the authors' scripts, 'paper': the paper's text)")
    return cast(Semantics, value)


def other_semantics(value: Semantics) -> Semantics:
    """The semantics that is not ``value`` (the book shows each number under both)."""
    check_semantics(value)
    return SEMANTICS[1 - SEMANTICS.index(value)]
