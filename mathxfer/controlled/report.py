"""The chapter's plain statements of where our run agrees with the paper, computed from the numbers."""

from __future__ import annotations

import pandas as pd
from IPython.display import Markdown

from mathxfer.controlled.tables import gains, paper_group_gains, paper_models
from mathxfer.study.record import StudyRecord


def format_mean_sd(mean: float, sd: float, n: int) -> str:
    """A mean over ``n`` seeds with its sd, the sd left out for one seed: "+8.3 ± 0.8", "+9.5"."""
    return f"{mean:+.1f} ± {sd:.1f}" if n > 1 else f"{mean:+.1f}"


def mean_sd(values: pd.Series) -> str:
    return format_mean_sd(values.mean(), values.std(), len(values))


def group_gain(g: pd.DataFrame, arm: str, group: str) -> pd.Series:
    """One arm's gains on one group, a value per seed, from ``tables.gains(..., "group")``."""
    return g[(g["arm"] == arm) & (g["name"] == group)]["gain"]


def spread(values: pd.Series, sampling: float = 0.0) -> float:
    """The spread the verdicts compare a mean with: the sd over seeds; for a single seed, ``sampling`` (twice
    the standard error of the gain, from the items evaluated; 0 where it is not known)."""
    return float(values.std()) if len(values) > 1 else sampling


def gains_beyond_spread(values: pd.Series, sampling: float = 0.0) -> bool:
    """A gain: the mean over seeds is positive and larger than the spread."""
    return values.mean() > 0 and values.mean() > spread(values, sampling)


def forgets(values: pd.Series, sampling: float = 0.0) -> bool:
    """A loss: the mean over seeds is negative and larger in size than the spread."""
    return values.mean() < 0 and -values.mean() > spread(values, sampling)


def sampling_spread(record: StudyRecord, arm: str, group: str) -> float:
    """Twice the standard error of one arm's (first seed's) group gain over the base, from the items each was
    scored on (``tables.standard_errors``); 0 for the micro world, whose spread comes from its seeds."""
    from mathxfer.controlled.tables import standard_errors

    se = standard_errors(record)
    if se.empty:
        return 0.0
    pick = se[se["name"] == group]
    base, tuned = pick[pick["arm"] == "base"]["se"], pick[pick["arm"] == arm]["se"]
    if base.empty or tuned.empty:
        return 0.0
    return 2.0 * float((base.iloc[0] ** 2 + tuned.iloc[0] ** 2) ** 0.5)


def gain_spread(record: StudyRecord, g: pd.DataFrame, arm: str, group: str) -> float:
    """The spread one arm's gain on ``group`` (``g``: ``tables.gains(record, "group")``) is judged against:
    the sd over seeds, or for one seed twice the standard error of the gain (``sampling_spread``)."""
    return spread(group_gain(g, arm, group), sampling_spread(record, arm, group))


def gains_apart(record: StudyRecord, g: pd.DataFrame, a: str, b: str, group: str) -> bool:
    """Two arms' mean gains on ``group`` differ by more than the larger of their spreads."""
    gap = group_gain(g, a, group).mean() - group_gain(g, b, group).mean()
    return abs(gap) > max(gain_spread(record, g, a, group), gain_spread(record, g, b, group))


def verdict(ok: bool, resolved: bool) -> str:
    """A claim's verdict on the page: agrees, does not agree, or cannot be resolved within the spread."""
    if not resolved:
        return "cannot be resolved here (the change is within the spread)"
    return "**agrees** with the paper" if ok else "**does not agree** with the paper"


def rl_arms(record: StudyRecord) -> list[str]:
    return [a for a in record.arms if record.kind_of(a) == "RL"]


def twin_sft_arms(record: StudyRecord) -> list[str]:
    """The SFT arms that stand for one of the paper's Table 1 SFT models (distilled think / no-think)."""
    twins = paper_models(record)
    return [a for a in record.arms if record.kind_of(a) == "SFT" and "SFT" in twins.get(a, "")]


