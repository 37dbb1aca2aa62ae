"""Per-sample evaluation records as append-only JSON Lines: crash-safe, resumable.

One line per sample: item id, sample index, prompt, response, extracted answer, correct, score, weight.
An item counts as done when all its samples are on file; an item's lines are written in one write and
fsynced, so an interruption loses at most the item in flight. A torn last line is cut off on reopen.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any


def read_records(path: Path) -> list[dict[str, Any]]:
    """The records on file; a torn trailing line (interrupted write) is truncated away."""
    if not path.is_file():
        return []
    raw = path.read_bytes()
    good_end = raw.rfind(b"\n") + 1
    if good_end < len(raw):
        with open(path, "r+b") as fh:
            fh.truncate(good_end)
    return [json.loads(line) for line in raw[:good_end].decode("utf-8").splitlines() if line.strip()]


def done_items(records: list[dict[str, Any]], n_samples: int) -> set[str]:
    seen: dict[str, set[int]] = defaultdict(set)
    for rec in records:
        seen[rec["item_id"]].add(rec["sample"])
    return {item for item, samples in seen.items() if len(samples) >= n_samples}


def append_records(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(payload)
        fh.flush()
        os.fsync(fh.fileno())


def aggregate(records: list[dict[str, Any]], how: str) -> tuple[float, int]:
    """(score in %, number of items): samples averaged per item, then items per the spec's rule."""
    by_item: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec in records:
        by_item[rec["item_id"]].append(rec)
    if not by_item:
        raise ValueError("no records to aggregate")
    if how == "micro":  # IFEval instruction level: every instruction weighs the same
        num = sum(r["score"] * r["weight"] for r in records)
        return 100.0 * num / sum(r["weight"] for r in records), len(by_item)
    item_scores = {k: sum(r["score"] for r in v) / len(v) for k, v in by_item.items()}
    if how == "subset_mean":  # HaluEval: mean over qa / dialogue / summarization
        subsets: dict[str, list[float]] = defaultdict(list)
        for k, v in by_item.items():
            subsets[v[0].get("subset", "")].append(item_scores[k])
        return 100.0 * sum(sum(s) / len(s) for s in subsets.values()) / len(subsets), len(by_item)
    return 100.0 * sum(item_scores.values()) / len(item_scores), len(by_item)
