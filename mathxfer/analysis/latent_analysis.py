"""The latent-space analysis over a set of models (README "Latent-space shift"): raw task text, hidden
states of every layer under the base and each tuned model (the base tokenizer for both), d* per (model,
task) under the config's semantics (``semantics``: the authors' script or the paper's text), the same d*
under the other semantics and under the other PCA sign convention (sensitivity tables), and a UMAP view.
Every expensive step is cached by the modules it calls (``hidden``, ``umap_view``), so a second call reads
from disk and loads no model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import Markdown
from transformers import PreTrainedTokenizerBase

from mathxfer.analysis.hidden import HiddenConfig, HiddenStates, Pooling, extract_hidden
from mathxfer.analysis.latent import Sign, pca_shift, shift_frames
from mathxfer.analysis.paper import paper_group_means
from mathxfer.analysis.refs import ModelRef, loader
from mathxfer.analysis.seeds import compare_by_group, compare_frame, group_means, is_first_seed, model_info, sensitivity, with_info
from mathxfer.analysis.semantics import SEMANTICS, Semantics, check_semantics, hidden_config, other_semantics
from mathxfer.analysis.texts import benchmark_texts
from mathxfer.analysis.umap_view import UMAPConfig, umap_by_group
from mathxfer.groups import Group, group_of
from mathxfer.models import load_tokenizer


@dataclass(frozen=True)
class LatentConfig:
    n_samples: int = 100
    seed: int = 42
    max_tokens: int = 128
    layers: tuple[int, ...] | None = None  # hidden_states indices (0 = embeddings); None = all
    semantics: Semantics = "official"  # which semantics makes the main numbers
    pooling: Pooling | None = None  # overrides both semantics' pooling (None: each its own)
    batch_size: int = 8  # texts per forward pass under the paper semantics (official: one batch per task)
    compare_semantics: bool = True  # also compute d* under the other semantics
    umap: bool = True
    umap_layer: int = -1  # index into the extracted layers
    umap_config: UMAPConfig = UMAPConfig()

    def __post_init__(self) -> None:
        check_semantics(self.semantics)

    def hidden(self, semantics: Semantics | None = None) -> HiddenConfig:
        return hidden_config(semantics or self.semantics, layers=self.layers, max_tokens=self.max_tokens,
                             pooling=self.pooling, batch_size=self.batch_size)

    @property
    def other(self) -> Semantics:
        return other_semantics(self.semantics)


@dataclass
class LatentResults:
    points: pd.DataFrame  # model, benchmark, layer, role, pc1, pc2, d_star, arm, seed, kind, group
    d_star: pd.DataFrame  # model, benchmark, d_star, arm, seed, kind, group
    semantics: pd.DataFrame | None  # seeds.compare_frame: d_star_official, d_star_paper, change, rel_change
    sign: pd.DataFrame  # seeds.compare_frame: d_star_loadings, d_star_scores, change, rel_change (main semantics)
    umap: pd.DataFrame | None  # group, model, item, x, y
    config: LatentConfig
    models: list[ModelRef] = field(default_factory=list)
    bases: dict[str, str] = field(default_factory=dict)  # tuned label -> the path of the base it is compared with


def hidden_by_task(ref: ModelRef, tokenizer: PreTrainedTokenizerBase, texts: Mapping[str, Sequence[str]],
                   config: HiddenConfig) -> dict[str, HiddenStates]:
    """One cached extraction per task: the official script's one padded call per task, whose
    pad-inclusive mean depends on the task's other texts, so tasks stay apart."""
    load, identity = loader(ref), ref.identity()
    return {task: extract_hidden(load, tokenizer, list(t), model_id=identity, config=config)
            for task, t in texts.items()}


