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
