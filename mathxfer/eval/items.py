"""One benchmark item, as every loader yields it and every grader and task module reads it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Item:
    id: str
    fields: dict[str, Any]                  # what the prompt template is formatted with
    gold: dict[str, Any]                    # what the grader needs (JSON-able)
    choices: tuple[str, ...] = ()           # loglik benchmarks: the continuations to score
    subset: str = ""                        # HaluEval: qa / dialogue / summarization