def agreement(record: StudyRecord) -> Markdown:
    """Each of the paper's claims, checked against our group gains (mean over seeds, sd as the spread)."""
    g = gains(record, "group")

    one_seed = len(record.spec.seeds) == 1

    def width(arm: str, group: str) -> float:
        return gain_spread(record, g, arm, group)

    lines = []
    for arm in record.arms:
        math = group_gain(g, arm, "math")
        moved = abs(math.mean()) > width(arm, "math")
        lines.append(f"- **{arm}**: math {mean_sd(math)} points, other {mean_sd(group_gain(g, arm, 'other'))}, "
                     f"non-reasoning {mean_sd(group_gain(g, arm, 'non'))}"
                     + ("" if moved else " (the math change is within the spread)"))

    paper = paper_group_gains(record)
    claims = []
    for rl in rl_arms(record):
        rl_math, rl_non = group_gain(g, rl, "math"), group_gain(g, rl, "non")
        claims.append((f"RL ({rl}) gains math (by more than the spread)",
                       gains_beyond_spread(rl_math, sampling_spread(record, rl, "math")),
                       abs(rl_math.mean()) > width(rl, "math")))
        for sft in twin_sft_arms(record):
            sft_math, sft_non = group_gain(g, sft, "math"), group_gain(g, sft, "non")
            claims.append((f"SFT ({sft}) gains math (by more than the spread)",
                           gains_beyond_spread(sft_math, sampling_spread(record, sft, "math")),
                           abs(sft_math.mean()) > width(sft, "math")))
            claims.append((f"RL ({rl}) keeps non-reasoning better than {sft}", rl_non.mean() > sft_non.mean(),
                           gains_apart(record, g, rl, sft, "non")))
    verdicts = "\n".join(f"- {text}: {verdict(ok, resolved)}" for text, ok, resolved in claims)
    ref = ", ".join(f"{arm} ({paper.at[arm, 'paper model']}) {paper.at[arm, 'math']:+.1f} / "
                    f"{paper.at[arm, 'non']:+.1f}" for arm in paper.index) or "no arm has a Table 1 twin"
    how = ("one seed; the spread is twice the standard error of a gain, from the items evaluated" if one_seed
           and record.spec.evaluation.kind == "benchmarks" else "mean ± sd over seeds; the spread is the sd")
    return Markdown(f"Group gains over the base ({how}):\n\n" + "\n".join(lines)
                    + f"\n\nThe paper's math / non-reasoning gains: {ref}.\n\n" + verdicts)


def learning_rate_table(record: StudyRecord) -> pd.DataFrame | Markdown:
    """Group gains (mean ± sd over seeds) of every arm at its recipe's learning rate and of the SFT arms
    again at the control's: one row per (arm, learning rate)."""
    controls = [v for v in record.variants() if v != "main"]
    if not controls:
        return Markdown("The learning-rate control was not run (the study's `controls.learning_rate` is null).")
    rows = []
    for variant in ["main", *controls]:
        g = gains(record, "group", variant)
        for run in dict.fromkeys(r.arm for r in record.select(variant)):
            row = {"arm": run, "learning rate": f"{record.learning_rate(run, variant):.0e}"}
            for group, label in (("math", "math"), ("other", "other"), ("non", "non-reasoning")):
                row[label] = mean_sd(group_gain(g, run, group))
            rows.append(row)
    order = list(record.arms)
    return pd.DataFrame(rows).sort_values("arm", key=lambda s: s.map(order.index), kind="stable").set_index(
        ["arm", "learning rate"])


def learning_rate_summary(record: StudyRecord) -> Markdown:
    """Does an SFT arm still forget non-reasoning skills when it trains at RL's learning rate?"""
    controls = [v for v in record.variants() if v != "main"]
    if not controls:
        return Markdown("")
    variant = controls[0]
    lr = f"{record.spec.controls.learning_rate:.0e}"
    own, ctl = gains(record, "group"), gains(record, "group", variant)

    lines = []
    for arm in dict.fromkeys(r.arm for r in record.select(variant)):
        before, after = group_gain(own, arm, "non"), group_gain(ctl, arm, "non")
        lines.append(f"- **{arm}**: non-reasoning {mean_sd(before)} points at lr {record.learning_rate(arm):.0e}, "
                     f"{mean_sd(after)} at lr {lr}: "
                     + ("still forgets" if forgets(after) else "no forgetting beyond the seed spread"))
    return Markdown(f"Each SFT arm again at lr {lr}, everything else equal:\n\n" + "\n".join(lines))


