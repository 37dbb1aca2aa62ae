"""`mathxfer eval`: generate, grade, record and aggregate, resumably.

Layout under --out: ``<model-slug>-<config key>/`` holding ``records/<BENCH>-v<version>.jsonl``
(per-sample records), ``run.json`` (model revision) and ``scores.json`` (a mathxfer/scores@1 file
with provenance, rewritten atomically after each benchmark). The key hashes everything that changes
the numbers (the model's content identity, seed, limit, token budget, backend), and each record carries
its item's fingerprint, so a rerun with the same options resumes in place: finished items are skipped, a
complete benchmark is not redone, and items whose data changed are evaluated again. One process writes a
run folder at a time (``mathxfer.locks``).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from mathxfer.errors import read_json
from mathxfer.eval.backends import Backend
from mathxfer.eval.data import BenchmarkMissing, Item, load_items
from mathxfer.eval.grading import grader_for
from mathxfer.eval.items import items_fingerprint
from mathxfer.eval.records import (
    aggregate,
    append_records,
    current_records,
    done_items,
    read_records,
)
from mathxfer.eval.specs import BenchmarkSpec, Sampling
from mathxfer.eval.specs import spec as get_spec
from mathxfer.locks import folder_lock
from mathxfer.paths import eval_dir
from mathxfer.provenance import config_key, provenance, write_json_atomic
from mathxfer.scores_file import ScoreRecord, read_scores, write_scores

BackendFactory = Callable[[], Backend]


@dataclass(frozen=True)
class EvalConfig:
    model: str
    benchmarks: tuple[str, ...]
    gguf_file: str | None = None
    base: str | None = None            # the tuned model's own base ('' in the scores file for a base)
    name: str | None = None            # the model's name in the scores file (default: from --model)
    method: str | None = None          # RL | SFT | official: how the tuned model was trained (the survey's grouping)
    limit: int | None = None
    limits: tuple[tuple[str, int], ...] = ()  # (benchmark, first N items) pairs that replace ``limit`` for it
    data_dir: str | None = None
    out: str | None = None
    seed: int = 0
    thinking: bool = False             # the released UniReason prompts have thinking off
    max_new_tokens: int | None = None  # None: the paper's 32,768
    batch_size: int = 8
    backend: str = "transformers"
    tensor_parallel_size: int = 1

    @property
    def display_name(self) -> str:
        return self.name or (Path(self.gguf_file).stem if self.gguf_file else Path(self.model.rstrip("/")).name)

    def key_config(self) -> dict[str, Any]:
        from mathxfer.models import (
            identity,  # the one model identity: weights, not the path, key the run
        )

        key = {"model": identity(self.model, gguf_file=self.gguf_file), "seed": self.seed, "limit": self.limit,
               "thinking": self.thinking, "max_new_tokens": self.max_new_tokens, "backend": self.backend}
        return {**key, "limits": dict(self.limits)} if self.limits else key  # keys without limits stay as they were

    def limit_of(self, benchmark: str) -> int | None:
        return dict(self.limits).get(benchmark, self.limit)

    @property
    def scores_method(self) -> str:
        """The scores file's method: base for a base model, else the one given ("other" when none was)."""
        return "base" if not self.base else self.method or "other"

    def run_dir(self) -> Path:
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.display_name)[:60]
        return (Path(self.out) if self.out else eval_dir()) / f"{slug}-{config_key(self.key_config())}"

    def sampling(self, spec: BenchmarkSpec) -> Sampling:
        if self.max_new_tokens is None:
            return spec.sampling
        return replace(spec.sampling, max_new_tokens=self.max_new_tokens)


@dataclass(frozen=True)
class BenchmarkOutcome:
    benchmark: str
    status: str                 # done | skipped (already complete) | missing
    n_items: int = 0
    n_new: int = 0              # items evaluated in this run
    score: float | None = None
    message: str = ""
    data: dict[str, str] | None = None  # the data scored: its sources and the items' fingerprint


def _records_path(run: Path, spec: BenchmarkSpec) -> Path:
    return run / "records" / f"{spec.name}-v{spec.version}.jsonl"


def _evaluate_chunk(backend: Backend, spec: BenchmarkSpec, items: list[Item], cfg: EvalConfig,
                    seed: int) -> list[list[dict[str, Any]]]:
    """Per item, its sample records."""
    grade = grader_for(spec.name)
    prompts = [backend.render(spec.prompt.format(**it.fields), thinking=cfg.thinking) for it in items]
    if spec.kind == "loglik":
        requests = [(p, c) for p, it in zip(prompts, items) for c in it.choices]
        scores = iter(backend.loglikelihood(requests))
        outs = []
        for p, it in zip(prompts, items):
            ll = [next(scores) for _ in it.choices]
            best = max(range(len(ll)), key=ll.__getitem__)
            g = grade(str(best), it.gold)
            outs.append([{"item_id": it.id, "item_fingerprint": it.fingerprint(), "sample": 0, "prompt": p, "response": it.choices[best],
                          "extracted": g.extracted, "correct": g.correct, "score": g.score, "weight": g.weight,
                          "subset": it.subset, "loglik": ll}])
        return outs
    sampling = cfg.sampling(spec)
    gens = backend.generate(prompts, sampling, stop=spec.stop, seed=seed)
    outs = []
    for p, it, samples in zip(prompts, items, gens):
        recs = []
        for k, gen in enumerate(samples):
            g = grade(gen.text, it.gold)
            recs.append({"item_id": it.id, "item_fingerprint": it.fingerprint(), "sample": k, "prompt": p, "response": gen.text,
                         "extracted": g.extracted, "correct": g.correct, "score": g.score, "weight": g.weight,
                         "subset": it.subset, "finish_reason": gen.finish_reason, "num_tokens": gen.num_tokens,
                         "detail": g.detail})
        outs.append(recs)
    return outs


