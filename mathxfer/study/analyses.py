"""The latent- and token-space analyses of a study record's models, with the settings of its study file.

Texts are the micro families' held-out questions, or the benchmarks' prompts from their specs; the token
analysis scores each tuned model's own responses (micro: its held-out evaluation's greedy answers; real
models: greedy answers to the first prompts of each benchmark). ``mathxfer study`` warms every cache these
read (``warm``, one model at a time in its workers), so a chapter computes nothing heavy.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from mathxfer.analysis.latent_analysis import (
    LatentConfig,
    LatentResults,
    hidden_by_task,
    latent_analysis,
)
from mathxfer.analysis.refs import ModelRef
from mathxfer.analysis.texts import benchmark_prompts, micro_texts
from mathxfer.analysis.token_analysis import (
    Samples,
    TokenConfig,
    TokenResults,
    token_analysis,
    tokens_from_benchmarks,
)
from mathxfer.groups import Group
from mathxfer.paths import repo_path
from mathxfer.study.record import StudyRecord

BASE = "base"


def base_ref(record: StudyRecord) -> ModelRef:
    path = repo_path(record.base["model_path"])
    return ModelRef(BASE, str(path.resolve()) if path.exists() else str(path), gguf_file=record.spec.gguf_file)


def tuned_refs(record: StudyRecord) -> list[ModelRef]:
    """The study's tuned models: every (arm, seed) of the main comparison, or each arm's first seed."""
    runs = record.select("main")
    all_seeds = record.spec.analysis.all_seeds
    first = {arm: min(r.seed for r in runs if r.arm == arm) for arm in dict.fromkeys(r.arm for r in runs)}
    refs = [ModelRef(f"{r.arm} s{r.seed}" if all_seeds else r.arm, r.model_path, r.arm, r.seed, r.kind)
            for r in runs if all_seeds or r.seed == first[r.arm]]
    if not refs:
        raise ValueError(f"study record {record.path} has no runs to analyse")
    return refs


def _benchmarks(record: StudyRecord) -> list[str]:
    """The analysed benchmarks: the analysis' own list, else the evaluation's, less those with no data."""
    from mathxfer.eval.specs import resolve_suite

    analysis = record.spec.analysis
    chosen = resolve_suite(analysis.benchmarks) if analysis.benchmarks else tuple(record.groups)
    missing = set(record.base.get("missing", {}))
    return [b for b in chosen if b not in missing]


def task_groups(record: StudyRecord) -> dict[str, Group]:
    if record.spec.analysis.texts == "micro":
        from mathxfer.analysis.texts import micro_tasks

        return micro_tasks()
    from mathxfer.groups import group_of

    return {b: group_of(b) for b in _benchmarks(record)}


def latent_config(record: StudyRecord) -> LatentConfig:
    a = record.spec.analysis
    return LatentConfig(n_samples=a.n_samples, seed=a.seed, max_tokens=a.max_tokens,
                        layers=tuple(a.layers) if a.layers else None, pooling=a.pooling,
                        compare_pooling=a.compare_pooling, umap=a.umap)


def token_config(record: StudyRecord) -> TokenConfig:
    return TokenConfig(n_samples=record.spec.analysis.n_samples, max_tokens=record.spec.analysis.max_tokens)


def latent_texts(record: StudyRecord) -> dict[str, list[str]]:
    a = record.spec.analysis
    if a.texts == "micro":
        return micro_texts(a.n_samples, a.seed)
    return benchmark_prompts(_benchmarks(record), a.n_samples, a.seed, record.spec.evaluation.data_dir, a.limit)


def latent_for(record: StudyRecord, **config: Any) -> LatentResults:
    """The study's latent analysis; ``config`` overrides fields of its LatentConfig (e.g. ``umap=False``)."""
    return latent_analysis(base_ref(record), tuned_refs(record), latent_texts(record), task_groups(record),
                           dataclasses.replace(latent_config(record), **config))


def _micro_samples(eval_path: str, n_samples: int) -> Samples:
    """A micro model's own greedy responses from its held-out evaluation, the first ``n_samples`` per family;
    the prompt is the chat-rendered question the model answered."""
    from mathxfer.micro.evaluate import read_evaluation
    from mathxfer.micro.grading import render

    out: Samples = {}
    for row in read_evaluation(eval_path)["records"]:  # a damaged file is named, with its fix
        prompts, responses = out.setdefault(row["family"], ([], []))
        if len(prompts) < n_samples:
            prompts.append(render(row["question"]))
            responses.append(row["response"])
    return out


def _micro_token_samples(record: StudyRecord, refs: list[ModelRef]) -> dict[str, Samples]:
    evals = {(r.arm, r.seed): r.eval_path for r in record.select("main")}
    return {m.label: _micro_samples(evals[(m.arm, m.seed)], record.spec.analysis.n_samples) for m in refs}


def tokens_for(record: StudyRecord, refs: list[ModelRef] | None = None) -> TokenResults:
    refs = refs if refs is not None else tuned_refs(record)
    a = record.spec.analysis
    if a.texts == "micro":
        return token_analysis(base_ref(record), refs, _micro_token_samples(record, refs), task_groups(record),
                              token_config(record))
    return tokens_from_benchmarks(base_ref(record), refs, _benchmarks(record), token_config(record),
                                  record.spec.evaluation.data_dir, a.limit, a.response_tokens)


def warm(record: StudyRecord, label: str) -> None:
    """Compute and cache one model's share of both analyses (run side by side, one model per worker)."""
    from mathxfer.models import load_tokenizer

    base = base_ref(record)
    ref = base if label == BASE else next(m for m in tuned_refs(record) if m.label == label)
    config = latent_config(record)
    texts = latent_texts(record)
    tokenizer = load_tokenizer(base.path, gguf_file=base.gguf_file)
    hidden_by_task(ref, tokenizer, texts, config.hidden())
    if config.compare_pooling:
        hidden_by_task(ref, tokenizer, texts, config.hidden(config.other_pooling()))
    if label != BASE:
        tokens_for(record, [ref])


def labels(record: StudyRecord) -> list[str]:
    """Every model the analyses read, base first."""
    return [BASE, *(m.label for m in tuned_refs(record))]
