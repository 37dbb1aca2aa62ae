"""The latent- and token-space analyses of a study record's models, with the settings of its study file.

The models are the study's runs against its base, or, when the study file lists ``analysis.pairs``, those
off-the-shelf pairs, each tuned model against ITS base (pairs are grouped by base). Texts are the micro
families' held-out questions, or the benchmarks' prompts from their specs; the token analysis scores each
tuned model's own responses (micro runs: their held-out evaluation's greedy answers; real models: greedy
answers to the first prompts of each task; a pair with ``responses``: its released files). Every number is
computed under the study's ``analysis.semantics`` and, with ``compare_semantics``, the other one too.
``mathxfer study`` warms every cache these read (``warm``, one model at a time in its workers), so a chapter
computes nothing heavy.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd
from IPython.display import Markdown

from mathxfer.analysis.latent_analysis import (
    LatentConfig,
    LatentResults,
    hidden_by_task,
    latent_over_bases,
)
from mathxfer.analysis.refs import ModelRef
from mathxfer.analysis.texts import benchmark_prompts, benchmark_texts, micro_texts
from mathxfer.analysis.token_analysis import (
    Samples,
    TokenConfig,
    TokenResults,
    generate_responses,
    generated_samples,
    token_analysis,
    tokens_from_benchmarks,
    tokens_over_bases,
)
from mathxfer.groups import Group
from mathxfer.paths import repo_path
from mathxfer.study.record import StudyRecord
from mathxfer.study.spec import ModelPair, read_responses, responses_path

BASE = "base"
PAIR_SEED = 0  # pairs have no seeds: one shared value lets seeds.sft_rl_pairs compare SFT with RL pairs


def _model_path(path: str) -> str:
    """A local directory resolved against the repository root, else the string as given (a hub id)."""
    local = repo_path(path)
    return str(local.resolve()) if local.exists() else path


def base_ref(record: StudyRecord) -> ModelRef:
    return ModelRef(BASE, _model_path(record.base["model_path"]), gguf_file=record.spec.gguf_file)


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


def pair_ref(pair: ModelPair) -> ModelRef:
    return ModelRef(pair.label, _model_path(pair.tuned), pair.label, PAIR_SEED, pair.kind, gguf_file=pair.gguf_file)


def analysed(record: StudyRecord) -> list[tuple[ModelRef, list[ModelRef]]]:
    """(base, its tuned models) groups: the study's base and runs, or ``analysis.pairs`` grouped by base."""
    pairs = record.spec.analysis.pairs
    if not pairs:
        return [(base_ref(record), tuned_refs(record))]
    groups: dict[tuple[str, str | None], list[ModelRef]] = {}
    for pair in pairs:
        groups.setdefault((pair.base, pair.base_gguf_file), []).append(pair_ref(pair))
    return [(ModelRef(BASE, _model_path(path), gguf_file=gguf), refs) for (path, gguf), refs in groups.items()]


def analysed_refs(record: StudyRecord) -> list[ModelRef]:
    """Every tuned model the analyses compare, in order."""
    return [ref for _, refs in analysed(record) for ref in refs]


def models_note(record: StudyRecord) -> Markdown:
    """Which models the analyses compare: the study's runs against its base, or each pair's tuned model
    against its own base."""
    pairs = record.spec.analysis.pairs
    if not pairs:
        runs = analysed_refs(record)
        return Markdown(f"The analyses compare the study's {len(runs)} tuned model(s) with its base "
                        f"`{record.base['model_path']}`.")
    return Markdown("The analyses compare the study file's `analysis.pairs`, each tuned model with its own base "
                    "(not the study's runs): " + "; ".join(
                        f"**{p.label}** ({p.kind}): `{p.tuned}` against `{p.base}`"
                        + (f", on its released responses for {', '.join(p.responses)}" if p.responses else "")
                        for p in pairs) + ".")


def _benchmarks(record: StudyRecord) -> list[str]:
    """The analysed benchmarks: the analysis' own list, else the evaluation's, less those with no data."""
    from mathxfer.eval.specs import resolve_suite

    analysis = record.spec.analysis
    chosen = resolve_suite(analysis.benchmarks) if analysis.benchmarks else tuple(record.groups)
    missing = set(record.base.get("missing", {}))
    return [b for b in chosen if b not in missing]


def task_groups(record: StudyRecord) -> dict[str, Group]:
    """Each analysed task's group, the pairs' response tasks included."""
    if record.spec.analysis.texts == "micro":
        from mathxfer.analysis.texts import micro_tasks

        return micro_tasks()
    from mathxfer.groups import group_of

    extra = [t for p in record.spec.analysis.pairs for t in (p.responses or {})]
    return {b: group_of(b) for b in dict.fromkeys([*_benchmarks(record), *extra])}


def latent_config(record: StudyRecord) -> LatentConfig:
    a = record.spec.analysis
    return LatentConfig(n_samples=a.n_samples, seed=a.seed, max_tokens=a.max_tokens,
                        layers=tuple(a.layers) if a.layers else None, semantics=a.semantics, pooling=a.pooling,
                        compare_semantics=a.compare_semantics, umap=a.umap)


