"""A programmatic math teacher: "distilled" (off-policy) solutions in a style the base never saw.

The feasibility study's teacher wrote a long carry-by-carry scratchpad (~73 tokens); a 1M model
learned its format but copied wrong operands and lost all math. This teacher is designed to be
learnable: it restates the operands first (a copy the model can do by attention), splits the
problem into partial results of the kind the base already computes (a round part and a ones part,
each one short operation with fewer carries), and always ends with ``Answer: N``, so the grader and the RL reward read
it in the same place as the base style. The ``no-think`` variant is the final sentence alone, as in
the paper's no_think_response (the reasoning block removed).
"""

from __future__ import annotations

from typing import Literal

from mathxfer.micro.world import Item

Variant = Literal["think", "no_think"]
THINK_OPEN, THINK_CLOSE = "<think>", "</think>"


def _steps_and_final(item: Item) -> tuple[str, str, int]:
    if item.group != "math":
        raise ValueError(f"the teacher solves math items only; got family {item.family!r}")
    ops = tuple(int(x) for x in item.meta["ops"])  # type: ignore[union-attr]
    if item.family == "add":
        a, b = ops
        tens, ones = (a // 10 + b // 10) * 10, a % 10 + b % 10
        steps = f"Add {a} and {b}. Round: {a // 10 * 10}+{b // 10 * 10}={tens}. Ones: {a % 10}+{b % 10}={ones}. Sum: {tens}+{ones}={a + b}."
        return steps, f"We add {a} and {b} to get {a + b}.", a + b
    if item.family == "sub":
        a, b = ops
        mid = a - b // 10 * 10
        steps = f"Take {b} from {a}. Round: {a}-{b // 10 * 10}={mid}. Ones: {mid}-{b % 10}={a - b}."
        return steps, f"We take {b} from {a} to get {a - b}.", a - b
    if item.family == "mul":
        a, b = ops
        hi, lo = a * (b // 10 * 10), a * (b % 10)
        steps = f"Multiply {a} by {b}. Tens: {a}*{b // 10 * 10}={hi}. Ones: {a}*{b % 10}={lo}. Sum: {hi}+{lo}={a * b}."
        return steps, f"We multiply {a} by {b} to get {a * b}.", a * b
    if item.family == "two_step":
        a, b, c = ops
        steps = f"Start with {a}. Add {b}: {a}+{b}={a + b}. Take {c}: {a + b}-{c}={a + b - c}."
        return steps, f"We add {b} to {a} and take {c} to get {a + b - c}.", a + b - c
    raise ValueError(f"the teacher solves math items only; got family {item.family!r}")


def solve(item: Item, variant: Variant = "think") -> str:
    """The teacher's solution; asserts its final answer equals the item's gold answer."""
    steps, final, result = _steps_and_final(item)
    gold = int(item.answer.rsplit("Answer:", 1)[1])
    if result != gold:  # the teacher must never teach a wrong answer
        raise AssertionError(f"teacher computed {result} but gold is {gold} for {item.question!r}")
    body = f"{final} Answer: {result}"
    if variant == "no_think":
        return body
    if variant == "think":
        return f"{THINK_OPEN}{steps}{THINK_CLOSE} {body}"
    raise ValueError(f"unknown teacher variant {variant!r}; use 'think' or 'no_think'")
