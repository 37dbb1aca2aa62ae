"""A programmatic math teacher: "distilled" (off-policy) solutions, shaped like a reasoning model's.

``think``: ``<think>`` a plan in words ``</think>`` then the solution; ``no_think``: the solution alone,
as the paper's no_think_response is its think_response with the reasoning block removed. The solution is
written in the base's notation (``57+83=140. Answer: 140``), as a real teacher's final answer is in the
notation its student already reads (LaTeX, ``\\boxed``); the reasoning block is the style the base
never saw. Both end in ``Answer: N``, where the grader and the RL reward read.

Why this design (measured on the micro base, held-out math 35%, SFT 200 steps x 16 prompts):
- new notation around the numbers costs the arithmetic. A carry-by-carry scratchpad, then a rounding
  split, took math to 0%; "Solution: 57+83=140. The result is 140." to 8% at lr 1e-4 (22% at 1e-3,
  with non-reasoning at 14%); the numbers in a 1M model live in the notation it was pretrained on;
- the same solutions in the base's own notation gain math (35% -> 45% at lr 1e-4, non-reasoning kept).
So the solution keeps the base's notation and the think block carries the new style, with no numbers
of its own to get wrong.
"""

from __future__ import annotations

import random
from typing import Literal

from mathxfer.micro.world import Item

Variant = Literal["think", "no_think"]
TEACHER_VERSION = 4  # bump when a solution's text changes: it is part of every SFT run's key
THINK_OPEN, THINK_CLOSE = "<think>", "</think>"


def plan_and_result(item: Item) -> tuple[str, int]:
    """The plan in words (operands restated, the operation named) and the computed result."""
    if item.group != "math":
        raise ValueError(f"the teacher solves math items only; got family {item.family!r}")
    ops = tuple(int(x) for x in item.meta["ops"])  # type: ignore[union-attr]
    if item.family == "add":
        a, b = ops
        return f"We put the two amounts together, {a} and {b}, so we add.", a + b
    if item.family == "sub":
        a, b = ops
        return f"We start from {a} and take away {b}, so we subtract.", a - b
    if item.family == "mul":
        a, b = ops
        return f"There are {a} groups of {b}, so we multiply.", a * b
    if item.family == "two_step":
        a, b, c = ops
        return f"We start from {a}, add {b}, then take away {c}.", a + b - c
    raise ValueError(f"the teacher solves math items only; got family {item.family!r}")


def solve(item: Item, variant: Variant = "think") -> str:
    """The teacher's solution; asserts its result equals the item's gold answer."""
    plan, result = plan_and_result(item)
    gold = int(item.answer.rsplit("Answer:", 1)[1])
    if result != gold:  # the teacher must never teach a wrong answer
        raise AssertionError(f"teacher computed {result} but gold is {gold} for {item.question!r}")
    if variant == "no_think":
        return item.answer
    if variant == "think":
        return f"{THINK_OPEN}{plan}{THINK_CLOSE} {item.answer}"
    raise ValueError(f"unknown teacher variant {variant!r}; use 'think' or 'no_think'")


def slip(item: Item, variant: Variant, delta: int) -> str:
    """The teacher's solution with a slip: the same text, its result off by ``delta`` (an arithmetic error,
    in the solution and the final answer alike)."""
    if delta == 0:
        raise ValueError("a slip changes the result: delta must not be 0")
    _, result = plan_and_result(item)
    text = solve(item, variant)
    head, tail = text.rsplit(f"Answer: {result}", 1)
    if head.endswith(f"={result}. "):  # the solution's own "=result" just before the answer
        head = head[: -len(f"{result}. ")] + f"{result + delta}. "
    return f"{head}Answer: {result + delta}{tail}"


def sample(item: Item, variant: Variant, error_rate: float, rng: random.Random) -> str:
    """One sample of a teacher that errs: its solution, or with probability ``error_rate`` a slip of 1 to 9
    either way. Off-policy RL needs this: a teacher that is always right gives every sample the same reward,
    so every advantage is 0 and nothing is learnt."""
    if not 0 <= error_rate <= 1:
        raise ValueError(f"teacher_error_rate {error_rate} is not a probability in [0, 1]")
    if rng.random() >= error_rate:
        return solve(item, variant)
    return slip(item, variant, rng.choice([-1, 1]) * rng.randint(1, 9))
