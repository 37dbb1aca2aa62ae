"""The texts the analyses read: raw held-out questions of the micro families; for the latent analysis each
benchmark's raw rows as the authors' PCA-shift script joins them (its spec's ``latent`` columns); for the
token analysis each benchmark's prompt (its spec's template), which the models answer."""

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


def _draw(texts: list[str], n_samples: int, seed: int, first: bool) -> list[str]:
    texts = [t for t in texts if t.strip()]
    if not first and len(texts) > n_samples:
        texts = random.Random(seed).sample(texts, n_samples)
    return texts[:n_samples]


def benchmark_texts(names: Sequence[str], n_samples: int, seed: int, data_dir: str | Path | None = None,
                    limit: int | None = None) -> dict[str, list[str]]:
    """Each benchmark's latent-analysis text: its raw rows' listed columns (problem + solution + answer for
    MATH500, the question, options and explanation for GPQA, the prompt for IFEval, ...), ``n_samples`` rows
    drawn with ``seed``; ``limit`` reads only the first N rows."""
    from mathxfer.eval.data import default_data_dir, load_rows
    from mathxfer.eval.specs import spec

    out: dict[str, list[str]] = {}
    for name in names:
        benchmark = spec(name)
        latent = benchmark.latent
        sources = load_rows(benchmark, default_data_dir(data_dir))
        if latent.source is not None:
            sources = sources[latent.source:latent.source + 1]
        rows = [row for src in sources for row in src.rows][:limit]
        out[name] = _draw([latent.text(row) for row in rows], n_samples, seed, first=False)
    return out


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
        out[name] = _draw([spec(name).prompt.format(**it.fields) for it in items], n_samples, seed, first)
    return out
