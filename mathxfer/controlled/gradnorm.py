"""Table 7: indicators of each run's gradient-norm curve over its first 100 training steps.

The paper names its seven indicators (early slope, half-life, total, late mean and variance, decay rate,
oscillation) without formulas, so the definitions here are ours, chosen to match the names, and the page
says so (``DEFINITIONS``). They read TRL's logged ``grad_norm`` at the logged steps (every
``logging_steps``), so the early and late windows are fractions of the logged points, not fixed step counts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mathxfer.paths import paper_dir
from mathxfer.study.record import StudyRecord

WINDOW = 100  # Table 7 summarises the first 100 steps
INDICATORS = ("early_slope", "t_half", "total_grad", "late_avg", "late_var", "decay_rate", "oscillation")
DEFINITIONS = {
    "early_slope": "least-squares slope of the norm per step over the first fifth of the logged points",
    "t_half": "first step at which the norm is at most half its early mean (none if it never is within the "
              "window; the mean is over the runs that have one, counted in `halved`)",
    "total_grad": "area under the norm curve over the window (the sum over steps when every step is logged)",
    "late_avg": "mean norm over the last fifth of the logged points",
    "late_var": "variance of the norm over the last fifth of the logged points",
    "decay_rate": "late mean / early mean - 1 (early: the first fifth of the logged points)",
    "oscillation": "mean absolute change between consecutive logged norms, divided by the mean norm",
}
# The paper's Table 7 rows, by the UniReason model an arm stands for (mathxfer.controlled.tables.paper_model).
PAPER_ROWS = {"UniReason-Qwen3-14B-RL": "Qwen3-14B-RL",
              "UniReason-Qwen3-14B-no-think-SFT": "Qwen3-14B-SFT-no-think",
              "UniReason-Qwen3-14B-think-SFT": "Qwen3-14B-SFT-think"}
MIN_POINTS = 5  # fewer logged points leave no early and late fifth to compare


def indicators(steps: np.ndarray | list[float], norms: np.ndarray | list[float],
               window: int = WINDOW) -> dict[str, float]:
    """The seven indicators of one gradient-norm curve, read at its logged steps up to ``window``;
    NaN throughout when fewer than ``MIN_POINTS`` steps were logged there."""
    s, g = np.asarray(steps, dtype=float), np.asarray(norms, dtype=float)
    order = np.argsort(s)
    s, g = s[order], g[order]
    keep = (s <= window) & np.isfinite(g)
    s, g = s[keep], g[keep]
    if len(s) < MIN_POINTS:
        return dict.fromkeys(INDICATORS, float("nan"))
    fifth = max(2, len(s) // 5)
    early, late = g[:fifth], g[-fifth:]
    early_avg = float(early.mean())
    below = np.nonzero(g <= early_avg / 2)[0]
    return {
        "early_slope": float(np.polyfit(s[:fifth], early, 1)[0]),
        "t_half": float(s[below[0]]) if len(below) else float("nan"),
        "total_grad": float(np.trapezoid(g, s)) if len(s) > 1 else float(g.sum()),
        "late_avg": float(late.mean()),
        "late_var": float(late.var()),
        "decay_rate": float(late.mean() / early_avg - 1) if early_avg else float("nan"),
        "oscillation": float(np.abs(np.diff(g)).mean() / g.mean()) if g.mean() else float("nan"),
    }


def run_indicators(record: StudyRecord, variant: str = "main") -> pd.DataFrame:
    """One row per (arm, seed): the indicators of its logged ``grad_norm``."""
    metrics = record.metrics(variant)
    rows = []
    if "grad_norm" in metrics.columns:
        for (arm, seed), run in metrics.dropna(subset=["grad_norm"]).groupby(["arm", "seed"], sort=False):
            rows.append({"arm": arm, "seed": seed, **indicators(run["step"], run["grad_norm"])})
    return pd.DataFrame(rows, columns=["arm", "seed", *INDICATORS])


def table7(record: StudyRecord) -> pd.DataFrame:
    """Each arm's indicators (mean over seeds, with the number of seeds) and, below, the paper's Table 7 rows
    for the arms that stand for a UniReason model."""
    from mathxfer.controlled.tables import paper_models

    per_run = run_indicators(record)
    ours = per_run.groupby("arm", sort=False)[list(INDICATORS)].mean()
    ours.insert(0, "seeds", per_run.groupby("arm", sort=False)["seed"].count())
    # a run whose norm never halves has no t_half: the mean is over the runs that have one, counted here
    ours.insert(list(ours.columns).index("t_half") + 1, "halved", per_run.groupby("arm", sort=False)["t_half"].count())
    ours = ours.reindex(record.arms)  # an arm that logged no norm keeps its row: 0 seeds, no indicator
    ours[["seeds", "halved"]] = ours[["seeds", "halved"]].fillna(0)
    ours.insert(0, "source", "ours")
    paper = pd.read_csv(paper_dir() / "grad_norm_indicators.csv").set_index("model")
    rows = {f"{arm} (paper: {PAPER_ROWS[m]})": paper.loc[PAPER_ROWS[m], list(INDICATORS)]
            for arm, m in paper_models(record).items() if m in PAPER_ROWS}
    theirs = pd.DataFrame(rows).T
    theirs.insert(0, "seeds", float("nan"))
    theirs.insert(list(theirs.columns).index("t_half") + 1, "halved", float("nan"))
    theirs.insert(0, "source", "paper Table 7")
    out = pd.concat([ours, theirs.astype({c: float for c in INDICATORS})])
    out[["seeds", "halved"]] = out[["seeds", "halved"]].astype("Int64")  # counts; the paper's rows have none
    out.index.name = "arm"
    return out


# The paper's reading of Table 7: RL's gradients are smaller in total, oscillate less and fall less than SFT's.
# Each indicator with the sign that makes "RL below SFT" the paper's ordering (decay rates are negative: a
# smaller fall is a larger rate).
PAPER_ORDER = {"total_grad": ("a smaller total", 1), "oscillation": ("less oscillation", 1),
               "decay_rate": ("a smaller fall (a higher decay rate)", -1)}


def comparison(record: StudyRecord) -> pd.DataFrame:
    """For each RL arm against each SFT arm: per indicator of ``PAPER_ORDER``, whether the two means are
    ordered as in the paper's Table 7."""
    per_run = run_indicators(record)
    means = per_run.groupby("arm")[list(PAPER_ORDER)].mean()
    rl = [a for a in record.arms if a in means.index and record.kind_of(a) == "RL"]
    sft = [a for a in record.arms if a in means.index and record.kind_of(a) == "SFT"]
    rows = []
    for r in rl:
        for s in sft:
            for ind, (_, sign) in PAPER_ORDER.items():
                a, b = means.at[r, ind], means.at[s, ind]
                rows.append({"rl": r, "sft": s, "indicator": ind, "rl_value": a, "sft_value": b,
                             "as_paper": bool(sign * a < sign * b) if pd.notna(a) and pd.notna(b) else None})
    return pd.DataFrame(rows, columns=["rl", "sft", "indicator", "rl_value", "sft_value", "as_paper"])


