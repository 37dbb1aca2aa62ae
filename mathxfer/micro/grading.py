"""The chat format and the one grading function that evaluation and the RL reward both use.

A conversation renders as ``<|user|>question<|assistant|>answer<|end|>``; ``<|end|>`` is the EOS
token, so generation stops there. Math is graded on the integer after the final ``Answer:``;
every other family on the exact answer string.

Exact vs lenient:
  * math, exact: the response must end in ``Answer: N`` (an optional final period) with N == gold.
    Lenient: the last ``Answer: N`` / ``answer is N`` anywhere, else the last integer in the response.
  * other families, exact: ``response.strip() == gold``. Lenient: whitespace collapsed, surrounding
    quotes and a final period dropped, list spacing normalised, and case folded only where case is
    not what the task checks (never for the ``upper`` instruction, for example).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from mathxfer.micro.world import FAMILIES, Item

USER, ASSISTANT, END, PAD, UNK = "<|user|>", "<|assistant|>", "<|end|>", "<|pad|>", "<|unk|>"
SPECIAL_TOKENS: tuple[str, ...] = (PAD, UNK, USER, ASSISTANT, END)

_EXACT_MATH = re.compile(r"Answer:\s*(-?\d+)\s*\.?\s*$")
_ANY_ANSWER = re.compile(r"(?:Answer:|answer is)\s*(-?[\d,]+)", re.IGNORECASE)
_INT = re.compile(r"-?\d+")


def render(question: str, answer: str | None = None) -> str:
    """The raw text the model sees (what the tokenizer's chat template also produces)."""
    text = f"{USER}{question}{ASSISTANT}"
    return text if answer is None else f"{text}{answer}{END}"


def messages(question: str, answer: str | None = None) -> list[dict[str, str]]:
    """The same conversation in the conversational format TRL and ``apply_chat_template`` take."""
    out = [{"role": "user", "content": question}]
    if answer is not None:
        out.append({"role": "assistant", "content": answer})
    return out


def extract_math(response: str, lenient: bool = False) -> int | None:
    """The final integer answer of a math response, or None when there is none."""
    if not lenient:
        m = _EXACT_MATH.search(response.strip())
        return int(m.group(1)) if m else None
    hits = _ANY_ANSWER.findall(response)
    if hits:
        digits = hits[-1].replace(",", "")
        return int(digits) if _INT.fullmatch(digits) else None
    ints = _INT.findall(response)
    return int(ints[-1]) if ints else None


def _normalise(text: str, fold_case: bool) -> str:
    text = " ".join(text.split()).strip("\"'`").rstrip(".").strip()
    text = re.sub(r"\s*,\s*", ", ", text)
    return text.lower() if fold_case else text


def grade(family: str, gold: str, response: str, lenient: bool = False) -> bool:
    """Whether ``response`` answers an item of ``family`` whose gold answer is ``gold``."""
    if family not in FAMILIES:
        raise KeyError(f"unknown family {family!r}; known: {', '.join(FAMILIES)}")
    response = response.replace(END, "")
    if FAMILIES[family].group == "math":
        want = extract_math(gold)
        if want is None:  # gold given as a bare number (e.g. an RL dataset's answer column)
            want = int(gold)
        return extract_math(response, lenient) == want
    if not lenient:
        return response.strip() == gold
    fold = not FAMILIES[family].case_sensitive
    return _normalise(response, fold) == _normalise(gold, fold)


def is_correct(item: Item, response: str, lenient: bool = False) -> bool:
    return grade(item.family, item.answer, response, lenient)


def completion_text(completion: Any) -> str:
    """TRL passes completions as strings or as message lists; both become text."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence) and completion and isinstance(completion[-1], dict):
        return str(completion[-1].get("content", ""))
    raise TypeError(f"cannot read a completion of type {type(completion).__name__}; "
                    "expected a string or a list of {'role', 'content'} messages")


def reward(completions: list[Any], answer: list[str], task: list[str], **_: Any) -> list[float]:
    """A TRL reward function (``GRPOTrainer(reward_funcs=reward)``): 1.0 when correct, else 0.0.

    ``answer`` and ``task`` are dataset columns (gold answer, family name) that TRL forwards.
    """
    return [float(grade(t, a, completion_text(c))) for c, a, t in zip(completions, answer, task, strict=True)]
