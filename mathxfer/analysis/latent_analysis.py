"""The latent-space analysis over a set of models (README "Latent-space shift"): raw task text, hidden
states of every layer under the base and each tuned model (the base tokenizer for both), d* per (model,
task), the pooling comparison and a UMAP view. Every expensive step is cached by the modules it calls
(``hidden``, ``umap_view``), so a second call reads from disk and loads no model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import Markdown
from transformers import PreTrainedTokenizerBase

from mathxfer.analysis.hidden import HiddenConfig, HiddenStates, Pooling, extract_hidden
from mathxfer.analysis.latent import pca_shift, shift_frames
from mathxfer.analysis.paper import paper_group_means
from mathxfer.analysis.refs import ModelRef, loader
from mathxfer.analysis.seeds import group_means, is_first_seed, model_info, with_info
from mathxfer.analysis.texts import benchmark_prompts
from mathxfer.analysis.umap_view import UMAPConfig, umap_by_group
from mathxfer.groups import Group, group_of
from mathxfer.models import load_tokenizer


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
    load, identity = loader(ref), ref.identity()
    return {task: extract_hidden(load, tokenizer, list(t), model_id=identity, config=config)
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
    tokenizer = load_tokenizer(base.path, gguf_file=base.gguf_file)
    states = {m.label: hidden_by_task(m, tokenizer, texts, config.hidden()) for m in [base, *models]}
    base_states = states.pop(base.label)
    points, d_star = d_star_frames(base_states, states)
    points, d_star = with_info(points, models, groups), with_info(d_star, models, groups)
    pooling = None
    if config.compare_pooling:
        other_cfg = config.hidden(config.other_pooling())
        other = {m.label: hidden_by_task(m, tokenizer, texts, other_cfg) for m in [base, *models]}
        other_base = other.pop(base.label)
        _, other_d = d_star_frames(other_base, other)
        pooling = _pooling_frame(d_star, other_d, config)
    coords = None
    if config.umap:
        info = model_info(models)
        shown = set(info.loc[is_first_seed(info), "model"])
        feats = umap_features({base.label: base_states, **{k: v for k, v in states.items() if k in shown}},
                              groups, config.umap_layer)  # one cloud per arm (its first seed) stays readable
        coords = umap_by_group(feats, config=config.umap_config)
    return LatentResults(points, d_star, pooling, coords, config, list(models))


def latent_from_benchmarks(base: ModelRef, models: Sequence[ModelRef], benchmarks: Sequence[str],
                           config: LatentConfig = LatentConfig(), data_dir: str | Path | None = None,
                           limit: int | None = None) -> LatentResults:
    """smol / paper: the paper's benchmarks' text from ``mathxfer.eval`` (``limit`` for smoke runs)."""
    texts = benchmark_prompts(benchmarks, config.n_samples, config.seed, data_dir, limit)
    return latent_analysis(base, models, texts, {b: group_of(b) for b in benchmarks}, config)


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


def pooling_table(latent: LatentResults) -> pd.DataFrame | Markdown:
    """d* under both poolings per (model, task), or why it is absent."""
    if latent.pooling is None:
        return Markdown("The pooling comparison was not computed (the study's `analysis.compare_pooling` is false).")
    return latent.pooling.round(4)
