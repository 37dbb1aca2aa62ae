"""GSM8K's worked solutions as the smol study's SFT targets: what plays the paper's Qwen3-32B teacher.

The paper distils think and no-think responses from Qwen3-32B; the smol study has no teacher model, so the
human-written GSM8K solutions are the teacher. One row yields both targets, with the same final answer:

- **no-think**: the solution as written (its calculator annotations ``<<48/2=24>>`` removed), then the answer
  in the format the RL reward and the math benchmarks read (``\\boxed{}``);
- **think**: a reasoning block first (``<think>`` ... ``</think>``) that restates what is asked and checks each
  calculation the solution makes, one line per annotation, then the same solution and answer.

So the two arms differ only by the reasoning block, as the paper's two targets do; think targets are longer.
A row's *steps* are its annotated calculations: the headroom filter of ``mathxfer.train.data`` keeps the
short problems SmolLM2-135M can reach.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_ANNOTATION = re.compile(r"<<([^>=]*)=([^>]*)>>")
THINK_OPEN, THINK_CLOSE = "<think>", "</think>"


@dataclass(frozen=True)
class Solution:
    """One GSM8K training row, parsed."""

    question: str
    answer: str  # the gold number, without thousands separators
    solution: str  # the written solution, annotations removed, without the ``#### answer`` line
    calculations: tuple[tuple[str, str], ...]  # (expression, result) of every annotation, in order

    @property
    def steps(self) -> int:
        return len(self.calculations)


def parse(row: dict[str, Any]) -> Solution:
    """A GSM8K row (``question``, ``answer`` = solution + ``#### N``) as a Solution; ValueError naming the row
    when it has no ``####`` answer line."""
    written, sep, final = str(row["answer"]).rpartition("####")
    if not sep or not final.strip():
        raise ValueError(f"GSM8K row {str(row.get('question', ''))[:60]!r}: no '#### answer' line")
    calculations = tuple((expr.strip(), result.strip()) for expr, result in _ANNOTATION.findall(written))
    return Solution(question=str(row["question"]), answer=final.strip().replace(",", ""),
                    solution=_ANNOTATION.sub("", written).strip(), calculations=calculations)


def boxed(answer: str) -> str:
    return f"The final answer is $\\boxed{{{answer}}}$."


def no_think_target(sol: Solution) -> str:
    return f"{sol.solution}\n{boxed(sol.answer)}"


def _asked(question: str) -> str:
    """The question's last sentence (what is asked), or the whole question when it has one sentence."""
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", question.strip()) if s.strip()]
    return sentences[-1] if sentences else question.strip()


def think_target(sol: Solution) -> str:
    checks = [f"Step {i}: {expr} = {result}." for i, (expr, result) in enumerate(sol.calculations, 1)]
    block = "\n".join([f"The question asks: {_asked(sol.question)}", *checks, f"So the answer is {sol.answer}."])
    return f"{THINK_OPEN}\n{block}\n{THINK_CLOSE}\n{no_think_target(sol)}"


TARGETS = {"think": think_target, "no-think": no_think_target}


def target(sol: Solution, kind: str) -> str:
    if kind not in TARGETS:
        raise ValueError(f"GSM8K SFT targets are {', '.join(TARGETS)}, not {kind!r}: set sft_target to one of them")
    return TARGETS[kind](sol)
