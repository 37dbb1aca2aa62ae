"""Beyond the paper: is it the method or the step size? Every run of the sweep study as one point.

The controlled experiment compares SFT and RL at one learning rate each (SFT's higher, as in the paper), so
"SFT forgets" may be "a larger step forgets". Here each method is run at several learning rates
(``recipes/<profile>/sweep.yaml``): x is the math gain, y the non-math gain (the mean of the other-reasoning
and non-reasoning gains; 0 = nothing forgotten). A method's Pareto frontier is its points that no other point
of the same method beats on both axes. RL dominates SFT at matched gain when every SFT frontier point is beaten
on both axes by an RL point (``dominance``). RL's Razor (Shenfeld et al. 2025) reads the same picture through
one number: forgetting follows KL(base || tuned) on the training prompts, whatever the method (``kl_fit``).
"""

from __future__ import annotations

from typing import NamedTuple

import altair as alt
import numpy as np
import pandas as pd
from IPython.display import Markdown

from mathxfer.controlled.charts import ARM_COLORS
from mathxfer.controlled.report import format_mean_sd
from mathxfer.controlled.tables import gains
from mathxfer.study.plan import lr_label
from mathxfer.study.record import StudyRecord

NON_MATH = ("other", "non")
RAZOR_R2 = 0.96  # RL's Razor: forward KL predicts forgetting on its toy setting (ParityMNIST)
FORGETS = 2.0  # points of non-math gain lost before the note calls a point forgetting (micro's sd is 0.2-2)


def points(record: StudyRecord) -> pd.DataFrame:
    """One row per run, every variant: arm, kind, variant, learning_rate, seed, the math, other and non
    gains (points), nonmath (their mean), forgetting (minus nonmath) and kl (nan where not measured)."""
    from mathxfer.study.analyses import drift_for

    rows = []
    for variant in record.variants():
        g = gains(record, "group", variant).pivot_table(index=["arm", "seed"], columns="name", values="gain")
        for run in record.select(variant):
            row = g.loc[(run.arm, run.seed)]
            rows.append({"arm": run.arm, "kind": run.kind, "variant": variant,
                         "learning_rate": float(run.recipe["learning_rate"]), "seed": run.seed,
                         "math": row["math"], "other": row["other"], "non": row["non"]})
    out = pd.DataFrame(rows, columns=["arm", "kind", "variant", "learning_rate", "seed", "math", "other", "non"])
    out["nonmath"] = out[list(NON_MATH)].mean(axis=1)
    out["forgetting"] = -out["nonmath"]
    kl = drift_for(record)
    out = out.merge(kl, on=["arm", "variant", "seed"], how="left") if not kl.empty else out.assign(kl=np.nan)
    return out


def summary(pts: pd.DataFrame) -> pd.DataFrame:
    """One row per (arm, learning rate): mean and sd over seeds of the math and non-math gains, the seeds,
    and whether the point is on its arm's Pareto frontier."""
    out = (pts.groupby(["arm", "kind", "learning_rate"], sort=False)
           .agg(math=("math", "mean"), math_sd=("math", "std"), nonmath=("nonmath", "mean"),
                nonmath_sd=("nonmath", "std"), seeds=("seed", "count"), kl=("kl", "mean"))
           .reset_index())
    out[["math_sd", "nonmath_sd"]] = out[["math_sd", "nonmath_sd"]].fillna(0.0)
    out["frontier"] = [on_frontier(out[out["arm"] == r.arm], r.math, r.nonmath) for r in out.itertuples()]
    return out.sort_values(["arm", "learning_rate"], kind="stable").reset_index(drop=True)


