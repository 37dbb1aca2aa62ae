"""The token-space analysis over a set of models (README "Token-space shift"): each tuned model's own
responses, scored by it and by the base with teacher forcing; KL, rank shift, position profiles and the
shifted tokens. Scores are cached by ``tokens.score_responses``, benchmark responses by ``generate_responses``."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import Markdown
from transformers import PreTrainedTokenizerBase

from mathxfer.analysis.refs import ModelRef, cached_model
from mathxfer.analysis.seeds import fmt, model_info, with_info
from mathxfer.analysis.store import texts_hash
from mathxfer.analysis.texts import benchmark_prompts
from mathxfer.analysis.tokens import (ScoreConfig, TokenScores, over, position_profile, score_responses,
                                      shifted_tokens, summary_frame)
from mathxfer.eval.backends import render_chat
from mathxfer.generation import generate_texts
from mathxfer.groups import Group, group_of
from mathxfer.models import load_tokenizer
from mathxfer.paths import cache_dir
from mathxfer.provenance import config_key, write_json_atomic


@dataclass(frozen=True)
class TokenConfig:
    n_samples: int = 100  # first items per task, as the paper's official code takes
    max_tokens: int | None = 128  # response tokens scored per sample (None: all)
    batch_size: int = 4
    add_special_tokens: bool = False  # micro prompts are rendered in full, as generation saw them

    def score(self) -> ScoreConfig:
        return ScoreConfig(batch_size=self.batch_size, add_special_tokens=self.add_special_tokens,
                           max_response_tokens=self.max_tokens)


Samples = dict[str, tuple[list[str], list[str]]]  # task -> (prompts, responses)


@dataclass
class TokenResults:
    scores: dict[tuple[str, str], TokenScores]  # (model, task) -> per-token scores
    summary: pd.DataFrame  # summarize() per (model, task) + arm, seed, kind, group
    profile: pd.DataFrame  # position_profile per (model, task) + info
    config: TokenConfig
    models: list[ModelRef] = field(default_factory=list)
    tokenizer: PreTrainedTokenizerBase | None = None


def generate_responses(ref: ModelRef, prompts: Sequence[str], max_new_tokens: int, batch_size: int = 8) -> list[str]:
    """Greedy responses of ``ref`` to rendered ``prompts``, cached in ``results/responses``."""
    key = config_key({"kind": "responses", "model": ref.identity(), "prompts": texts_hash(prompts),
                      "n": len(prompts), "max_new_tokens": max_new_tokens})
    path = cache_dir("responses") / f"{key}.json"
    if path.exists():
        return json.loads(path.read_text())["responses"]
    model = cached_model(ref.path, ref.gguf_file)
    tokenizer = load_tokenizer(ref.path, gguf_file=ref.gguf_file)
    responses = generate_texts(model, tokenizer, prompts, max_new_tokens=max_new_tokens, batch_size=batch_size)
    write_json_atomic(path, {"model": ref.label, "prompts": list(prompts), "responses": responses})
    return responses


def token_analysis(base: ModelRef, models: Sequence[ModelRef], samples: Mapping[str, Samples],
                   groups: Mapping[str, Group], config: TokenConfig = TokenConfig()) -> TokenResults:
    """Score every model's samples under it and the base; summary and position-profile frames."""
    base_tok = load_tokenizer(base.path, gguf_file=base.gguf_file, padding_side="right")
    base_model, base_id = cached_model(base.path, base.gguf_file), base.identity()
    scores: dict[tuple[str, str], TokenScores] = {}
    for ref in models:
        tuned, tuned_id = cached_model(ref.path, ref.gguf_file), ref.identity()
        tuned_tok = load_tokenizer(ref.path, gguf_file=ref.gguf_file)
        for task, (prompts, responses) in samples[ref.label].items():
            if prompts:
                scores[(ref.label, task)] = score_responses(
                    tuned, base_model, tuned_tok, base_tok, prompts, responses, config=config.score(),
                    cache_ids=(tuned_id, base_id))
    summary = with_info(summary_frame(scores), models, groups)
    profile = with_info(over(scores, position_profile, n_bins=10), models, groups)
    return TokenResults(scores, summary, profile, config, list(models), base_tok)


