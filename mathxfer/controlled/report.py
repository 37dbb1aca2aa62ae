"""The chapter's plain statements of where our run agrees with the paper, computed from the numbers."""

from __future__ import annotations

import pandas as pd
from IPython.display import Markdown

from mathxfer.controlled.study import StudyResults
from mathxfer.controlled.tables import gains, paper_group_gains


def _mean_sd(values: pd.Series) -> str:
    return f"{values.mean():+.1f} ± {values.std():.1f}" if len(values) > 1 else f"{values.mean():+.1f}"


def agreement(results: StudyResults) -> Markdown:
    """Each of the paper's claims, checked against our group gains (mean over seeds, sd as the spread)."""
    g = gains(results, "group")
    arms = results.config.arms

    def per(arm: str, group: str) -> pd.Series:
        return g[(g["arm"] == arm) & (g["name"] == group)]["gain"]

    lines = []
    for arm in arms:
        math = per(arm, "math")
        moved = abs(math.mean()) > (math.std() if len(math) > 1 else 0)
        lines.append(f"- **{arm}**: math {_mean_sd(math)} points, other {_mean_sd(per(arm, 'other'))}, "
                     f"non-reasoning {_mean_sd(per(arm, 'non'))}"
                     + ("" if moved else " (the math change is within the seed spread)"))
    def gains_beyond_spread(values: pd.Series) -> bool:
        return values.mean() > 0 and (len(values) < 2 or values.mean() > values.std())

    paper = paper_group_gains()
    claims = []
    if "grpo" in arms:
        rl_non = per("grpo", "non").mean()
        claims.append(("RL gains math (by more than the seed spread)", gains_beyond_spread(per("grpo", "math"))))
        for sft in [a for a in ("sft-think", "sft-nothink") if a in arms]:
            claims.append((f"SFT ({sft}) gains math (by more than the seed spread)",
                           gains_beyond_spread(per(sft, "math"))))
            claims.append((f"RL keeps non-reasoning better than {sft}", rl_non > per(sft, "non").mean()))
    verdicts = "\n".join(f"- {text}: **{'agrees' if ok else 'does not agree'}** with the paper" for text, ok in claims)
    ref = ", ".join(f"{arm} {paper.at[arm, 'math']:+.1f} / {paper.at[arm, 'non']:+.1f}"
                    for arm in paper.index if arm in arms)
    return Markdown("Group gains over the base (mean ± sd over seeds):\n\n" + "\n".join(lines)
                    + f"\n\nThe paper's math / non-reasoning gains: {ref}.\n\n" + verdicts)
