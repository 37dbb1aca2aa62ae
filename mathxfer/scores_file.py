"""The benchmark-scores results file: what `mathxfer eval` writes and the survey reads.

A JSON object::

    {"schema": "mathxfer/scores@1",
     "provenance": {"config": ..., "seed": ..., "versions": ..., "git_sha": ..., ...},
     "scores": [{"model": "my-rl-model", "base_model": "Qwen3-14B-Base", "benchmark": "MATH500",
                 "score": 88.1, "n": 500, "method": "RL", "family": "Qwen3-14B-Base"}, ...]}

``score`` is accuracy in percent (0-100) over ``n`` items; ``base_model`` is empty for a base model;
``method`` (base, SFT, RL, official, other) and ``family`` are optional.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mathxfer.errors import DamagedFile, UsageError, read_json
from mathxfer.groups import KNOWN_BENCHMARKS
from mathxfer.provenance import write_json_atomic

SCHEMA = "mathxfer/scores@1"
METHODS = ("base", "SFT", "RL", "official", "other")


REWRITE = "delete it and rerun the same `mathxfer eval`: the scores are recomputed from the per-sample records"


class ScoresFileError(UsageError):
    """A scores file that cannot be used; the message names the file, the problem and the fix."""


@dataclass(frozen=True)
class ScoreRecord:
    model: str
    base_model: str
    benchmark: str
    score: float
    n: int
    method: str = "other"
    family: str = ""


def _check(record: dict[str, Any], where: str) -> ScoreRecord:
    missing = [k for k in ("model", "base_model", "benchmark", "score", "n") if k not in record]
    if missing:
        raise ScoresFileError(f"{where}: missing field(s) {', '.join(missing)}; each score needs "
                              "model, base_model ('' for a base), benchmark, score (0-100) and n")
    unknown = set(record) - {f for f in ScoreRecord.__dataclass_fields__}
    if unknown:
        raise ScoresFileError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    if not isinstance(record["model"], str) or not record["model"].strip():
        raise ScoresFileError(f"{where}: 'model' must be a non-empty name")
    if record["base_model"] is not None and not isinstance(record["base_model"], str):
        raise ScoresFileError(f"{where}: 'base_model' {record['base_model']!r} must be a model name ('' for a base)")
    if not isinstance(record.get("family", ""), (str, type(None))):
        raise ScoresFileError(f"{where}: 'family' {record['family']!r} must be a name")
    if record["benchmark"] not in KNOWN_BENCHMARKS:
        raise ScoresFileError(f"{where}: unknown benchmark {record['benchmark']!r}; "
                              f"use one of {', '.join(KNOWN_BENCHMARKS)}")
    score = record["score"]
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not 0 <= score <= 100:
        raise ScoresFileError(f"{where}: score {score!r} is not a percentage in [0, 100] "
                              "(write 61.2 for 61.2%, not 0.612)")
    n = record["n"]
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise ScoresFileError(f"{where}: n {n!r} must be the positive number of items scored")
    method = record.get("method", "other")
    if method not in METHODS:
        raise ScoresFileError(f"{where}: method {method!r} is not one of {', '.join(METHODS)}")
    return ScoreRecord(model=record["model"], base_model=record["base_model"] or "",
                       benchmark=record["benchmark"], score=float(score), n=n, method=method,
                       family=record.get("family", "") or "")


def read_scores(path: Path | str) -> tuple[list[ScoreRecord], dict[str, Any]]:
    """Read and validate a scores file: (records, provenance)."""
    path = Path(path)
    if not path.is_file():
        raise ScoresFileError(f"{path}: no such scores file; pass a file written by `mathxfer eval`")
    if path.suffix.lower() == ".csv":
        raise ScoresFileError(f"{path}: a CSV score table, not a scores file (the JSON `mathxfer eval` writes); "
                              "pass a table as `mathxfer survey ti --scores FILE` (the survey chapter's -p scores=)")
    try:
        payload = read_json(path, REWRITE)
    except DamagedFile as err:
        raise ScoresFileError(str(err)) from err
    if not isinstance(payload, dict) or payload.get("schema") != SCHEMA:
        raise ScoresFileError(f"{path}: expected a JSON object with \"schema\": \"{SCHEMA}\"")
    if not isinstance(payload.get("provenance"), dict):
        raise ScoresFileError(f"{path}: missing the 'provenance' object (config, seed, versions, git sha)")
    rows = payload.get("scores")
    if not isinstance(rows, list) or not rows:
        raise ScoresFileError(f"{path}: 'scores' must be a non-empty list")
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ScoresFileError(f"{path}: scores[{i}] is a JSON {type(row).__name__}, not an object with "
                                  "model, base_model, benchmark, score and n")
    records = [_check(row, f"{path}: scores[{i}]") for i, row in enumerate(rows)]
    seen: dict[tuple[str, str], int] = {}
    base_of: dict[str, tuple[str, int]] = {}
    for i, rec in enumerate(records):
        if (rec.model, rec.benchmark) in seen:
            raise ScoresFileError(f"{path}: scores[{i}]: {rec.model} has two scores for {rec.benchmark} "
                                  f"(also scores[{seen[rec.model, rec.benchmark]}]); keep one")
        seen[rec.model, rec.benchmark] = i
        base, first = base_of.setdefault(rec.model, (rec.base_model, i))
        if base != rec.base_model:
            raise ScoresFileError(f"{path}: scores[{i}]: {rec.model} has base_model {rec.base_model!r} but "
                                  f"{base!r} in scores[{first}]; a model has one base")
    return records, payload["provenance"]


def write_scores(path: Path | str, records: Iterable[ScoreRecord], provenance: dict[str, Any]) -> None:
    """Write a scores file atomically (validated on the way, so a bad record never lands)."""
    rows = [asdict(r) for r in records]
    for i, row in enumerate(rows):
        _check(row, f"{path}: scores[{i}]")
    write_json_atomic(Path(path), {"schema": SCHEMA, "provenance": provenance, "scores": rows})
