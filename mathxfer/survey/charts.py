"""The survey's figures in altair: Figure 2 (TI by base family), a gain heatmap, Figure 1 (UniReason gains)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from mathxfer.groups import BENCHMARKS, GROUP_LABELS
from mathxfer.survey.table import Survey

METHOD_COLORS = {"RL": "#f58518", "SFT": "#4c78a8", "official": "#9d9d9d", "other": "#b279a2"}
UNIREASON = ("UniReason-Qwen3-14B-RL", "UniReason-Qwen3-14B-think-SFT", "UniReason-Qwen3-14B-no-think-SFT")


def _method_color(methods: pd.Series) -> alt.Color:
    present = [m for m in METHOD_COLORS if m in set(methods)]
    return alt.Color("method:N", title="post-training", legend=alt.Legend(orient="top"),
                     scale=alt.Scale(domain=present, range=[METHOD_COLORS[m] for m in present]))


def ti_by_family(survey: Survey, ti: pd.DataFrame, methods: tuple[str, ...] = ("RL", "SFT")) -> alt.FacetChart:
    """Figure 2: each tuned model's TI, grouped by base family, RL vs SFT colours, dashed mean lines,
    one panel for other reasoning and one for non-reasoning; tooltips carry the model and its numbers."""
    rows = ti[ti["method"].isin(methods)].copy()
    math_gain = survey.gains().query("group == 'math'").groupby("model")["gain"].mean()
    rows["math_gain"] = rows["model"].map(math_gain)
    # one row per (model, panel); the wide TI columns stay on every row for the tooltip
    long = pd.concat([rows.assign(panel=GROUP_LABELS[g], TI=rows[f"TI_{g}"]) for g in ("other", "non")],
                     ignore_index=True)
    long = long.dropna(subset=["TI"])
    families = [f for f in dict.fromkeys(survey.models["family"]) if f in set(long["family"])]
    tooltip = [alt.Tooltip("model:N"), alt.Tooltip("base_model:N", title="base"),
               alt.Tooltip("method:N"), alt.Tooltip("math_gain:Q", title="mean math gain (pts)", format=".1f"),
               alt.Tooltip("TI_other:Q", format=".1f"), alt.Tooltip("TI_non:Q", format=".1f")]
    points = alt.Chart().mark_point(filled=True, size=90, opacity=0.9).encode(
        x=alt.X("family:N", sort=families, title="base model family",
                axis=alt.Axis(labelAngle=-40, labelLimit=120)),
        xOffset=alt.XOffset("model:N"),
        y=alt.Y("TI:Q", title="Transferability Index"),
        color=_method_color(long["method"]),
        shape=alt.Shape("method:N", legend=None),
        tooltip=tooltip,
    )
    means = alt.Chart().mark_rule(strokeDash=[6, 4], strokeWidth=2).encode(
        y="mean(TI):Q", color=_method_color(long["method"]),
        tooltip=[alt.Tooltip("method:N"), alt.Tooltip("mean(TI):Q", title="mean TI", format=".1f")])
    zero = alt.Chart().mark_rule(color="black", strokeWidth=0.6).encode(y=alt.datum(0))
    return alt.layer(zero, means, points, data=long).properties(width=270, height=300).facet(
        column=alt.Column("panel:N", title=None, sort=[GROUP_LABELS["other"], GROUP_LABELS["non"]]),
    ).resolve_scale(y="independent").properties(title="Transferability of math gains, by base family")


def gain_heatmap(survey: Survey) -> alt.LayerChart:
    """Each tuned model's per-benchmark gain over its own base, in points."""
    gains = survey.gains().dropna(subset=["gain"])  # a benchmark a model was not scored on: no cell
    models = list(dict.fromkeys(gains["model"]))
    base = alt.Chart(gains).encode(
        x=alt.X("benchmark:N", sort=list(BENCHMARKS), title=None, axis=alt.Axis(labelAngle=-40)),
        y=alt.Y("model:N", sort=models, title=None),
        tooltip=["model:N", "base_model:N", "benchmark:N", alt.Tooltip("score:Q", format=".1f"),
                 alt.Tooltip("base_score:Q", format=".1f"), alt.Tooltip("gain:Q", format="+.1f")],
    )
    limit = float(gains["gain"].abs().max())
    cells = base.mark_rect().encode(color=alt.Color(
        "gain:Q", title="gain (pts)", scale=alt.Scale(scheme="redblue", domain=[-limit, limit], domainMid=0)))
    labels = base.mark_text(fontSize=9).encode(
        text=alt.Text("gain:Q", format=".0f"),
        color=alt.condition(f"abs(datum.gain) > {limit * 0.6}", alt.value("white"), alt.value("black")))
    return (cells + labels).properties(width=460, height=16 * len(models),
                                       title="Gain of each tuned model over its own base, per benchmark")


def gains_over_base(survey: Survey, models: tuple[str, ...] = UNIREASON) -> alt.FacetChart:
    """Figure 1: per-benchmark gains of the given models over their base, one panel per benchmark group."""
    gains = survey.gains()
    gains = gains[gains["model"].isin(models)].copy()
    gains["panel"] = gains["group"].map(GROUP_LABELS)
    order = [m for m in models if m in set(gains["model"])]
    bars = alt.Chart().mark_bar().encode(
        x=alt.X("benchmark:N", sort=list(BENCHMARKS), title=None, axis=alt.Axis(labelAngle=-30)),
        xOffset=alt.XOffset("model:N", sort=order),
        y=alt.Y("gain:Q", title="gain over the base (pts)"),
        color=alt.Color("model:N", sort=order, title=None, legend=alt.Legend(orient="bottom")),
        tooltip=["model:N", "benchmark:N", alt.Tooltip("score:Q", format=".1f"),
                 alt.Tooltip("base_score:Q", format=".1f"), alt.Tooltip("gain:Q", format="+.1f")],
    )
    zero = alt.Chart().mark_rule(color="black", strokeWidth=0.6).encode(y=alt.datum(0))
    return alt.layer(zero, bars, data=gains).properties(width=170, height=260).facet(
        column=alt.Column("panel:N", title=None, sort=list(GROUP_LABELS.values())),
    ).resolve_scale(x="independent").properties(title="Gains over Qwen3-14B-Base (the paper's Figure 1)")