def note(record: StudyRecord):
    """The page's statement of Table 7: which of the paper's orderings (RL below SFT) hold here."""
    from IPython.display import Markdown

    cmp = comparison(record).dropna(subset=["as_paper"])
    seeds = len(record.spec.seeds)
    if cmp.empty:
        return Markdown("No RL and SFT arm both logged enough gradient norms in their first "
                        f"{WINDOW} steps (at least {MIN_POINTS} logged points) to compare.")
    lines = [f"Orderings of the means over {seeds} seed(s), no test of significance; the norms' scale depends "
             "on the model and the loss, so only the orderings are compared with the paper's:"]
    for ind, (words, _) in PAPER_ORDER.items():
        part = cmp[cmp["indicator"] == ind]
        held = int(part["as_paper"].sum())
        lines.append(f"- RL shows {words} than SFT (the paper's Table 7): **{held} of {len(part)}** RL/SFT pairs "
                     "here (" + ", ".join(f"{r.rl} {r.rl_value:.3g} vs {r.sft} {r.sft_value:.3g}"
                                          for r in part.itertuples()) + ").")
    return Markdown("\n".join(lines))


def definitions():
    """The indicators' definitions (ours: the paper gives names only), as a list for the page."""
    from IPython.display import Markdown

    return Markdown(f"Over each run's first {WINDOW} steps, at its logged steps; the paper names these indicators "
                    "without formulas, so these definitions are ours:\n\n"
                    + "\n".join(f"- `{k}`: {v}" for k, v in DEFINITIONS.items()))
