"""Scoring one model of a study as its ``evaluation`` section says: the micro world's held-out sets, or the
paper's benchmarks through ``mathxfer.eval`` (per-sample records beside the aggregate in both cases).

Whatever the kind, a model's result is accuracy in percent per task (a micro family or a benchmark) and per
group, and the tasks come with their groups in a fixed order: the chapters need nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

from mathxfer.groups import ADDED_BENCHMARKS, BENCHMARK_GROUPS, Group
from mathxfer.study.spec import Evaluation, StudySpec


@dataclass(frozen=True)
class ModelScores:
    path: str  # the evaluation's file: the micro payload, or the benchmark run's scores.json
    task: dict[str, float]  # accuracy (%) per task
    group: dict[str, float]  # accuracy (%) per group
    missing: dict[str, str]  # tasks that could not be evaluated, with the reason


def task_groups(evaluation: Evaluation) -> dict[str, Group]:
    """The evaluation's tasks in order (group by group), each with its group."""
    if evaluation.kind == "micro":
        from mathxfer.micro.world import FAMILIES, GROUPS

        return {name: fam.group for g in GROUPS for name, fam in FAMILIES.items() if fam.group == g}
    from mathxfer.eval.specs import resolve_suite

    chosen = set(resolve_suite(evaluation.suite)) | set(evaluation.additions)
    return {b: g for g, names in BENCHMARK_GROUPS.items()
            for b in (*names, *(a for a, ag in ADDED_BENCHMARKS.items() if ag == g)) if b in chosen}


def evaluate(spec: StudySpec, model: str, *, tuned_from: str | None = None) -> ModelScores:
    """Score ``model`` (a local folder, or the study's base as named in the study file)."""
    evaluation = spec.evaluation
    if evaluation.kind == "micro":
        from mathxfer.micro.evaluate import evaluate_cached

        path, payload = evaluate_cached(model, evaluation.eval_n)
        return ModelScores(str(path), {k: 100 * v for k, v in payload["family"].items()},
                           {k: 100 * v for k, v in payload["group"].items()}, {})
    return _benchmarks(spec, model, tuned_from)


DATA_SEED = 0  # the seed a study's benchmark items are drawn (and GPQA's choices shuffled) with


def changed_data(spec: StudySpec, eval_path: str, seen: dict[str, str | None] | None = None) -> str | None:
    """The first benchmark whose items are no longer those ``eval_path`` (a scores.json) was scored on, or that
    was missing then and is there now; None when the data is unchanged (and always for the micro world,
    whose fingerprint keys its evaluations). ``seen`` memoises the current fingerprints across models."""
    if spec.evaluation.kind == "micro":
        return None
    from mathxfer.eval.data import BenchmarkMissing, load_items
    from mathxfer.eval.items import items_fingerprint
    from mathxfer.scores_file import read_scores

    seen = {} if seen is None else seen
    config = read_scores(eval_path)[1].get("config", {})
    recorded = {b: d.get("items") for b, d in config.get("data", {}).items()}
    for benchmark in task_groups(spec.evaluation):
        if benchmark not in seen:
            try:
                items, _ = load_items(benchmark, spec.evaluation.data_dir, seed=DATA_SEED,
                                      limit=spec.evaluation.limits.get(benchmark, spec.evaluation.limit))
                seen[benchmark] = items_fingerprint(items)
            except BenchmarkMissing:
                seen[benchmark] = None
        if seen[benchmark] != recorded.get(benchmark):
            return benchmark
    return None


def _benchmarks(spec: StudySpec, model: str, tuned_from: str | None) -> ModelScores:
    from mathxfer.eval.runner import EvalConfig, run_eval
    from mathxfer.scores_file import read_scores

    evaluation = spec.evaluation
    groups = task_groups(evaluation)
    is_base = tuned_from is None
    cfg = EvalConfig(model=model, benchmarks=tuple(groups), gguf_file=spec.gguf_file if is_base else None,
                     base=tuned_from, name=None if not is_base else f"{spec.profile}-base", limit=evaluation.limit,
                     limits=tuple(sorted(evaluation.limits.items())),
                     data_dir=evaluation.data_dir, max_new_tokens=evaluation.max_new_tokens,
                     batch_size=evaluation.batch_size, backend=evaluation.backend, seed=DATA_SEED)
    path, outcomes = run_eval(cfg, log=lambda _message: None)
    missing = {o.benchmark: o.message for o in outcomes if o.score is None}
    if len(missing) == len(outcomes):
        raise FileNotFoundError(f"no benchmark of {evaluation.suite!r} could be evaluated for {model}: "
                                f"{next(iter(missing.values()))}")
    records, _ = read_scores(path)  # checked: a damaged scores.json is named, with the command that rewrites it
    scores = {r.benchmark: r.score for r in records if r.benchmark in groups and r.benchmark not in missing}
    by_group: dict[str, float] = {}
    for group in dict.fromkeys(groups.values()):
        present = [scores[b] for b, g in groups.items() if g == group and b in scores]
        if present:  # the paper's group average: the mean of its benchmarks' scores
            by_group[group] = sum(present) / len(present)
    return ModelScores(str(path), scores, by_group, missing)