def evaluate_benchmark(name: str, cfg: EvalConfig, get_backend: Callable[[], Backend],
                       log: Callable[[str], None] = print) -> BenchmarkOutcome:
    spec = get_spec(name)
    try:
        items, sources = load_items(name, cfg.data_dir, seed=cfg.seed, limit=cfg.limit_of(name))
    except BenchmarkMissing as err:
        log(f"skip {name}: {err}")
        return BenchmarkOutcome(name, "missing", message=str(err))
    path = _records_path(cfg.run_dir(), spec)
    n_samples = 1 if spec.kind == "loglik" else spec.sampling.n
    done = done_items(current_records(read_records(path), items, n_samples), n_samples)
    todo = [it for it in items if it.id not in done]
    if not todo:
        log(f"{name}: complete ({len(items)} items on file), skipped")
    else:
        log(f"{name}: {len(todo)} of {len(items)} items to do" + (f" ({len(done)} done)" if done else ""))
        backend = get_backend()
        step = max(1, cfg.batch_size if spec.kind == "generate" else cfg.batch_size // 2)
        for start in range(0, len(todo), step):
            chunk = todo[start:start + step]
            seed = cfg.seed + items.index(chunk[0])  # depends on the item, not on what was resumed
            for recs in _evaluate_chunk(backend, spec, chunk, cfg, seed):
                append_records(path, recs)
    score, n = aggregate(current_records(read_records(path), items, n_samples), spec.aggregate)
    log(f"{name}: {score:.1f} over {n} items")
    data = {"sources": ", ".join(sources), "items": items_fingerprint(items)}
    return BenchmarkOutcome(name, "skipped" if not todo else "done", n, len(todo), score, data=data)


def _spec_summary(cfg: EvalConfig, names: tuple[str, ...]) -> dict[str, Any]:
    return {n: {"version": get_spec(n).version, "sampling": asdict(cfg.sampling(get_spec(n))),
                "grader": get_spec(n).grader, "kind": get_spec(n).kind} for n in names}


def run_eval(cfg: EvalConfig, backend_factory: BackendFactory | None = None,
             log: Callable[[str], None] = lambda m: print(m, file=sys.stderr)) -> tuple[Path, list[BenchmarkOutcome]]:
    """Evaluate every benchmark of cfg; returns (scores file, outcomes). The backend loads only if needed."""
    run = cfg.run_dir()
    with folder_lock(run, log):
        return _run_eval(cfg, run, backend_factory, log)


def _run_eval(cfg: EvalConfig, run: Path, backend_factory: BackendFactory | None,
              log: Callable[[str], None]) -> tuple[Path, list[BenchmarkOutcome]]:
    from mathxfer.eval.backends import make_backend

    state: dict[str, Backend] = {}

    def get_backend() -> Backend:
        if "b" not in state:
            factory = backend_factory or (lambda: make_backend(
                cfg.backend, cfg.model, gguf_file=cfg.gguf_file, base=cfg.base, batch_size=cfg.batch_size,
                tensor_parallel_size=cfg.tensor_parallel_size, seed=cfg.seed))
            state["b"] = factory()
            write_json_atomic(run / "run.json", {"model": cfg.model, "gguf_file": cfg.gguf_file,
                                                 "revision": state["b"].revision})
        return state["b"]

    outcomes = [evaluate_benchmark(name, cfg, get_backend, log) for name in cfg.benchmarks]
    scores_path = run / "scores.json"
    _write_scores(cfg, scores_path, outcomes)
    return scores_path, outcomes


def _write_scores(cfg: EvalConfig, path: Path, outcomes: list[BenchmarkOutcome]) -> None:
    previous: dict[str, dict[str, Any]] = {}
    data: dict[str, dict[str, str]] = {}
    if path.is_file():  # keep benchmarks scored by an earlier run of the same config (another --suite)
        earlier, earlier_provenance = read_scores(path)  # checked: a damaged file is named, with the fix
        previous = {r.benchmark: asdict(r) for r in earlier}
        data = dict(earlier_provenance.get("config", {}).get("data", {}))
    for o in outcomes:
        if o.score is not None:
            previous[o.benchmark] = asdict(ScoreRecord(model=cfg.display_name, base_model=cfg.base or "",
                                                       benchmark=o.benchmark, score=round(o.score, 4),
                                                       n=o.n_items, method=cfg.scores_method))
            data[o.benchmark] = o.data or {}
    if not previous:
        return
    info = cfg.run_dir() / "run.json"
    run_info = read_json(info, "delete it; the next `mathxfer eval` rewrites it") if info.is_file() else {}
    config = {**cfg.key_config(), "model_path": cfg.model, "gguf_file": cfg.gguf_file, "base": cfg.base,
              "data_dir": cfg.data_dir, "data": {b: data[b] for b in previous if b in data},
              "batch_size": cfg.batch_size,
              "model_revision": run_info.get("revision", "unknown"),
              "benchmarks": _spec_summary(cfg, tuple(previous)),
              "missing": {o.benchmark: o.message for o in outcomes if o.status == "missing"}}
    records = [ScoreRecord(**r) for r in previous.values()]
    write_scores(path, records, provenance(config, seed=cfg.seed))
