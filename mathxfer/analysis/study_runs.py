"""The latent-space and token-space analyses run over a set of models: a controlled study's arms
(micro) or any base + tuned models on the paper's benchmarks (smol / paper).

Inputs follow the paper (README "Latent-space shift", "Token-space shift"):
latent: raw task text, ``n_samples`` items per task drawn with ``seed``; hidden states of every layer
under the base and each tuned model (the base tokenizer for both); d* per (model, task);
token: each tuned model's own greedy responses, scored by it and the base with teacher forcing.

A "task" is a micro family (the micro world's benchmarks) or a paper benchmark. Every expensive step
is cached by the modules it calls (``hidden``, ``tokens``, ``umap_view``; evaluations by the study),
so a second call reads from disk and loads no model for the latent side.
"""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from IPython.display import Markdown
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from mathxfer.analysis.hidden import HiddenConfig, HiddenStates, Pooling, extract_hidden
from mathxfer.identity import model_identity
from mathxfer.analysis.latent import pca_shift, shift_frames
from mathxfer.analysis.paper import paper_group_means
from mathxfer.analysis.store import texts_hash
from mathxfer.analysis.tokens import (ScoreConfig, TokenScores, over, position_profile, score_responses,
                                      shifted_tokens, summary_frame)
from mathxfer.analysis.umap_view import UMAPConfig, umap_by_group
from mathxfer.groups import GROUP_LABELS, Group, group_of
from mathxfer.models import load_model, load_tokenizer
from mathxfer.paths import REPO_ROOT, results_dir
from mathxfer.provenance import config_key, write_json_atomic

NON_MATH: tuple[Group, ...] = ("other", "non")
_INFO = ["model", "arm", "seed", "kind"]


# ---- which models ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ModelRef:
    """One model of the analysis. ``label`` is its name in every frame; ``kind`` is base, SFT or RL."""

    label: str
    path: str  # a local directory (resolved against the repository root) or a hub id
    arm: str = "base"
    seed: int = -1
    kind: str = "base"
    revision: str | None = None

    def identity(self) -> str:
        return model_identity(self.path, self.revision)


def resolve_path(path: str | Path) -> str:
    """Repository-relative paths work from any folder (notebooks run in notebooks/)."""
    p = Path(path).expanduser()
    if not p.exists() and not p.is_absolute() and (REPO_ROOT / p).exists():
        p = REPO_ROOT / p
    return str(p.resolve()) if p.exists() else str(path)


def base_ref(path: str, revision: str | None = None) -> ModelRef:
    return ModelRef("base", resolve_path(path), revision=revision)


def study_models(results: Any, all_seeds: bool = False) -> list[ModelRef]:
    """The tuned models of a ``StudyResults``: the first seed of each arm, or every (arm, seed)."""
    from mathxfer.train.recipes import arm_kind  # late: recipes pull in TRL

    profile = results.config.profile
    first_seed = min(r["seed"] for r in results.runs) if results.runs else None
    refs = []
    for run in results.runs:
        if not all_seeds and run["seed"] != first_seed:
            continue
        label = f"{run['arm']} s{run['seed']}" if all_seeds else run["arm"]
        refs.append(ModelRef(label, str(Path(run["output_dir"]) / "model"), run["arm"], run["seed"],
                             arm_kind(profile, run["arm"])))
    if not refs:
        raise ValueError("the study has no runs to analyse")
    return refs


def _model_info(models: Sequence[ModelRef]) -> pd.DataFrame:
    return pd.DataFrame([{"model": m.label, "arm": m.arm, "seed": m.seed, "kind": m.kind} for m in models])


def _with_info(frame: pd.DataFrame, models: Sequence[ModelRef], groups: Mapping[str, Group]) -> pd.DataFrame:
    """Add arm, seed, kind (by model label) and group (by task) to a frame with model/benchmark columns."""
    out = frame.merge(_model_info(models), on="model", how="left")
    return out.assign(group=out["benchmark"].map(groups))


def _is_first_seed(frame: pd.DataFrame) -> pd.Series:
    return frame["seed"] == frame.groupby("arm")["seed"].transform("min")


