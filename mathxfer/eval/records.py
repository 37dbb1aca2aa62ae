"""Per-sample evaluation records as append-only JSON Lines: crash-safe, resumable.

One line per sample: item id, the item's fingerprint, sample index, prompt, response, extracted answer,
correct, score, weight. A record counts only for the item it was made from (same id and fingerprint: a
changed data file makes its items' records stale, and they are redone) and is keyed by (item, sample): when
an item is redone after a torn write, its new samples replace the old ones, and a line written twice counts
once. An item is done when all its samples are on file. An item's lines are written in one write and
fsynced, so an interruption loses at most the item in flight; a torn last line is cut off on reopen.
Writers hold the run folder's lock (``mathxfer.locks``), so two evaluations never append at once.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

from mathxfer.errors import damaged
from mathxfer.eval.items import Item


def read_records(path: Path) -> list[dict[str, Any]]:
    """The records on file; a torn trailing line (interrupted write) is truncated away, a damaged line
    elsewhere is an error naming it."""
    if not path.is_file():
        return []
    raw = path.read_bytes()
    good_end = raw.rfind(b"\n") + 1
    if good_end < len(raw):
        with open(path, "r+b") as fh:
            fh.truncate(good_end)
    records = []
    for number, line in enumerate(raw[:good_end].decode("utf-8", "replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            record = err.msg
        if not (isinstance(record, dict) and "item_id" in record and "sample" in record):
            raise damaged(path, "the line is not an evaluation record (JSON with item_id and sample)",
                          "delete that line (or the file) and rerun the same `mathxfer eval`: only the items "
                          "without records are evaluated again", number)
        records.append(record)
    return records


def current_records(records: list[dict[str, Any]], items: list[Item], n_samples: int) -> list[dict[str, Any]]:
    """The records of ``items`` as they are now, one per (item, sample) (the last written wins)."""
    wanted = {it.id: it.fingerprint() for it in items}
    latest: dict[tuple[str, int], dict[str, Any]] = {}
    for rec in records:
        if wanted.get(rec["item_id"]) == rec.get("item_fingerprint") and 0 <= rec["sample"] < n_samples:
            latest[(rec["item_id"], rec["sample"])] = rec
    return list(latest.values())


def done_items(records: list[dict[str, Any]], n_samples: int) -> set[str]:
    """Items with all their samples among ``records`` (current ones: see ``current_records``)."""
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