def tokens_from_benchmarks(base: ModelRef, models: Sequence[ModelRef], benchmarks: Sequence[str],
                           config: TokenConfig = TokenConfig(), data_dir: str | Path | None = None,
                           limit: int | None = None, max_new_tokens: int = 512) -> TokenResults:
    """smol / paper: each tuned model answers the first ``n_samples`` prompts of each benchmark greedily
    (cached), then both models score the answers. ``limit`` for smoke runs."""
    texts = benchmark_prompts(benchmarks, config.n_samples, 0, data_dir, limit, first=True)
    samples: dict[str, Samples] = {}
    for ref in models:
        tok = load_tokenizer(ref.path, gguf_file=ref.gguf_file)
        rendered = {task: [render_chat(tok, t, thinking=False) for t in ts] for task, ts in texts.items()}
        samples[ref.label] = {task: (ps, generate_responses(ref, ps, max_new_tokens)) for task, ps in rendered.items()}
    cfg = replace(config, add_special_tokens=False)  # the chat template already carries the specials
    return token_analysis(base, models, samples, {b: group_of(b) for b in benchmarks}, cfg)


def concat_scores(parts: Sequence[TokenScores]) -> TokenScores:
    """Several TokenScores as one (samples appended in order)."""
    if not parts:
        raise ValueError("no scores to concatenate")
    lengths = np.concatenate([np.diff(p.offsets) for p in parts])
    arrays = {f: np.concatenate([getattr(p, f) for p in parts])
              for f in ("token_id", "logp_tuned", "logp_base", "kl_full", "rank_tuned", "rank_base")}
    return TokenScores(offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64), **arrays)


def most_shifted(tokens: TokenResults, groups: Sequence[Group] | None = None, min_shift: int = 1) -> pd.DataFrame:
    """Figure 5 / Table 8: per model, the token types whose rank tuning shifted, over all tasks (or the
    tasks of ``groups``). Rows of ``tokens.shifted_tokens`` plus model, kind, arm and seed."""
    kinds = {m.label: m.kind for m in tokens.models}
    arms, seeds = {m.label: m.arm for m in tokens.models}, {m.label: m.seed for m in tokens.models}
    task_group = tokens.summary.drop_duplicates("benchmark").set_index("benchmark")["group"]
    frames = []
    for model in dict.fromkeys(m for m, _ in tokens.scores):
        parts = [s for (m, t), s in tokens.scores.items() if m == model and (groups is None or task_group[t] in groups)]
        if parts:
            frames.append(shifted_tokens(concat_scores(parts), tokens.tokenizer, min_shift)
                          .assign(model=model, kind=kinds[model], arm=arms[model], seed=seeds[model]))
    if not frames:
        raise ValueError("no scored responses in the requested groups")
    return pd.concat(frames, ignore_index=True)


def shifted_counts(tokens: TokenResults, shifted: pd.DataFrame) -> pd.DataFrame:
    """How many distinct token types each model shifted (the paper: about 15 for RL, hundreds for SFT);
    models that shifted none get zeros."""
    counts = shifted.groupby("model").agg(distinct_shifted=("token_id", "size"),
                                          shifted_occurrences=("n_shifted", "sum"))
    out = model_info(tokens.models).join(counts, on="model")
    return out.fillna({"distinct_shifted": 0, "shifted_occurrences": 0}).astype(
        {"distinct_shifted": int, "shifted_occurrences": int})


def profile_by_group(tokens: TokenResults) -> pd.DataFrame:
    """Position profiles pooled per task group (token-weighted), in the chart's layout: the group
    stands in the ``benchmark`` column."""
    frame = tokens.profile.assign(total=lambda d: d["mean"] * d["n_tokens"])
    out = frame.groupby(["model", "arm", "seed", "kind", "group", "bin", "bin_start"], as_index=False)[
        ["total", "n_tokens"]].sum()
    return out.assign(mean=out.total / out.n_tokens, benchmark=out.group).drop(columns="total")


def kl_estimators_summary(tokens: TokenResults) -> Markdown:
    """Both KL estimators side by side, in numbers."""
    s = tokens.summary.dropna(subset=["kl_sampled", "kl_full"])
    if s.empty:
        return Markdown("No scored responses: both KL estimators are undefined.")
    ratio = (s.kl_full / s.kl_sampled.where(s.kl_sampled > 0)).median()
    corr = s[["kl_sampled", "kl_full"]].corr(method="spearman").iloc[0, 1]
    return Markdown(
        f"Over {len(s)} (model, task) pairs the exact KL is a median {ratio:.2g} times the sampled-token "
        f"estimate (means: exact {fmt(s.kl_full.mean())}, sampled {fmt(s.kl_sampled.mean())}); their rank "
        f"correlation is {corr:.2f}.")
