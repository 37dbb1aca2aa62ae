"""The chapter's plain statements of where our run agrees with the paper, computed from the numbers."""

from __future__ import annotations

import pandas as pd
from IPython.display import Markdown

from mathxfer.controlled.tables import gains, paper_group_gains, paper_models
from mathxfer.study.record import StudyRecord


def mean_sd(values: pd.Series) -> str:
    return f"{values.mean():+.1f} ± {values.std():.1f}" if len(values) > 1 else f"{values.mean():+.1f}"


def group_gain(g: pd.DataFrame, arm: str, group: str) -> pd.Series:
    """One arm's gains on one group, a value per seed, from ``tables.gains(..., "group")``."""
    return g[(g["arm"] == arm) & (g["name"] == group)]["gain"]


def spread(values: pd.Series) -> float:
    """The seed spread the verdicts compare a mean with: the sd over seeds, 0 for a single seed."""
    return float(values.std()) if len(values) > 1 else 0.0


def gains_beyond_spread(values: pd.Series) -> bool:
    """A gain: the mean over seeds is positive and larger than the seed spread."""
    return values.mean() > 0 and values.mean() > spread(values)


def forgets(values: pd.Series) -> bool:
    """A loss: the mean over seeds is negative and larger in size than the seed spread."""
    return values.mean() < 0 and -values.mean() > spread(values)


def rl_arms(record: StudyRecord) -> list[str]:
    return [a for a in record.arms if record.kind_of(a) == "RL"]


def twin_sft_arms(record: StudyRecord) -> list[str]:
    """The SFT arms that stand for one of the paper's Table 1 SFT models (distilled think / no-think)."""
    twins = paper_models(record)
    return [a for a in record.arms if record.kind_of(a) == "SFT" and "SFT" in twins.get(a, "")]


def agreement(record: StudyRecord) -> Markdown:
    """Each of the paper's claims, checked against our group gains (mean over seeds, sd as the spread)."""
    g = gains(record, "group")

    lines = []
    for arm in record.arms:
        math = group_gain(g, arm, "math")
        moved = abs(math.mean()) > spread(math)
        lines.append(f"- **{arm}**: math {mean_sd(math)} points, other {mean_sd(group_gain(g, arm, 'other'))}, "
                     f"non-reasoning {mean_sd(group_gain(g, arm, 'non'))}"
                     + ("" if moved else " (the math change is within the seed spread)"))

    paper = paper_group_gains(record)
    claims = []
    for rl in rl_arms(record):
        rl_non = group_gain(g, rl, "non").mean()
        claims.append((f"RL ({rl}) gains math (by more than the seed spread)",
                       gains_beyond_spread(group_gain(g, rl, "math"))))
        for sft in twin_sft_arms(record):
            claims.append((f"SFT ({sft}) gains math (by more than the seed spread)",
                           gains_beyond_spread(group_gain(g, sft, "math"))))
            claims.append((f"RL ({rl}) keeps non-reasoning better than {sft}",
                           rl_non > group_gain(g, sft, "non").mean()))
    verdicts = "\n".join(f"- {text}: **{'agrees' if ok else 'does not agree'}** with the paper" for text, ok in claims)
    ref = ", ".join(f"{arm} ({paper.at[arm, 'paper model']}) {paper.at[arm, 'math']:+.1f} / "
                    f"{paper.at[arm, 'non']:+.1f}" for arm in paper.index) or "no arm has a Table 1 twin"
    return Markdown("Group gains over the base (mean ± sd over seeds):\n\n" + "\n".join(lines)
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
