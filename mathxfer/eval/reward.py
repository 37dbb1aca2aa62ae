"""The graders as TRL reward functions: ``reward(prompts, completions, **dataset_columns) -> list[float]``.

GRPOTrainer passes every dataset column as a keyword list aligned with ``completions``. The gold goes
in a ``gold`` column (a dict or its JSON, as the evaluation's Item.gold), or for math simply in an
``answer`` column. Conversational completions (lists of messages) are graded on the last message.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from mathxfer.eval.grading import grader_for

RewardFunc = Callable[..., list[float]]


def _text(completion: Any) -> str:
    if isinstance(completion, str):
        return completion
    return completion[-1]["content"]  # [{"role": "assistant", "content": ...}]


def _gold(kwargs: dict[str, Any], i: int) -> dict[str, Any]:
    if "gold" in kwargs:
        gold = kwargs["gold"][i]
        return json.loads(gold) if isinstance(gold, str) else dict(gold)
    if "answer" in kwargs:
        return {"answer": kwargs["answer"][i]}
    raise ValueError("reward: the dataset needs a 'gold' column (Item.gold as dict/JSON) or, for math, "
                     f"an 'answer' column; got columns {sorted(kwargs)}")


def build_reward(benchmark_or_grader: str = "math") -> RewardFunc:
    """A TRL-signature reward (0..1 per completion) from the grader that scores the benchmark."""
    grade = grader_for(benchmark_or_grader)

    def reward(prompts: list[Any] | None = None, completions: list[Any] | None = None,
               **kwargs: Any) -> list[float]:
        if completions is None:
            raise ValueError("reward: completions are required")
        return [grade(_text(c), _gold(kwargs, i)).score for i, c in enumerate(completions)]

    reward.__name__ = f"{benchmark_or_grader.lower().replace('-', '_')}_reward"  # TRL logs it by name
    return reward