def d_star_frames(base: Mapping[str, HiddenStates], tuned: Mapping[str, Mapping[str, HiddenStates]],
                  sign: Sign = "loadings") -> tuple[pd.DataFrame, pd.DataFrame]:
    """PCA shift per (tuned label, task): (points, d_star) frames of ``latent.shift_frames``."""
    shifts = {(label, task): pca_shift(base[task].features, states.features, base[task].layers, sign=sign)
              for label, by_task in tuned.items() for task, states in by_task.items()}
    return shift_frames(shifts)


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
    """d* per (model, task) under the config's semantics, its sensitivity to the other semantics and to the
    PCA sign convention, and the UMAP view, all from cached hidden states."""
    tokenizer = load_tokenizer(base.path, gguf_file=base.gguf_file)

    def states_under(semantics: Semantics) -> tuple[dict[str, HiddenStates], dict[str, dict[str, HiddenStates]]]:
        cfg = config.hidden(semantics)
        states = {m.label: hidden_by_task(m, tokenizer, texts, cfg) for m in [base, *models]}
        return states.pop(base.label), states

    base_states, states = states_under(config.semantics)
    points, d_star = (with_info(f, models, groups) for f in d_star_frames(base_states, states))  # sign: loadings
    by_semantics = None
    if config.compare_semantics:
        other = d_star_frames(*states_under(config.other))[1]
        by_semantics = compare_frame({config.semantics: d_star, config.other: with_info(other, models, groups)},
                                     "d_star", order=SEMANTICS)
    scores_d_star = d_star_frames(base_states, states, sign="scores")[1]  # the same features, other PCA signs
    by_sign = compare_frame({"loadings": d_star, "scores": with_info(scores_d_star, models, groups)}, "d_star")
    coords = None
    if config.umap:
        info = model_info(models)
        shown = set(info.loc[is_first_seed(info), "model"])
        feats = umap_features({base.label: base_states, **{k: v for k, v in states.items() if k in shown}},
                              groups, config.umap_layer)  # one cloud per arm (its first seed) stays readable
        coords = umap_by_group(feats, config=config.umap_config)
    return LatentResults(points, d_star, by_semantics, by_sign, coords, config, list(models),
                         {m.label: base.path for m in models})


def latent_over_bases(bases: Sequence[tuple[ModelRef, Sequence[ModelRef]]], texts: Mapping[str, Sequence[str]],
                      groups: Mapping[str, Group], config: LatentConfig = LatentConfig()) -> LatentResults:
    """``latent_analysis`` of each (base, its tuned models), concatenated: every d* is a tuned model against
    ITS base. The UMAP view is the first base's (bases may differ in hidden size)."""
    if not bases:
        raise ValueError("no (base, tuned models) groups to analyse")
    parts = [latent_analysis(base, models, texts, groups, config if i == 0 else replace(config, umap=False))
             for i, (base, models) in enumerate(bases)]
    if len(parts) == 1:
        return parts[0]

    def joined(frames: Sequence[pd.DataFrame | None]) -> pd.DataFrame | None:
        present = [f for f in frames if f is not None]
        return pd.concat(present, ignore_index=True) if present else None

    return LatentResults(joined([p.points for p in parts]), joined([p.d_star for p in parts]),
                         joined([p.semantics for p in parts]), joined([p.sign for p in parts]), parts[0].umap,
                         config, [m for p in parts for m in p.models],
                         {label: path for p in parts for label, path in p.bases.items()})


def latent_from_benchmarks(base: ModelRef, models: Sequence[ModelRef], benchmarks: Sequence[str],
                           config: LatentConfig = LatentConfig(), data_dir: str | Path | None = None,
                           limit: int | None = None) -> LatentResults:
    """smol / paper: the paper's benchmarks' text from ``mathxfer.eval`` (``limit`` for smoke runs)."""
    texts = benchmark_texts(benchmarks, config.n_samples, config.seed, data_dir, limit)
    return latent_analysis(base, models, texts, {b: group_of(b) for b in benchmarks}, config)