def first_seed(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of each arm's first seed, labelled by arm: figures show one model per arm, tables all seeds."""
    return frame[_is_first_seed(frame)].assign(model=lambda d: d["arm"]).reset_index(drop=True)


def seed_mean(frame: pd.DataFrame, value: str, keys: Sequence[str] = ("benchmark",)) -> pd.DataFrame:
    """``value`` averaged over seeds per arm and ``keys`` (model = arm), with its sd over seeds and n_seeds."""
    grouped = frame.groupby(["arm", "kind", *keys], sort=False)[value]
    out = grouped.agg(["mean", "std", "size"]).reset_index()
    return out.rename(columns={"mean": value, "std": f"{value}_sd", "size": "n_seeds"}).assign(model=lambda d: d["arm"])


@functools.lru_cache(maxsize=4)
def _cached_model(path: str) -> PreTrainedModel:
    return load_model(path)


def _loader(ref: ModelRef) -> Callable[[], PreTrainedModel]:
    """Loads the model only when something must be computed, and once per path."""
    return lambda: _cached_model(ref.path)


# ---- which texts -------------------------------------------------------------------------------

def micro_tasks() -> dict[str, Group]:
    from mathxfer.micro.world import FAMILIES

    return {name: fam.group for name, fam in FAMILIES.items()}


def micro_texts(n_samples: int, seed: int) -> dict[str, list[str]]:
    """Raw held-out question text per micro family: ``n_samples`` items drawn with ``seed``."""
    from mathxfer.micro.world import sample_family

    return {name: [it.question for it in sample_family(name, n_samples, seed, "heldout")] for name in micro_tasks()}


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
        texts = [t for t in (spec(name).prompt.format(**it.fields) for it in items) if t.strip()]
        if not first and len(texts) > n_samples:
            texts = random.Random(seed).sample(texts, n_samples)
        out[name] = texts[:n_samples]
    return out


# ---- latent space ------------------------------------------------------------------------------

@dataclass(frozen=True)
class LatentConfig:
    n_samples: int = 100
    seed: int = 42
    max_tokens: int = 128
    layers: tuple[int, ...] | None = None  # hidden_states indices (0 = embeddings); None = all
    pooling: Pooling = "mean_with_pad"
    batch_size: int = 8
    compare_pooling: bool = True  # also compute d* under the other mean pooling
    umap: bool = True
    umap_layer: int = -1  # index into the extracted layers
    umap_config: UMAPConfig = UMAPConfig()

    def hidden(self, pooling: Pooling | None = None) -> HiddenConfig:
        return HiddenConfig(layers=self.layers, pooling=pooling or self.pooling, max_tokens=self.max_tokens,
                            batch_size=self.batch_size, chunk_size=self.batch_size * 32)

    def other_pooling(self) -> Pooling:
        return "masked_mean" if self.pooling == "mean_with_pad" else "mean_with_pad"


@dataclass
class LatentResults:
    points: pd.DataFrame  # model, benchmark, layer, role, pc1, pc2, d_star, arm, seed, kind, group
    d_star: pd.DataFrame  # model, benchmark, d_star, arm, seed, kind, group
    pooling: pd.DataFrame | None  # model, benchmark, group, kind, d_star_<pooling>, d_star_<other>, change
    umap: pd.DataFrame | None  # group, model, item, x, y
    config: LatentConfig
    models: list[ModelRef] = field(default_factory=list)


def hidden_by_task(ref: ModelRef, tokenizer: PreTrainedTokenizerBase, texts: Mapping[str, Sequence[str]],
                   config: HiddenConfig) -> dict[str, HiddenStates]:
    """One cached extraction per task (pad-inclusive pooling depends on batch-mates: keep tasks apart)."""
    loader, identity = _loader(ref), ref.identity()
    return {task: extract_hidden(loader, tokenizer, list(t), model_id=identity, config=config)
            for task, t in texts.items()}


def d_star_frames(base: Mapping[str, HiddenStates], tuned: Mapping[str, Mapping[str, HiddenStates]]
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """PCA shift per (tuned label, task): (points, d_star) frames of ``latent.shift_frames``."""
    shifts = {(label, task): pca_shift(base[task].features, states.features, base[task].layers)
              for label, by_task in tuned.items() for task, states in by_task.items()}
    return shift_frames(shifts)


def _pooling_frame(primary: pd.DataFrame, other: pd.DataFrame, config: LatentConfig) -> pd.DataFrame:
    a, b = f"d_star_{config.pooling}", f"d_star_{config.other_pooling()}"
    out = primary[["model", "benchmark", "group", "kind", "d_star"]].rename(columns={"d_star": a}).merge(
        other[["model", "benchmark", "d_star"]].rename(columns={"d_star": b}), on=["model", "benchmark"])
    return out.assign(change=out[b] - out[a], rel_change=(out[b] - out[a]) / out[a].where(out[a] != 0))


def umap_features(states: Mapping[str, Mapping[str, HiddenStates]], groups: Mapping[str, Group],
                  layer_index: int) -> dict[Group, dict[str, np.ndarray]]:
    """``{group: {model: (items of the group's tasks, hidden)}}`` at one extracted layer."""
    out: dict[Group, dict[str, np.ndarray]] = {}
    for label, by_task in states.items():
        for group in dict.fromkeys(groups[t] for t in by_task):
            parts = [s.features[layer_index].astype(np.float32) for t, s in by_task.items() if groups[t] == group]
            out.setdefault(group, {})[label] = np.concatenate(parts)
    return out


def latent_analysis(base: ModelRef, models: Sequence[ModelRef], texts: Mapping[str, Sequence[str]],
                    groups: Mapping[str, Group], config: LatentConfig = LatentConfig()) -> LatentResults:
    """d* per (model, task), the pooling comparison and the UMAP view, all from cached hidden states."""
    tokenizer = load_tokenizer(base.path)
    states = {m.label: hidden_by_task(m, tokenizer, texts, config.hidden()) for m in [base, *models]}
    base_states = states.pop(base.label)
    points, d_star = d_star_frames(base_states, states)
    points, d_star = _with_info(points, models, groups), _with_info(d_star, models, groups)
    pooling = None
    if config.compare_pooling:
        other_cfg = config.hidden(config.other_pooling())
        other = {m.label: hidden_by_task(m, tokenizer, texts, other_cfg) for m in [base, *models]}
        other_base = other.pop(base.label)
        _, other_d = d_star_frames(other_base, other)
        pooling = _pooling_frame(d_star, other_d, config)
    coords = None
    if config.umap:
        info = _model_info(models)
        shown = set(info.loc[_is_first_seed(info), "model"])
        feats = umap_features({base.label: base_states, **{k: v for k, v in states.items() if k in shown}},
                              groups, config.umap_layer)  # one cloud per arm (its first seed) stays readable
        coords = umap_by_group(feats, config=config.umap_config)
    return LatentResults(points, d_star, pooling, coords, config, list(models))


def latent_from_study(results: Any, config: LatentConfig = LatentConfig(), all_seeds: bool = False) -> LatentResults:
    """The micro study's models on raw held-out text of every micro family."""
    return latent_analysis(base_ref(results.config.base_model), study_models(results, all_seeds),
                           micro_texts(config.n_samples, config.seed), micro_tasks(), config)


def latent_from_benchmarks(base: ModelRef, models: Sequence[ModelRef], benchmarks: Sequence[str],
                           config: LatentConfig = LatentConfig(), data_dir: str | Path | None = None,
                           limit: int | None = None) -> LatentResults:
    """smol / paper: the paper's benchmarks' text from ``mathxfer.eval`` (``limit`` for smoke runs)."""
    texts = benchmark_prompts(benchmarks, config.n_samples, config.seed, data_dir, limit)
    return latent_analysis(base, models, texts, {b: group_of(b) for b in benchmarks}, config)


# ---- group tables and statements (shared by both chapters) --------------------------------------

def group_means(frame: pd.DataFrame, value: str) -> pd.DataFrame:
    """Table 2 analogue: per arm, the mean over the group's tasks of ``value``, then mean and sd over seeds.
    Rows: arm, kind, n_seeds, then <group> and <group>_sd for math / other / non."""
    per_seed = frame.groupby(["arm", "kind", "seed", "group"])[value].mean().unstack("group")
    order = [g for g in GROUP_LABELS if g in per_seed.columns]
    mean = per_seed.groupby(["arm", "kind"])[order].mean()
    sd = per_seed.groupby(["arm", "kind"])[order].std(ddof=1).add_suffix("_sd")
    n = per_seed.groupby(["arm", "kind"]).size().rename("n_seeds")
    arms = list(dict.fromkeys(frame["arm"]))
    out = pd.concat([n, mean, sd], axis=1).reset_index()
    return out.sort_values("arm", key=lambda s: s.map(arms.index), ignore_index=True)


def latent_table(latent: LatentResults, profile: str = "micro") -> pd.DataFrame:
    """Our mean d* per group beside the paper's Tables 2 and 6 (scales differ: compare orderings)."""
    ours = group_means(latent.d_star, "d_star")
    ours = ours.assign(source=f"ours ({profile}, {int(ours.n_seeds.max())} seed(s))", model=ours["arm"])
    paper = paper_group_means().rename(columns={"base_model": "base"})
    cols = ["source", "model", "kind", "math", "other", "non"]
    return pd.concat([ours.assign(base="our base")[[*cols, "base"]],
                      paper.assign(kind=paper["model"].map(_paper_kind))[[*cols, "base"]]],
                     ignore_index=True).round(2)


def _paper_kind(model: str) -> str:
    return "RL" if "RL" in model else ("SFT" if "SFT" in model else "released")


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def sft_vs_rl(frame: pd.DataFrame, value: str, what: str) -> Markdown:
    """Does SFT's ``value`` on non-math tasks exceed RL's? Per seed, each SFT arm's mean over the
    non-math tasks against the RL arm(s)' mean at the same seed."""
    nonmath = frame[frame["group"].isin(NON_MATH)]
    per = nonmath.groupby(["arm", "kind", "seed"])[value].mean().reset_index()
    rl, sft = per[per.kind == "RL"], per[per.kind == "SFT"]
    if rl.empty or sft.empty:
        return Markdown(f"No statement on {what}: the analysis needs at least one SFT and one RL arm "
                        f"(it has {', '.join(sorted(set(per.kind))) or 'none'}).")
    pairs = sft.merge(rl.groupby("seed")[value].mean().rename("rl"), on="seed")
    wins, total = int((pairs[value] > pairs["rl"]).sum()), len(pairs)
    seeds = sorted(pairs.seed.unique())
    verdict = ("Yes" if wins == total else "Not consistently" if wins else "No")
    by_arm = "; ".join(f"{arm} {_fmt(g[value].mean())}" for arm, g in pairs.groupby("arm", sort=False))
    return Markdown(
        f"**Does SFT's {what} on non-math inputs exceed RL's? {verdict}**: in {wins} of {total} "
        f"(SFT arm, seed) pairs over seed(s) {', '.join(map(str, seeds))}, the SFT arm's mean over the "
        f"other-reasoning and non-reasoning tasks is above the RL arm's at the same seed. "
        f"Means over seeds: RL {_fmt(pairs.drop_duplicates('seed').rl.mean())}; SFT arms: {by_arm}."
        + ("" if len(seeds) > 1 else " Only one seed was analysed; `all_seeds=True` covers every seed."))


def pooling_summary(latent: LatentResults) -> Markdown:
    """How much d* moves when pads are excluded from the mean, and whether the SFT/RL ordering survives."""
    frame = latent.pooling
    if frame is None or frame.empty:
        return Markdown("The pooling comparison was not computed (`compare_pooling=False`).")
    cfg = latent.config
    rel = frame["rel_change"].abs()
    a, b = f"d_star_{cfg.pooling}", f"d_star_{cfg.other_pooling()}"
    corr = frame[[a, b]].corr(method="spearman").iloc[0, 1]
    return Markdown(
        f"Switching from `{cfg.pooling}` to `{cfg.other_pooling()}` pooling changes d* by a median of "
        f"{100 * rel.median():.0f}% (largest {100 * rel.max():.0f}%, on {frame.loc[rel.idxmax(), 'model']} / "
        f"{frame.loc[rel.idxmax(), 'benchmark']}) over {len(frame)} (model, task) pairs; the rank correlation "
        f"of the two d* columns is {corr:.2f}.")


# ---- token space -------------------------------------------------------------------------------

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


def micro_samples(model_dir: str | Path, profile: str, eval_n: int, n_samples: int) -> Samples:
    """A tuned micro model's own greedy responses from its (cached) held-out evaluation, first
    ``n_samples`` per family; the prompt is the chat-rendered question the model answered."""
    from mathxfer.controlled.study import evaluate_model
    from mathxfer.micro.grading import render

    out: Samples = {}
    for record in evaluate_model(model_dir, profile, eval_n)["records"]:
        prompts, responses = out.setdefault(record["family"], ([], []))
        if len(prompts) < n_samples:
            prompts.append(render(record["question"]))
            responses.append(record["response"])
    return out


def chat_prompt(tokenizer: PreTrainedTokenizerBase, text: str) -> str:
    """The prompt a chat model answers: its chat template when it has one, else the raw text."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template([{"role": "user", "content": text}], tokenize=False,
                                             add_generation_prompt=True)
    return text


def generate_responses(ref: ModelRef, prompts: Sequence[str], max_new_tokens: int, batch_size: int = 8) -> list[str]:
    """Greedy responses of ``ref`` to rendered ``prompts``, cached in ``results_dir()/responses``."""
    key = config_key({"kind": "responses", "model": ref.identity(), "prompts": texts_hash(prompts),
                      "n": len(prompts), "max_new_tokens": max_new_tokens})
    path = results_dir() / "responses" / f"{key}.json"
    if path.exists():
        return json.loads(path.read_text())["responses"]
    model, tokenizer = _cached_model(ref.path), load_tokenizer(ref.path)
    responses: list[str] = []
    for start in range(0, len(prompts), batch_size):
        enc = tokenizer(list(prompts[start:start + batch_size]), return_tensors="pt", padding=True,
                        add_special_tokens=False).to(model.device)
        out = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                             pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
        responses += tokenizer.batch_decode(out[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
    write_json_atomic(path, {"model": ref.label, "prompts": list(prompts), "responses": responses})
    return responses


def token_analysis(base: ModelRef, models: Sequence[ModelRef], samples: Mapping[str, Samples],
                   groups: Mapping[str, Group], config: TokenConfig = TokenConfig()) -> TokenResults:
    """Score every model's samples under it and the base; summary and position-profile frames."""
    base_tok = load_tokenizer(base.path, padding_side="right")
    base_model, base_id = _cached_model(base.path), base.identity()
    scores: dict[tuple[str, str], TokenScores] = {}
    for ref in models:
        tuned, tuned_tok, tuned_id = _cached_model(ref.path), load_tokenizer(ref.path), ref.identity()
        for task, (prompts, responses) in samples[ref.label].items():
            if prompts:
                scores[(ref.label, task)] = score_responses(
                    tuned, base_model, tuned_tok, base_tok, prompts, responses, config=config.score(),
                    cache_ids=(tuned_id, base_id))
    summary = _with_info(summary_frame(scores), models, groups)
    profile = _with_info(over(scores, position_profile, n_bins=10), models, groups)
    return TokenResults(scores, summary, profile, config, list(models), base_tok)


def tokens_from_study(results: Any, config: TokenConfig = TokenConfig(), all_seeds: bool = False) -> TokenResults:
    """The micro study's models on their own held-out responses (from the study's cached evaluations)."""
    models = study_models(results, all_seeds)
    cfg = results.config
    samples = {m.label: micro_samples(m.path, cfg.profile, cfg.eval_n, config.n_samples)
               for m in models}
    return token_analysis(base_ref(cfg.base_model), models, samples, micro_tasks(), config)


def tokens_from_benchmarks(base: ModelRef, models: Sequence[ModelRef], benchmarks: Sequence[str],
                           config: TokenConfig = TokenConfig(), data_dir: str | Path | None = None,
                           limit: int | None = None, max_new_tokens: int = 512) -> TokenResults:
    """smol / paper: each tuned model answers the first ``n_samples`` prompts of each benchmark greedily
    (cached), then both models score the answers. ``limit`` for smoke runs."""
    texts = benchmark_prompts(benchmarks, config.n_samples, 0, data_dir, limit, first=True)
    samples: dict[str, Samples] = {}
    for ref in models:
        tok = load_tokenizer(ref.path)
        rendered = {task: [chat_prompt(tok, t) for t in ts] for task, ts in texts.items()}
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
    out = _model_info(tokens.models).join(counts, on="model")
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
        f"estimate (means: exact {_fmt(s.kl_full.mean())}, sampled {_fmt(s.kl_sampled.mean())}); their rank "
        f"correlation is {corr:.2f}.")
