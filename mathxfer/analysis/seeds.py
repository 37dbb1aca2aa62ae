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


def compare_frame(frames: Mapping[str, pd.DataFrame], value: str, order: Sequence[str] | None = None) -> pd.DataFrame:
    """One ``value`` per (model, task) under several settings, side by side: columns ``<value>_<setting>``
    (in ``order``, default the mapping's), ``change`` = the second setting's minus the first's (the first is
    the main one) and ``rel_change`` = change over the first's (NaN where that is 0)."""
    names = list(frames)
    if len(names) != 2:
        raise ValueError(f"compare two settings, not {len(names)}: {names}")
    keys = ["model", "benchmark"]
    info = [c for c in ("arm", "seed", "kind", "group") if c in frames[names[0]].columns]
    out = frames[names[0]][[*keys, *info, value]].rename(columns={value: f"{value}_{names[0]}"}).merge(
        frames[names[1]][[*keys, value]].rename(columns={value: f"{value}_{names[1]}"}), on=keys)
    main, other = out[f"{value}_{names[0]}"], out[f"{value}_{names[1]}"]
    out = out.assign(change=other - main, rel_change=(other - main) / main.where(main != 0))
    columns = [f"{value}_{n}" for n in (order or names)]
    return out[[*keys, *info, *columns, "change", "rel_change"]]


def compare_by_group(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """A ``compare_frame`` read per arm: for each of ``columns`` (one per setting), the Table 2 analogue of
    ``group_means`` (mean over the group's tasks, then over seeds), side by side as ``<group>: <setting>``
    columns, so each group's two settings sit next to each other. Rows: arm, kind, n_seeds."""
    setting = {c: c.rsplit("_", 1)[-1] for c in columns}  # d_star_official -> official
    parts = {c: group_means(frame, c).set_index(["arm", "kind", "n_seeds"]) for c in columns}
    groups = [g for g in GROUP_LABELS if g in next(iter(parts.values())).columns]
    out = pd.concat({c: part[groups] for c, part in parts.items()}, axis=1)
    out.columns = [f"{g}: {setting[c]}" for c, g in out.columns]
    return out[[f"{g}: {setting[c]}" for g in groups for c in columns]].reset_index()


def _sft_above(frame: pd.DataFrame, column: str) -> pd.Series:
    pairs = sft_rl_pairs(frame.rename(columns={column: "value"}), "value")
    return pd.Series((pairs["value"] > pairs["rl"]).to_numpy(), index=pd.MultiIndex.from_frame(pairs[["arm", "seed"]]))


def ordering_survives(frame: pd.DataFrame, a: str, b: str) -> str:
    """Whether the SFT-vs-RL ordering on non-math tasks (``sft_rl_pairs``) is the same in columns ``a`` and
    ``b`` of a ``compare_frame``, as a sentence."""
    above_a, above_b = _sft_above(frame, a), _sft_above(frame, b)
    if above_a.empty:
        return ("There is no SFT-vs-RL ordering to test: that needs an SFT and an RL model at a common seed "
                "with non-math tasks.")
    flipped = int((above_a != above_b.reindex(above_a.index)).sum())
    n = len(above_a)
    verdict = ("so the SFT-vs-RL ordering survives the switch" if not flipped else
               f"so the SFT-vs-RL ordering does not survive: it changes in {flipped} of {n} pairs")
    return (f"SFT is above RL on the non-math tasks in {int(above_a.sum())} of {n} (SFT model, seed) pairs with "
            f"`{a}` and in {int(above_b.sum())} of {n} with `{b}`, {verdict}.")


def sensitivity(frame: pd.DataFrame, value: str, main: str, other: str, what: str, switch: str) -> str:
    """How much ``value`` moves from setting ``main`` to ``other`` in a ``compare_frame`` (median and largest
    relative change, rank correlation) and whether the SFT-vs-RL ordering survives, as sentences."""
    a, b = f"{value}_{main}", f"{value}_{other}"
    rel = frame["rel_change"].abs().dropna()
    if rel.empty:
        return f"{switch.capitalize()} leaves no (model, task) pair with a nonzero {what} to compare."
    worst = frame.loc[rel.idxmax()]
    corr = frame[[a, b]].corr(method="spearman").iloc[0, 1] if len(frame) > 1 else float("nan")
    corr_text = f"{corr:.2f}" if pd.notna(corr) else "undefined (fewer than two pairs, or a constant column)"
    return (f"{switch.capitalize()} changes {what} by a median of {100 * rel.median():.0f}% (largest "
            f"{100 * rel.max():.0f}%, on {worst['model']} / {worst['benchmark']}) over {len(rel)} (model, task) "
            f"pairs; the rank correlation of the two columns is {corr_text}. "
            + ordering_survives(frame, a, b))