def sigma_note(record: StudyRecord) -> Markdown:
    """Which spread the pooled TI divides by, and why the TI can be undefined here."""
    from mathxfer.controlled.tables import sigma_source

    return Markdown(f"The pooled $\\sigma$ is taken over {sigma_source(record)}. {undefined_reasons(record)}")


def undefined_reasons(record: StudyRecord) -> str:
    """Which TIs of this study are undefined, and why, in a sentence computed from the base's scores."""
    from mathxfer.controlled.tables import transfer

    table = transfer(record, "pooled")
    base = record.accuracy("task").query("arm == 'base'").set_index("name")["accuracy"]
    sentences = []
    for group, label in (("other", "other-reasoning"), ("non", "non-reasoning")):
        undefined = int(table[f"TI_{group}"].isna().sum())
        if not undefined:
            continue
        tasks = record.tasks(group)
        full = bool(tasks) and all(base.get(t, 0.0) >= 100.0 for t in tasks)
        why = (f"the base scores 100% on every {label} task, so there is no headroom to weigh (each task's "
               "weight, 100 minus the base's score, is zero)" if full else
               "its math index is zero or a score is missing (the table's undefined column gives the reason)")
        sentences.append(f"Under the pooled reading, TI_{group} is undefined for {undefined} of the {len(table)} "
                         f"(arm, seed) pairs: {why}.")
    return " ".join(sentences) or "Under the pooled reading every TI of this study is defined."


def unmatched_note(record: StudyRecord) -> Markdown:
    """Why an arm's paper columns are empty: the arms with no UniReason model in the paper's Table 1."""
    unmatched = [arm for arm in record.arms if arm not in paper_models(record)]
    if not unmatched:
        return Markdown("Every arm has its counterpart in the paper's Table 1.")
    return Markdown(f"{', '.join(unmatched)} {'has' if len(unmatched) == 1 else 'have'} no counterpart in the "
                    "paper's Table 1, so the paper's columns are empty (NaN) there; the paper's on-policy SFT is "
                    "in its Table 4 ablation, on Qwen3-8B-Base.")


def coverage_note(record: StudyRecord) -> Markdown:
    """What the numbers of Table 1 are (± is the seed sd, or the sampling standard error for one seed), which
    benchmarks each group average covers (additions labelled, absent ones named) and, for real benchmarks,
    which benchmark the TI's math gain comes from."""
    from mathxfer.controlled.tables import math_index_shares, task_groups
    from mathxfer.groups import ADDED_BENCHMARKS, GROUP_LABELS

    benchmarks = record.spec.evaluation.kind == "benchmarks"
    if len(record.spec.seeds) > 1 or not benchmarks:
        pm = f"mean ± sd over {len(record.spec.seeds)} seeds"
    else:
        pm = ("one seed: accuracy ± its sampling standard error, sqrt(p (100 - p) / n) over the n items scored "
              "(a group's combines its benchmarks'); a difference is resolved when it exceeds about twice that")
    missing = record.base.get("missing", {})
    parts = []
    for group, tasks in task_groups(record).items():
        shown = [f"{t} (added)" if t in ADDED_BENCHMARKS else t for t in tasks if t not in missing]
        absent = [t for t in tasks if t in missing]
        parts.append(f"{GROUP_LABELS[group]}: {', '.join(shown)}" + (f"; absent: {', '.join(absent)}" if absent else ""))
    text = f"Accuracy in % ({pm}).\n\n" + ("Each group average is the mean of the benchmarks it covers: "
                                             + "; ".join(parts) + "." if benchmarks else "")
    if missing:
        text += (" An absent benchmark has no offline copy here: it is left out of its group's average and of the "
                 "TI, never counted as 0.")
    shares = math_index_shares(record)
    added = [b for b in ADDED_BENCHMARKS if b in set(shares["benchmark"])]
    if not shares.empty and added:
        per = shares[shares["benchmark"].isin(added)].groupby("model")["share"].mean()
        said = ", ".join(f"{m} {100 * v:.0f}%" for m, v in per.items() if pd.notna(v))
        text += (f"\n\nThe TI's math gain (its math domain index) comes from {', '.join(added)}, the addition, as "
                 f"these shares of the index show: {said or 'undefined (no math change)'}; the paper's four math "
                 "benchmarks sit near 0 for a model this size.")
    return Markdown(text)
