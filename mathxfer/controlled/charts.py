"""Figures of the controlled study: gains over the base (Figure 1) and training dynamics (Figures 6, 14)."""

from __future__ import annotations

import altair as alt
import pandas as pd
from IPython.display import Markdown

from mathxfer.groups import GROUP_LABELS

ARM_COLORS = {"grpo": "#f58518", "grpo-kl": "#e45756", "sft-think": "#4c78a8", "sft-nothink": "#72b7b2",
              "onpolicy-sft": "#54a24b", "online-sft": "#2f7d32", "offpolicy-rl": "#eeca3b", "sft-gold": "#b279a2"}


def _arm_color(arms: list[str]) -> alt.Color:
    palette = [ARM_COLORS.get(a, "#9d9d9d") for a in arms]
    return alt.Color("arm:N", title="arm", sort=arms, scale=alt.Scale(domain=arms, range=palette),
                     legend=alt.Legend(orient="top"))


def gains_chart(gains: pd.DataFrame, arms: list[str], title: str) -> alt.FacetChart:
    """Mean gain over the base per name (group or family), one bar per arm, error bars = sd over seeds."""
    stats = gains.groupby(["arm", "group", "name"], sort=False)["gain"].agg(["mean", "std", "count"]).reset_index()
    stats["std"] = stats["std"].fillna(0.0)
    stats["lo"], stats["hi"] = stats["mean"] - stats["std"], stats["mean"] + stats["std"]
    stats["panel"] = stats["group"].map(GROUP_LABELS)
    names = list(dict.fromkeys(gains["name"]))
    x = alt.X("name:N", sort=names, title=None, axis=alt.Axis(labelAngle=-30))
    bars = alt.Chart().mark_bar().encode(
        x=x, xOffset=alt.XOffset("arm:N", sort=arms), y=alt.Y("mean:Q", title="gain over the base (points)"),
        color=_arm_color(arms),
        tooltip=["arm:N", "name:N", alt.Tooltip("mean:Q", format="+.1f", title="mean gain"),
                 alt.Tooltip("std:Q", format=".1f", title="sd over seeds"), alt.Tooltip("count:Q", title="seeds")])
    errors = alt.Chart().mark_rule(color="black").encode(
        x=x, xOffset=alt.XOffset("arm:N", sort=arms), y="lo:Q", y2="hi:Q")
    zero = alt.Chart().mark_rule(color="black", strokeWidth=0.6).encode(y=alt.datum(0))
    return alt.layer(zero, bars, errors, data=stats).properties(width=alt.Step(14), height=240).facet(
        column=alt.Column("panel:N", title=None, sort=list(GROUP_LABELS.values())),
    ).resolve_scale(x="independent").properties(title=title)


def dynamics_chart(metrics: pd.DataFrame, field: str, title: str, arms: list[str]) -> alt.Chart | Markdown:
    """One logged quantity along training, a line per (arm, seed)."""
    if field not in metrics.columns or metrics[field].isna().all():
        return Markdown(f"No run logged *{title}* (it is logged every `logging_steps` steps, and only by the "
                        "arms that have it).")
    data = metrics.dropna(subset=[field])[["arm", "seed", "step", field]].copy()
    data["run"] = data["arm"] + " seed " + data["seed"].astype(str)
    return alt.Chart(data).mark_line(opacity=0.8).encode(
        x=alt.X("step:Q", title="training step"), y=alt.Y(f"{field}:Q", title=title),
        color=_arm_color([a for a in arms if a in set(data["arm"])]), detail="run:N",
        tooltip=["run:N", "step:Q", alt.Tooltip(f"{field}:Q", format=".3f")],
    ).properties(width=300, height=200, title=title)


def response_length_chart(lengths: pd.DataFrame, groups: dict[str, str], arms: list[str]) -> alt.Chart | Markdown:
    """Figure 14's question for every arm: how long the evaluated answers are, mean words per group, the base
    beside the arms (error bars: sd over seeds; the base has one)."""
    if lengths.empty:
        return Markdown("No evaluation logged its responses.")
    data = lengths.assign(group=lengths["name"].map(groups).map(GROUP_LABELS))
    per_run = data.groupby(["arm", "seed", "group"], sort=False)["words"].mean().reset_index()
    stats = per_run.groupby(["arm", "group"], sort=False)["words"].agg(["mean", "std"]).reset_index()
    stats["std"] = stats["std"].fillna(0.0)
    stats["lo"], stats["hi"] = stats["mean"] - stats["std"], stats["mean"] + stats["std"]
    order = ["base", *arms]
    color = alt.Color("arm:N", title="arm", sort=order, legend=alt.Legend(orient="top"),
                      scale=alt.Scale(domain=order, range=["#9d9d9d", *(ARM_COLORS.get(a, "#bab0ac") for a in arms)]))
    x = alt.X("group:N", title=None, sort=list(GROUP_LABELS.values()))
    bars = alt.Chart().mark_bar().encode(
        x=x, xOffset=alt.XOffset("arm:N", sort=order), y=alt.Y("mean:Q", title="mean response length (words)"),
        color=color, tooltip=["arm:N", "group:N", alt.Tooltip("mean:Q", format=".1f", title="mean words"),
                              alt.Tooltip("std:Q", format=".1f", title="sd over seeds")])
    errors = alt.Chart().mark_rule(color="black").encode(x=x, xOffset=alt.XOffset("arm:N", sort=order),
                                                           y="lo:Q", y2="hi:Q")
    return alt.layer(bars, errors, data=stats).properties(width=alt.Step(16), height=220,
                                                          title="Response length on the evaluation, per group")
