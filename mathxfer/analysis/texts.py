"""The texts the analyses read: raw held-out questions of the micro families, or each benchmark's prompt
text from its spec (``mathxfer.eval``)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

from mathxfer.groups import Group


def micro_tasks() -> dict[str, Group]:
    from mathxfer.micro.world import FAMILIES

    return {name: fam.group for name, fam in FAMILIES.items()}


def micro_texts(n_samples: int, seed: int) -> dict[str, list[str]]:
    """Raw held-out question text per micro family: ``n_samples`` items drawn with ``seed``."""
    from mathxfer.micro.world import sample_family

    return {name: [it.question for it in sample_family(name, n_samples, seed, "heldout")] for name in micro_tasks()}


def benchmark_prompts(names: Sequence[str], n_samples: int, seed: int, data_dir: str | Path | None = None,
                      limit: int | None = None, first: bool = False) -> dict[str, list[str]]:
    """Each benchmark's prompt text (its spec's template, no chat template) from ``mathxfer.eval``:
    ``n_samples`` items drawn with ``seed`` (``first``: the first ones, as the token analysis uses);
    ``limit`` reads only the first N items (offline smoke runs)."""
    from mathxfer.eval.data import load_items
    from mathxfer.eval.specs import spec

    out: dict[str, list[str]] = {}
    for name in names:
        items, _ = load_items(name, data_dir, seed=seed, limit=limit)
        texts = [t for t in (spec(name).prompt.format(**it.fields) for it in items) if t.strip()]
        if not first and len(texts) > n_samples:
            texts = random.Random(seed).sample(texts, n_samples)
        out[name] = texts[:n_samples]
    return out
