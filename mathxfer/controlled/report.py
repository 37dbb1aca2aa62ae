"""The chapter's plain statements of where our run agrees with the paper, computed from the numbers."""

from __future__ import annotations

import pandas as pd
from IPython.display import Markdown

from mathxfer.controlled.study import StudyResults
from mathxfer.controlled.tables import gains, paper_group_gains


def _mean_sd(values: pd.Series) -> str:
    return f"{values.mean():+.1f} ± {values.std():.1f}" if len(values) > 1 else f"{values.mean():+.1f}"


def _group_gain(g: pd.DataFrame, arm: str, group: str) -> pd.Series:
    """One arm's gains on one group, a value per seed, from ``tables.gains(..., "group")``."""
    return g[(g["arm"] == arm) & (g["name"] == group)]["gain"]


def agreement(results: StudyResults) -> Markdown:
    """Each of the paper's claims, checked against our group gains (mean over seeds, sd as the spread)."""
    g = gains(results, "group")
    arms = results.config.arms

    lines = []
    for arm in arms:
        math = _group_gain(g, arm, "math")
        moved = abs(math.mean()) > (math.std() if len(math) > 1 else 0)
        lines.append(f"- **{arm}**: math {_mean_sd(math)} points, other {_mean_sd(_group_gain(g, arm, 'other'))}, "
                     f"non-reasoning {_mean_sd(_group_gain(g, arm, 'non'))}"
                     + ("" if moved else " (the math change is within the seed spread)"))
    def gains_beyond_spread(values: pd.Series) -> bool:
        return values.mean() > 0 and (len(values) < 2 or values.mean() > values.std())

    paper = paper_group_gains()
    claims = []
    if "grpo" in arms:
        rl_non = _group_gain(g, "grpo", "non").mean()
        claims.append(("RL gains math (by more than the seed spread)",
                       gains_beyond_spread(_group_gain(g, "grpo", "math"))))
        for sft in [a for a in ("sft-think", "sft-nothink") if a in arms]:
            claims.append((f"SFT ({sft}) gains math (by more than the seed spread)",
                           gains_beyond_spread(_group_gain(g, sft, "math"))))
            claims.append((f"RL keeps non-reasoning better than {sft}", rl_non > _group_gain(g, sft, "non").mean()))
    verdicts = "\n".join(f"- {text}: **{'agrees' if ok else 'does not agree'}** with the paper" for text, ok in claims)
    ref = ", ".join(f"{arm} {paper.at[arm, 'math']:+.1f} / {paper.at[arm, 'non']:+.1f}"
                    for arm in paper.index if arm in arms)
    return Markdown("Group gains over the base (mean ± sd over seeds):\n\n" + "\n".join(lines)
                    + f"\n\nThe paper's math / non-reasoning gains: {ref}.\n\n" + verdicts)


def _recipe_lr(results: StudyResults, arm: str) -> float:
    from mathxfer.train.recipes import read_recipe, recipe_path

    return float(read_recipe(recipe_path(results.config.profile, arm), results.config.overrides)["learning_rate"])


def learning_rate_table(results: StudyResults, control: StudyResults | None) -> pd.DataFrame | Markdown:
    """Group gains (mean ± sd over seeds) of every arm at its recipe's learning rate and of the SFT arms
    again at the control's: one row per (arm, learning rate)."""
    if control is None:
        return Markdown("The learning-rate control was not run (`control_lr=None`).")
    rows = []
    for study in (results, control):
        g = gains(study, "group")
        for arm in study.config.arms:
            row = {"arm": arm, "learning rate": f"{_recipe_lr(study, arm):.0e}"}
            for group, label in (("math", "math"), ("other", "other"), ("non", "non-reasoning")):
                row[label] = _mean_sd(_group_gain(g, arm, group))
            rows.append(row)
    order = list(results.config.arms)
    return pd.DataFrame(rows).sort_values("arm", key=lambda s: s.map(order.index), kind="stable").set_index(
        ["arm", "learning rate"])


def learning_rate_summary(results: StudyResults, control: StudyResults | None) -> Markdown:
    """Does an SFT arm still forget non-reasoning skills when it trains at RL's learning rate?"""
    if control is None:
        return Markdown("")
    lr = f"{control.config.overrides['learning_rate']:.0e}"
    own, ctl = gains(results, "group"), gains(control, "group")

    def forgets(values: pd.Series) -> bool:
        return values.mean() < 0 and (len(values) < 2 or -values.mean() > values.std())

    lines = []
    for arm in control.config.arms:
        before, after = _group_gain(own, arm, "non"), _group_gain(ctl, arm, "non")
        lines.append(f"- **{arm}**: non-reasoning {_mean_sd(before)} points at lr {_recipe_lr(results, arm):.0e}, "
                     f"{_mean_sd(after)} at lr {lr}: "
                     + ("still forgets" if forgets(after) else "no forgetting beyond the seed spread"))
    return Markdown(f"Each SFT arm again at lr {lr}, everything else equal:\n\n" + "\n".join(lines))