def latent_table(latent: LatentResults, profile: str = "micro") -> pd.DataFrame:
    """Our mean d* per group beside the paper's Tables 2 and 6 (scales differ: compare orderings)."""
    ours = group_means(latent.d_star, "d_star")
    ours = ours.assign(source=f"ours ({profile}, {int(ours.n_seeds.max())} seed(s))", model=ours["arm"])
    paper = paper_group_means().rename(columns={"base_model": "base"})
    cols = ["source", "model", "kind", "math", "other", "non"]
    ours = ours.reindex(columns=[*ours.columns, *(g for g in cols if g not in ours.columns)])  # groups not analysed
    bases = {m: Path(b).name for m, b in latent.bases.items()}
    ours["base"] = ours["model"].map(bases) if len(set(bases.values())) > 1 else "our base"
    return pd.concat([ours[[*cols, "base"]],
                      paper.assign(kind=paper["model"].map(_paper_kind))[[*cols, "base"]]],
                     ignore_index=True).round(2)


def _paper_kind(model: str) -> str:
    return "RL" if "RL" in model else ("SFT" if "SFT" in model else "released")


SEMANTICS_TEXT: dict[Semantics, str] = {
    "official": "the authors' analyse_PCA_Shift.py: one left-padded tokenizer call over a task's texts, "
                "the mean over every position, padding included, float32 features",
    "paper": "the paper's text as we read it: the mean over real tokens only, so batching does not matter",
}


def main_semantics(latent: LatentResults) -> Markdown:
    """One line: the semantics (and pooling) behind this page's main numbers, and where the other is shown."""
    cfg = latent.config
    other = (f"; the sensitivity section shows d* under `{cfg.other}`" if latent.semantics is not None else
             "; the other semantics was not computed (`analysis.compare_semantics` is false)")
    return Markdown(f"Every d* above the sensitivity sections is computed under the **`{cfg.semantics}`** "
                    f"semantics{_pooling_note(cfg)}{other}.")


def semantics_summary(latent: LatentResults) -> Markdown:
    """How much the other semantics moves d*, and whether the SFT/RL ordering survives."""
    cfg = latent.config
    if latent.semantics is None or latent.semantics.empty:
        return Markdown(f"The main d* uses the `{cfg.semantics}` semantics; the other was not computed (the "
                        "study's `analysis.compare_semantics` is false).")
    return Markdown(sensitivity(latent.semantics, "d_star", cfg.semantics, cfg.other, "d*",
                                f"switching from `{cfg.semantics}` to `{cfg.other}`"))


def semantics_table(latent: LatentResults) -> pd.DataFrame | Markdown:
    """Mean d* per arm and group under both semantics (the per-(model, task) values are ``latent.semantics``),
    or why it is absent."""
    if latent.semantics is None:
        return Markdown("The other semantics was not computed (the study's `analysis.compare_semantics` is false).")
    cfg = latent.config
    return compare_by_group(latent.semantics, [f"d_star_{cfg.semantics}", f"d_star_{cfg.other}"]).round(3)


def sign_summary(latent: LatentResults) -> Markdown:
    """How much d* moves under the other PCA sign convention, and whether the SFT/RL ordering survives."""
    return Markdown("The main d* fixes each principal component's sign so that its largest loading is positive "
                    "(`loadings`, scikit-learn 1.5 and later). " + sensitivity(
                        latent.sign, "d_star", "loadings", "scores", "d*",
                        "switching to the rule of scikit-learn before 1.5 (`scores`: the largest projection "
                        "score positive)"))


def sign_table(latent: LatentResults) -> pd.DataFrame:
    """Mean d* per arm and group under both PCA sign conventions, on the main semantics' features (the
    per-(model, task) values are ``latent.sign``)."""
    return compare_by_group(latent.sign, ["d_star_loadings", "d_star_scores"]).round(3)


def _pooling_note(cfg: LatentConfig) -> str:
    if cfg.pooling is None:
        return f" ({SEMANTICS_TEXT[cfg.semantics]})"
    return f" with `{cfg.pooling}` pooling for both semantics (the study's `analysis.pooling`)"