def token_config(record: StudyRecord) -> TokenConfig:
    a = record.spec.analysis
    return TokenConfig(n_samples=a.n_samples, max_tokens=a.scored_tokens, semantics=a.semantics,
                       compare_semantics=a.compare_semantics)


def latent_texts(record: StudyRecord) -> dict[str, list[str]]:
    a = record.spec.analysis
    if a.texts == "micro":
        return micro_texts(a.n_samples, a.seed)
    return benchmark_texts(_benchmarks(record), a.n_samples, a.seed, record.spec.evaluation.data_dir, a.limit)


def latent_for(record: StudyRecord, **config: Any) -> LatentResults:
    """The study's latent analysis; ``config`` overrides fields of its LatentConfig (e.g. ``umap=False``)."""
    return latent_over_bases(analysed(record), latent_texts(record), task_groups(record),
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


def _pair_samples(record: StudyRecord, pair: ModelPair) -> Samples:
    """A pair's released responses (the first ``n_samples`` of each file), else the tuned model's greedy
    answers to the first prompts of each analysed task."""
    a, data_dir = record.spec.analysis, record.spec.evaluation.data_dir
    if pair.responses:
        return {task: read_responses(responses_path(file, data_dir), a.n_samples)
                for task, file in pair.responses.items()}
    ref = pair_ref(pair)
    if a.texts == "micro":
        from mathxfer.micro.grading import render

        prompts = {t: [render(q) for q in qs] for t, qs in micro_texts(a.n_samples, a.seed).items()}
        return {t: (ps, generate_responses(ref, ps, a.response_tokens)) for t, ps in prompts.items()}
    texts = benchmark_prompts(_benchmarks(record), a.n_samples, 0, data_dir, a.limit, first=True)
    return generated_samples(ref, texts, a.response_tokens)


def _pairs_tokens(record: StudyRecord) -> TokenResults:
    by_label = {p.label: p for p in record.spec.analysis.pairs}
    groups, config = task_groups(record), token_config(record)
    return tokens_over_bases([
        token_analysis(base, refs, {r.label: _pair_samples(record, by_label[r.label]) for r in refs}, groups, config)
        for base, refs in analysed(record)])


def tokens_for(record: StudyRecord, refs: list[ModelRef] | None = None) -> TokenResults:
    """The study's token analysis (of ``refs`` only, when given: the study's runs, not pairs)."""
    if record.spec.analysis.pairs and refs is None:
        return _pairs_tokens(record)
    refs = refs if refs is not None else tuned_refs(record)
    a = record.spec.analysis
    if a.texts == "micro":
        return token_analysis(base_ref(record), refs, _micro_token_samples(record, refs), task_groups(record),
                              token_config(record))
    return tokens_from_benchmarks(base_ref(record), refs, _benchmarks(record), token_config(record),
                                  record.spec.evaluation.data_dir, a.limit, a.response_tokens)


def warm(record: StudyRecord, label: str) -> None:
    """Compute and cache one model's share of both analyses under every semantics they read (run side by side,
    one model per worker). With ``analysis.pairs`` the base's share is every pair and the runs have none."""
    if record.spec.analysis.pairs:
        if label == BASE:
            latent_for(record, umap=False)
            tokens_for(record)
        return
    from mathxfer.models import load_tokenizer

    base = base_ref(record)
    ref = base if label == BASE else next(m for m in tuned_refs(record) if m.label == label)
    config = latent_config(record)
    texts = latent_texts(record)
    tokenizer = load_tokenizer(base.path, gguf_file=base.gguf_file)
    for semantics in (config.semantics, *([config.other] if config.compare_semantics else [])):
        hidden_by_task(ref, tokenizer, texts, config.hidden(semantics))
    if label != BASE:
        tokens_for(record, [ref])


def drift_for(record: StudyRecord) -> pd.DataFrame:
    """KL(base || tuned) on the math training prompts (``mathxfer.analysis.drift``) of every run of the study,
    every variant included: arm, variant, seed, kl. Empty when the study measures none (``sweep.kl_prompts``)."""
    from mathxfer.analysis.drift import base_answers, forward_kl, micro_training_prompts

    n = record.spec.sweep.kl_prompts
    columns = ["arm", "variant", "seed", "kl"]
    if not n:
        return pd.DataFrame(columns=columns)
    from mathxfer.models import load_tokenizer

    base = base_ref(record)
    prompts = micro_training_prompts(n)
    answers = base_answers(base, prompts)
    tokenizer = load_tokenizer(base.path, gguf_file=base.gguf_file)
    return pd.DataFrame([{"arm": r.arm, "variant": r.variant, "seed": r.seed,
                          "kl": forward_kl(base, ModelRef(r.label, _model_path(r.model_path), r.arm, r.seed, r.kind),
                                           tokenizer, prompts, answers)} for r in record.runs], columns=columns)


def labels(record: StudyRecord) -> list[str]:
    """Every model the analyses read, base first."""
    return [BASE, *(m.label for m in analysed_refs(record))]
