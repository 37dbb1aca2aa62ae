"""Greedy batched evaluation of a micro model on the held-out sets, graded by the shared grader."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from transformers import PreTrainedModel, PreTrainedTokenizerBase

from mathxfer.generation import generate_texts
from mathxfer.groups import Group
from mathxfer.micro import world
from mathxfer.micro.grading import is_correct, render
from mathxfer.micro.world import Item

# Room for the teacher's think-style answers (<= ~64 tokens); other groups answer in a few tokens.
MAX_NEW_TOKENS: dict[Group, int] = {"math": 96, "other": 32, "non": 32}


@dataclass(frozen=True)
class Record:
    group: str
    family: str
    question: str
    answer: str
    response: str
    correct: bool
    correct_lenient: bool


@dataclass(frozen=True)
class EvalResult:
    records: tuple[Record, ...]

    def accuracy(self, by: str = "group", lenient: bool = False) -> dict[str, float]:
        """Accuracy per ``group`` or per ``family``."""
        hits: dict[str, list[bool]] = defaultdict(list)
        for r in self.records:
            hits[getattr(r, by)].append(r.correct_lenient if lenient else r.correct)
        return {k: sum(v) / len(v) for k, v in hits.items()}

    def to_rows(self) -> list[dict[str, object]]:
        return [asdict(r) for r in self.records]


def generate(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, questions: Sequence[str],
             max_new_tokens: int, batch_size: int = 128, do_sample: bool = False,
             temperature: float = 1.0) -> list[str]:
    """Responses (special tokens dropped) to ``questions`` in the micro chat format, through the one
    generation engine; greedy by default, sampling from the caller's seeded stream otherwise."""
    return generate_texts(model, tokenizer, [render(q) for q in questions], max_new_tokens=max_new_tokens,
                          batch_size=batch_size, greedy=not do_sample, temperature=temperature)


def evaluate_items(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, items: Sequence[Item],
                   batch_size: int = 128) -> EvalResult:
    records: list[Record] = []
    for group in world.GROUPS:
        subset = [it for it in items if it.group == group]
        if not subset:
            continue
        responses = generate(model, tokenizer, [it.question for it in subset], MAX_NEW_TOKENS[group], batch_size)
        records += [Record(it.group, it.family, it.question, it.answer, resp, is_correct(it, resp),
                           is_correct(it, resp, lenient=True)) for it, resp in zip(subset, responses)]
    return EvalResult(tuple(records))


def heldout_items(n_per_group: int = 200) -> list[Item]:
    """The fixed held-out evaluation set: ``n_per_group`` items per group, fixed eval seeds."""
    return [it for g in world.GROUPS for it in world.heldout_set(g, n_per_group)]


def evaluate(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, n_per_group: int = 200,
             batch_size: int = 128) -> EvalResult:
    return evaluate_items(model, tokenizer, heldout_items(n_per_group), batch_size)


EVAL_CACHE_FIX = "delete it; it is a cache and is recomputed by the next `mathxfer study`"


def read_evaluation(path: str | Path) -> dict[str, Any]:
    """A cached held-out evaluation (what ``evaluate_cached`` writes), checked, or ``DamagedFile`` naming it."""
    from mathxfer.errors import damaged, read_json

    path = Path(path)
    payload = read_json(path, EVAL_CACHE_FIX)
    if not isinstance(payload, dict):
        raise damaged(path, f"a JSON {type(payload).__name__}, not an evaluation object", EVAL_CACHE_FIX)
    for key in ("family", "group"):
        value = payload.get(key)
        if not isinstance(value, dict) or not all(isinstance(v, (int, float)) and 0 <= v <= 1
                                                  for v in value.values()):
            raise damaged(path, f"no '{key}' accuracies (a mapping of name to a fraction in [0, 1])",
                          EVAL_CACHE_FIX)
    records = payload.get("records")
    fields = ("family", "question", "response")
    if not isinstance(records, list) or not all(isinstance(r, dict) and all(f in r for f in fields)
                                                for r in records):
        raise damaged(path, f"no 'records' list with {', '.join(fields)} in each", EVAL_CACHE_FIX)
    return payload


EVAL_VERSION = 1  # bump when the evaluation protocol changes, so cached evaluations are redone


def evaluate_cached(model_dir: str | Path, n_per_group: int = 200) -> tuple[Path, dict[str, Any]]:
    """The held-out evaluation of one micro model: (its file, its payload: accuracy per family and group
    and every record), cached under the model's identity and the world's fingerprint, so a retrained model
    or a changed world is evaluated anew and an unchanged one never is."""
    import hashlib
    import time

    from mathxfer.models import identity, load_model, load_tokenizer
    from mathxfer.paths import micro_eval_dir, repo_path
    from mathxfer.provenance import provenance, write_json_atomic

    model_dir = repo_path(model_dir).resolve()
    model_id = identity(str(model_dir))
    digest = hashlib.sha256(model_id.encode()).hexdigest()[:12]
    path = micro_eval_dir() / f"w{world.fingerprint()}-n{n_per_group}-v{EVAL_VERSION}-{digest}.json"
    if path.exists():
        return path, read_evaluation(path)
    start = time.perf_counter()
    result = evaluate(load_model(str(model_dir)), load_tokenizer(str(model_dir)), n_per_group=n_per_group)
    payload = {"model": str(model_dir), "model_identity": model_id, "eval_n": n_per_group,
               "seconds": round(time.perf_counter() - start, 1),
               "family": result.accuracy("family"), "group": result.accuracy("group"), "records": result.to_rows(),
               "provenance": provenance({"model_identity": model_id, "eval_n": n_per_group,
                                         "world": world.fingerprint(), "version": EVAL_VERSION})}
    write_json_atomic(path, payload)
    return path, payload
