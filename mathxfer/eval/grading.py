"""One grading function per task, used both to score evaluations and as an RL reward.

Each grader maps (response, gold) to a `Grade`. Maintained libraries do the judging: math-verify for
math answers, lm-eval's IFEval checkers and CoQA EM/F1 (SQuAD metrics), the sandbox for code. Letter
extraction and the HaluEval Yes/No rule are a few lines each and mirror the authors' prompts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Grade:
    extracted: str | None          # what was read off the response (None: nothing usable)
    correct: bool
    score: float                   # in [0, 1]: what the benchmark averages and what a reward returns
    weight: float = 1.0            # IFEval instruction level: the item's number of instructions
    detail: dict[str, Any] = field(default_factory=dict)


Grader = Callable[[str, dict[str, Any]], Grade]


def _binary(extracted: str | None, ok: bool, **detail: Any) -> Grade:
    return Grade(extracted, ok, float(ok), 1.0, detail)


# --- math ------------------------------------------------------------------------------------------

def has_boxed(response: str) -> bool:
    return "\\boxed" in response or "\\fbox" in response


def grade_math(response: str, gold: dict[str, Any]) -> Grade:
    from math_verify import parse, verify

    target = parse(f"${gold['answer']}$")
    pred = parse(response)
    extracted = str(pred[-1]) if pred else None
    ok = bool(pred) and bool(target) and verify(target, pred)
    return _binary(extracted, ok, boxed=has_boxed(response))


# --- multiple choice by letter ----------------------------------------------------------------------

_LETTER_PATTERNS = (
    re.compile(r"\\boxed\{\s*(?:\\text\{|\\mathrm\{|\\textbf\{)?\(?([A-J])\)?\}?\s*\}"),
    re.compile(r"(?i:final answer)\s*[:：]?\s*\**\s*\(?([A-J])\b\)?"),
    re.compile(r"(?i:answer is|answer:)\s*\**\s*\(?([A-J])\b\)?"),
)


def extract_letter(response: str) -> str | None:
    """The chosen option: the last \\boxed{X}, else the last 'Final Answer: X', else 'answer is X'."""
    for pattern in _LETTER_PATTERNS:
        found = pattern.findall(response)
        if found:
            return found[-1].upper()
    stripped = response.strip().strip(".*() ")
    return stripped.upper() if len(stripped) == 1 and stripped.upper() in "ABCDEFGHIJ" else None


def grade_letter(response: str, gold: dict[str, Any]) -> Grade:
    letter = extract_letter(response)
    return _binary(letter, letter == gold["letter"].strip().upper())


def grade_choice(response: str, gold: dict[str, Any]) -> Grade:
    """Log-likelihood benchmarks: the response is the index of the best-scored choice."""
    return _binary(response, response.strip() == str(gold["index"]))


# --- reading comprehension, judges, instructions, code ---------------------------------------------

def grade_coqa(response: str, gold: dict[str, Any]) -> Grade:
    from lm_eval.tasks.coqa.utils import compute_scores  # lm-eval's CoQA EM/F1 (SQuAD normalisation)

    pred = response.strip().split("\n")[0]
    scores = compute_scores(list(gold["answers"]), pred)
    return Grade(pred, scores["em"] == 1.0, float(scores["f1"]), 1.0, {"em": scores["em"]})


def grade_yesno(response: str, gold: dict[str, Any]) -> Grade:
    from mathxfer.eval.halueval import judge_verdict

    verdict = judge_verdict(response)
    return _binary(verdict, verdict is not None and verdict == gold["answer"])


def grade_ifeval(response: str, gold: dict[str, Any]) -> Grade:
    from mathxfer.eval.ifeval import follow

    followed = follow(response, gold)
    return Grade(json.dumps(followed), all(followed), sum(followed) / len(followed), float(len(followed)),
                 {"followed": followed})


def grade_code(response: str, gold: dict[str, Any]) -> Grade:
    from mathxfer.eval.livecodebench import extract_code, run_tests

    code = extract_code(response)
    if code is None:
        return _binary(None, False, reason="no ```python block")
    passed, total, reason = run_tests(code, gold["tests"], gold.get("func_name"))
    return _binary(code, total > 0 and passed == total, passed=passed, total=total, reason=reason)


GRADERS: dict[str, Grader] = {
    "math": grade_math, "letter": grade_letter, "choice": grade_choice, "coqa": grade_coqa,
    "yesno": grade_yesno, "ifeval": grade_ifeval, "code": grade_code,
}


def grader_for(benchmark_or_grader: str) -> Grader:
    from mathxfer.eval.specs import SPECS

    key = SPECS[benchmark_or_grader].grader if benchmark_or_grader in SPECS else benchmark_or_grader
    try:
        return GRADERS[key]
    except KeyError:
        raise ValueError(f"no grader {benchmark_or_grader!r}; use a benchmark name or one of "
                         f"{', '.join(GRADERS)}") from None
