"""Frames over seeds: which rows are each arm's first seed, means over seeds, group tables, and the
plain SFT-vs-RL statement both analysis chapters make."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
from IPython.display import Markdown

from mathxfer.analysis.refs import ModelRef
from mathxfer.groups import GROUP_LABELS, Group

NON_MATH: tuple[Group, ...] = ("other", "non")


def model_info(models: Sequence[ModelRef]) -> pd.DataFrame:
    return pd.DataFrame([{"model": m.label, "arm": m.arm, "seed": m.seed, "kind": m.kind} for m in models])


def with_info(frame: pd.DataFrame, models: Sequence[ModelRef], groups: Mapping[str, Group]) -> pd.DataFrame:
    """Add arm, seed, kind (by model label) and group (by task) to a frame with model/benchmark columns."""
    out = frame.merge(model_info(models), on="model", how="left")
    return out.assign(group=out["benchmark"].map(groups))


def is_first_seed(frame: pd.DataFrame) -> pd.Series:
    return frame["seed"] == frame.groupby("arm")["seed"].transform("min")


def first_seed(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of each arm's first seed, labelled by arm: figures show one model per arm, tables all seeds."""
    return frame[is_first_seed(frame)].assign(model=lambda d: d["arm"]).reset_index(drop=True)


def seed_mean(frame: pd.DataFrame, value: str, keys: Sequence[str] = ("benchmark",)) -> pd.DataFrame:
    """``value`` averaged over seeds per arm and ``keys`` (model = arm), with its sd over seeds and n_seeds."""
    grouped = frame.groupby(["arm", "kind", *keys], sort=False)[value]
    out = grouped.agg(["mean", "std", "size"]).reset_index()
    return out.rename(columns={"mean": value, "std": f"{value}_sd", "size": "n_seeds"}).assign(model=lambda d: d["arm"])


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


def fmt(x: float) -> str:
    return f"{x:.3g}"


def sft_rl_pairs(frame: pd.DataFrame, value: str, sft: Sequence[str] | None = None) -> pd.DataFrame:
    """The SFT-vs-RL pairing: per seed, each SFT arm's mean of ``value`` over the non-math tasks (column
    ``value``) beside the RL arms' mean at the same seed (column ``rl``); ``sft`` the SFT arms (default all)."""
    nonmath = frame[frame["group"].isin(NON_MATH)]
    per = nonmath.groupby(["arm", "kind", "seed"])[value].mean().reset_index()
    rl = per[per.kind == "RL"].groupby("seed")[value].mean().rename("rl")
    chosen = per[per.kind == "SFT"] if sft is None else per[per.arm.isin(sft)]
    return chosen.merge(rl, on="seed")


def sft_vs_rl(frame: pd.DataFrame, value: str, what: str) -> Markdown:
    """Does SFT's ``value`` on non-math tasks exceed RL's? Per seed, each SFT arm's mean over the
    non-math tasks against the RL arm(s)' mean at the same seed."""
    pairs = sft_rl_pairs(frame, value)
    if pairs.empty:
        kinds = sorted(set(frame.loc[frame["group"].isin(NON_MATH), "kind"]))
        return Markdown(f"No statement on {what}: the analysis needs at least one SFT and one RL arm "
                        f"(it has {', '.join(kinds) or 'none'}).")
    wins, total = int((pairs[value] > pairs["rl"]).sum()), len(pairs)
    seeds = sorted(pairs.seed.unique())
    verdict = ("Yes" if wins == total else "Not consistently" if wins else "No")
    by_arm = "; ".join(f"{arm} {fmt(g[value].mean())}" for arm, g in pairs.groupby("arm", sort=False))
    return Markdown(
        f"**Does SFT's {what} on non-math inputs exceed RL's? {verdict}**: in {wins} of {total} "
        f"(SFT arm, seed) pairs over seed(s) {', '.join(map(str, seeds))}, the SFT arm's mean over the "
        f"other-reasoning and non-reasoning tasks is above the RL arm's at the same seed. "
        f"Means over seeds: RL {fmt(pairs.drop_duplicates('seed').rl.mean())}; SFT arms: {by_arm}."
        + ("" if len(seeds) > 1 else " Only one seed was analysed; `all_seeds=True` covers every seed."))
