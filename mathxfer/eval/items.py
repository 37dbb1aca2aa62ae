"""One benchmark item, as every loader yields it and every grader and task module reads it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Item:
    id: str
    fields: dict[str, Any]                  # what the prompt template is formatted with
    gold: dict[str, Any]                    # what the grader needs (JSON-able)
    choices: tuple[str, ...] = ()           # loglik benchmarks: the continuations to score
    subset: str = ""                        # HaluEval: qa / dialogue / summarization

    def fingerprint(self) -> str:
        """A hash of everything that makes the item what it is: a record of another version is stale."""
        text = json.dumps([self.id, self.fields, self.gold, list(self.choices), self.subset], sort_keys=True,
                          ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def items_fingerprint(items: list[Item]) -> str:
    """What identifies the data a score was computed on (in provenance)."""
    return hashlib.sha256("".join(it.fingerprint() for it in items).encode()).hexdigest()[:16]