def beats(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Point a = (math, nonmath) dominates b: at least as good on both axes, better on one."""
    return a[0] >= b[0] and a[1] >= b[1] and (a[0] > b[0] or a[1] > b[1])


def on_frontier(same_arm: pd.DataFrame, math: float, nonmath: float) -> bool:
    return not any(beats((m, n), (math, nonmath)) for m, n in zip(same_arm["math"], same_arm["nonmath"]))


class Dominance(NamedTuple):
    point: str  # a frontier point of the method compared ("arm at lr")
    beaten_by: str | None  # the other method's point that beats it on both axes ("arm at lr"), None: none does
    reachable: bool  # some point of the other method reaches at least its math gain


def _name(row: pd.Series | tuple) -> str:
    return f"{row.arm} at {lr_label(row.learning_rate)}"


def dominance(summ: pd.DataFrame, kind: str = "SFT", by: str = "RL") -> list[Dominance]:
    """For each frontier point of the ``kind`` arms: the point of a ``by`` arm (any arm, any rate) that beats
    it, the one keeping the most when several do."""
    others = summ[summ["kind"] == by]
    out = []
    for p in summ[(summ["kind"] == kind) & summ["frontier"]].itertuples():
        winners = [q for q in others.itertuples() if beats((q.math, q.nonmath), (p.math, p.nonmath))]
        best = max(winners, key=lambda q: q.nonmath, default=None)
        out.append(Dominance(_name(p), _name(best) if best is not None else None,
                             bool((others["math"] >= p.math).any())))
    return out


class Fit(NamedTuple):
    slope: float  # points of forgetting per nat
    intercept: float
    r2: float
    n: int


def kl_fit(pts: pd.DataFrame) -> Fit | None:
    """Least-squares line of forgetting (points) on KL(base || tuned) over every run with a KL; None when
    fewer than 3 runs have one, or the KL or the forgetting is the same for all (no line to fit, no R^2)."""
    data = pts.dropna(subset=["kl", "forgetting"])
    if len(data) < 3 or np.ptp(data["kl"].to_numpy()) == 0 or np.ptp(data["forgetting"].to_numpy()) == 0:
        return None
    x, y = data["kl"].to_numpy(float), data["forgetting"].to_numpy(float)
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (slope * x + intercept)
    total = ((y - y.mean()) ** 2).sum()
    r2 = 1.0 - (residual ** 2).sum() / total
    return Fit(float(slope), float(intercept), float(r2), len(data))


def _color(arms: list[str]) -> alt.Color:
    return alt.Color("arm:N", sort=arms, scale=alt.Scale(domain=arms, range=[ARM_COLORS.get(a, "#9d9d9d")
                                                                              for a in arms]),
                     legend=alt.Legend(orient="top"))


def frontier_chart(summ: pd.DataFrame) -> alt.LayerChart:
    """Math gain (x) against non-math gain (y), one point per (arm, rate) with sd bars over seeds, each
    arm's frontier joined by a line; circles SFT, triangles RL, larger marks for larger rates."""
    arms = list(dict.fromkeys(summ["arm"]))
    data = summ.assign(lr=summ["learning_rate"].map(lr_label),
                       x_lo=summ["math"] - summ["math_sd"], x_hi=summ["math"] + summ["math_sd"],
                       y_lo=summ["nonmath"] - summ["nonmath_sd"], y_hi=summ["nonmath"] + summ["nonmath_sd"])
    x = alt.X("math:Q", title="math gain over the base (points)")
    y = alt.Y("nonmath:Q", title="non-math gain (points; 0 = nothing forgotten)")
    base = alt.Chart(data)
    rates = [lr_label(v) for v in sorted(set(summ["learning_rate"]))]
    dots = base.mark_point(filled=True, opacity=0.85).encode(
        x=x, y=y, color=_color(arms), shape=alt.Shape("kind:N", title="method",
                                                      scale=alt.Scale(domain=["SFT", "RL"],
                                                                      range=["circle", "triangle-up"])),
        size=alt.Size("lr:O", title="learning rate", sort=rates, scale=alt.Scale(domain=rates, range=[30, 300])),
        tooltip=["arm:N", "lr:N", alt.Tooltip("math:Q", format="+.1f"), alt.Tooltip("nonmath:Q", format="+.1f"),
                 "seeds:Q", "frontier:N"])
    xbars = base.mark_rule(opacity=0.5).encode(x="x_lo:Q", x2="x_hi:Q", y="nonmath:Q", color=_color(arms))
    ybars = base.mark_rule(opacity=0.5).encode(x="math:Q", y="y_lo:Q", y2="y_hi:Q", color=_color(arms))
    line = alt.Chart(data[data["frontier"]]).mark_line(strokeDash=[4, 2]).encode(
        x="math:Q", y="nonmath:Q", color=_color(arms), order="math:Q")
    zero = alt.Chart().mark_rule(color="black", strokeWidth=0.6).encode(y=alt.datum(0))
    return alt.layer(zero, xbars, ybars, line, dots).properties(
        width=420, height=300, title="Each method at several learning rates (mean ± sd over seeds)")


def kl_chart(pts: pd.DataFrame, fit: Fit | None) -> alt.LayerChart | Markdown:
    """Forgetting (y) against KL(base || tuned) on the training prompts (x), one point per run, the line."""
    data = pts.dropna(subset=["kl"])
    if data.empty:
        return Markdown("No run has a KL on the training prompts (the study's `sweep.kl_prompts` is 0).")
    arms = list(dict.fromkeys(data["arm"]))
    data = data.assign(lr=data["learning_rate"].map(lr_label))
    dots = alt.Chart(data).mark_point(filled=True, size=60).encode(
        x=alt.X("kl:Q", title="KL(base || tuned) on the math training prompts (nats per answer)"),
        y=alt.Y("forgetting:Q", title="forgetting: minus the non-math gain (points)"), color=_color(arms),
        shape=alt.Shape("kind:N", title="method", scale=alt.Scale(domain=["SFT", "RL"],
                                                                  range=["circle", "triangle-up"])),
        tooltip=["arm:N", "lr:N", "seed:Q", alt.Tooltip("kl:Q", format=".3f"),
                 alt.Tooltip("forgetting:Q", format="+.1f")])
    layers: list[alt.Chart] = [dots]
    if fit is not None:
        xs = np.linspace(0.0, float(data["kl"].max()), 20)
        line = pd.DataFrame({"kl": xs, "forgetting": fit.slope * xs + fit.intercept})
        layers.append(alt.Chart(line).mark_line(color="black", strokeDash=[4, 2]).encode(x="kl:Q", y="forgetting:Q"))
    title = "Forgetting against KL, every run" + (f" (line: R² = {fit.r2:.2f})" if fit else "")
    return alt.layer(*layers).properties(width=420, height=280, title=title)


def point_table(summ: pd.DataFrame) -> pd.DataFrame:
    """The points of the frontier chart as a table."""
    out = summ.assign(**{"learning rate": summ["learning_rate"].map(lr_label),
                         "math gain": list(map(format_mean_sd, summ["math"], summ["math_sd"], summ["seeds"])),
                         "non-math gain": list(map(format_mean_sd, summ["nonmath"], summ["nonmath_sd"],
                                                   summ["seeds"])),
                         "KL (nats)": summ["kl"].map(lambda v: "" if pd.isna(v) else f"{v:.3f}"),
                         "on its frontier": summ["frontier"].map({True: "yes", False: ""})})
    return out.set_index(["arm", "learning rate"])[["kind", "seeds", "math gain", "non-math gain", "KL (nats)",
                                                    "on its frontier"]]


def kl_measure(record: StudyRecord) -> Markdown:
    """What the KL was measured on, from the study file."""
    from mathxfer.analysis.drift import describe

    n = record.spec.sweep.kl_prompts
    return Markdown(f"{describe(n)}." if n else "This study measures no KL (its `sweep.kl_prompts` is 0).")


def note(pts: pd.DataFrame) -> Markdown:
    """The chapter's answer, computed from ``points``: does RL dominate SFT at matched gain, and how well KL
    predicts forgetting, beside the paper's and RL's Razor's claims."""
    summ = summary(pts)
    lines = []
    if summ[summ["kind"] == "SFT"].empty or summ[summ["kind"] == "RL"].empty:
        lines.append("The sweep has no SFT or no RL arm, so the methods cannot be compared.")
    for kind, by, question in (("SFT", "RL", "Does RL dominate SFT at matched gain here?"),
                               ("RL", "SFT", "And the other way round: does SFT dominate RL?")):
        dom = dominance(summ, kind, by)
        if not dom or summ[summ["kind"] == by].empty:
            continue
        beaten = [d for d in dom if d.beaten_by]
        answer = "**yes**: every" if len(beaten) == len(dom) else "**no**: not every" if beaten else "**no**: no"
        lines.append(f"{question} {answer} {kind} frontier point is beaten on both axes by an {by} point "
                     f"({len(beaten)} of {len(dom)}; means over seeds, no test of significance).")
        lines += [f"- {d.point}: " + (f"beaten by {d.beaten_by}" if d.beaten_by else f"no {by} point beats it"
                                      + ("" if d.reachable else f" (no {by} point reaches its math gain)"))
                  for d in dom]
        lines.append("")
    forgot = summ[summ["nonmath"] < -FORGETS]
    lines.append(f"Points that forget (a non-math gain below -{FORGETS:g} points): " + (
        ", ".join(f"{_name(r)} ({r.nonmath:+.1f})" for r in forgot.itertuples()) if len(forgot) else "none")
                 + f"; every other point keeps its non-math skills within {FORGETS:g} points.\n")
    fit = kl_fit(pts)
    if fit is None:
        lines.append("No line of forgetting against KL(base || tuned) can be fitted here: fewer than 3 runs have a "
                     "KL, or every run has the same KL or the same forgetting.")
    else:
        lines.append(f"Forgetting against KL(base || tuned) over {fit.n} runs: {fit.slope:+.1f} points per nat, "
                     f"R² = **{fit.r2:.2f}** (RL's Razor: R² about {RAZOR_R2} on its toy setting).")
    seeds = sorted(set(summ["seeds"]))
    lines.append(f"\nThe points have {' or '.join(map(str, seeds))} seed(s) each (the table says which); a point "
                 "with one seed has no error bar, so its place on a frontier is the least certain.")
    lines.append("\nThe paper compares each method at one learning rate (SFT 5e-5, RL 1e-6) and reads the gap as "
                 "the method's; RL's Razor (Shenfeld et al. 2025) compares frontiers and finds RL forgets less at "
                 "matched gain, because its updates stay closer to the base in KL.")
    return Markdown("\n".join(lines))
