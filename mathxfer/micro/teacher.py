"""A programmatic math teacher: "distilled" (off-policy) solutions in a style the base never saw.

Shaped like a reasoning model's output: ``<think>`` a plan in words and the working ``</think>``, then a
clean solution. What a 1M model can and cannot learn from such data decided the design:

- a feasibility run's carry-by-carry scratchpad (~73 tokens), and our first teacher's rounding
  decomposition (partial sums the base had never computed), taught the format but not the arithmetic:
  math fell to 0% because every sum had to be relearned in a new notation from 3,200 examples;
- so the working here is written in the base's own notation (``57+83=140``), where its arithmetic
  already lives, and everything new is language the model can copy by attention (the operands
  restated, the plan, the closing sentence). The style still differs from pretraining in every token
  around the numbers, which is what off-policy SFT is about.

The ``no_think`` variant is the solution without the reasoning block, as in the paper's
no_think_response. Both end in ``Answer: N`` so the grader and the RL reward read them the same way.
"""

from __future__ import annotations

from typing import Literal

from mathxfer.micro.world import Item

Variant = Literal["think", "no_think"]
TEACHER_VERSION = 2  # bump when a solution's text changes: it is part of every SFT run's key
THINK_OPEN, THINK_CLOSE = "<think>", "</think>"


def _plan_work_result(item: Item) -> tuple[str, str, int]:
    """(plan in words, the working in the base's notation, the result)."""
    if item.group != "math":
        raise ValueError(f"the teacher solves math items only; got family {item.family!r}")
    ops = tuple(int(x) for x in item.meta["ops"])  # type: ignore[union-attr]
    if item.family == "add":
        a, b = ops
        return f"We put the two amounts together, {a} and {b}, so we add.", f"{a}+{b}={a + b}.", a + b
    if item.family == "sub":
        a, b = ops
        return f"We start from {a} and take away {b}, so we subtract.", f"{a}-{b}={a - b}.", a - b
    if item.family == "mul":
        a, b = ops
        return f"There are {a} groups of {b}, so we multiply.", f"{a}*{b}={a * b}.", a * b
    if item.family == "two_step":
        a, b, c = ops
        return (f"We start from {a}, add {b}, then take away {c}.", f"{a}+{b}={a + b}. {a + b}-{c}={a + b - c}.",
                a + b - c)
    raise ValueError(f"the teacher solves math items only; got family {item.family!r}")


def solve(item: Item, variant: Variant = "think") -> str:
    """The teacher's solution; asserts its final answer equals the item's gold answer."""
    plan, work, result = _plan_work_result(item)
    gold = int(item.answer.rsplit("Answer:", 1)[1])
    if result != gold:  # the teacher must never teach a wrong answer
        raise AssertionError(f"teacher computed {result} but gold is {gold} for {item.question!r}")
    solution = f"Solution: {work} The result is {result}. Answer: {result}"
    if variant == "no_think":
        return solution
    if variant == "think":
        return f"{THINK_OPEN}{plan} {work}{THINK_CLOSE} {solution}"
    raise ValueError(f"unknown teacher variant {variant!r}; use 'think' or 'no_think'")
