"""Altair charts over the tidy frames of ``latent``, ``umap_view`` and ``tokens``.

Each function takes frames those modules return (column names documented per function) and returns
an altair chart; nothing here computes an analysis.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
from IPython.display import Markdown

BASE_COLOR, TUNED_COLOR = "#1f77b4", "#ff7f0e"


def _require(frame: pd.DataFrame, columns: set[str], source: str) -> None:
    missing = columns - set(frame.columns)
    if missing:
        raise ValueError(f"frame lacks columns {sorted(missing)}; pass the frame {source} returns")


def latent_shift_grid(points: pd.DataFrame, width: int = 170, height: int = 150,
                      benchmarks: list[str] | None = None) -> alt.FacetChart:
    """Figure 3: a panel per benchmark (rows: models), base layers as blue circles, tuned layers as
    orange triangles, grey lines joining the same layer, d* written in the panel.
    ``points``: ``latent.shift_frames(...)[0]`` (model, benchmark, layer, role, pc1, pc2, d_star)."""
    _require(points, {"model", "benchmark", "layer", "role", "pc1", "pc2", "d_star"}, "latent.shift_frames")
    base = alt.Chart().encode(x=alt.X("pc1:Q", title="PC1 shift"), y=alt.Y("pc2:Q", title="PC2"))
    lines = base.mark_line(color="lightgray", strokeWidth=1).encode(detail="layer:N", order="role:N")
    marks = base.mark_point(filled=True, size=40, opacity=0.85).encode(
        color=alt.Color("role:N", scale=alt.Scale(domain=["base", "tuned"], range=[BASE_COLOR, TUNED_COLOR]),
                        title=None),
        shape=alt.Shape("role:N", scale=alt.Scale(domain=["base", "tuned"], range=["circle", "triangle-up"]),
                        title=None),
        tooltip=["model:N", "benchmark:N", "layer:Q", "role:N", alt.Tooltip("pc1:Q", format=".2f"),
                 alt.Tooltip("pc2:Q", format=".2f")])
    label = alt.Chart().transform_aggregate(d_star="max(d_star)", groupby=["model", "benchmark"]).transform_calculate(
        text="'d* = ' + format(datum.d_star, '.2f')").mark_text(
        align="left", baseline="top", fontSize=12, fontWeight="bold").encode(
        x=alt.value(6), y=alt.value(6), text="text:N")
    return alt.layer(lines, marks, label, data=points).properties(width=width, height=height).facet(
        row=alt.Row("model:N", title=None),
        column=alt.Column("benchmark:N", title=None, sort=benchmarks or list(dict.fromkeys(points.benchmark)))
    ).resolve_scale(
        x="independent", y="independent")


def umap_scatter(coords: pd.DataFrame | None, width: int = 260, height: int = 240) -> alt.FacetChart | Markdown:
    """Joint UMAP per task group, coloured by model. ``coords``: ``umap_view.umap_by_group`` output
    (group, model, item, x, y), or None when the study did not compute it."""
    if coords is None:
        return Markdown("The UMAP view was not computed (the study's `analysis.umap` is false).")
    _require(coords, {"group", "model", "item", "x", "y"}, "umap_view.umap_by_group")
    return alt.Chart(coords).mark_circle(size=25, opacity=0.7).encode(
        x=alt.X("x:Q", title="UMAP 1", axis=alt.Axis(labels=False)),
        y=alt.Y("y:Q", title="UMAP 2", axis=alt.Axis(labels=False)),
        color=alt.Color("model:N", title="model"), tooltip=["group:N", "model:N", "item:Q"],
    ).properties(width=width, height=height).facet(column=alt.Column("group:N", title=None)).resolve_scale(
        x="independent", y="independent")


def benchmark_bars(ours: pd.DataFrame, value: str, paper: pd.DataFrame | None = None,
                   title: str | None = None) -> alt.FacetChart:
    """Grouped bars, one group per benchmark, one bar per model; with ``paper`` (``paper.paper_long``:
    model, benchmark, value) a second panel shows the reported numbers beside ours.
    Figure 4 uses value='kl_sampled' (or 'kl_full'), Figure 17 value='rank_shift'.
    ``ours``: ``tokens.summary_frame`` output (model, benchmark, <value>)."""
    _require(ours, {"model", "benchmark", value}, "tokens.summary_frame")
    frames = [ours[["model", "benchmark", value]].rename(columns={value: "value"}).assign(source="this run")]
    if paper is not None:
        _require(paper, {"model", "benchmark", "value"}, "paper.paper_long")
        frames.append(paper[["model", "benchmark", "value"]].assign(source="paper"))
    data = pd.concat(frames, ignore_index=True)
    return alt.Chart(data).mark_bar().encode(
        x=alt.X("benchmark:N", title=None, sort=list(dict.fromkeys(data.benchmark))),
        xOffset=alt.XOffset("model:N"),
        y=alt.Y("value:Q", title=title or value),
        color=alt.Color("model:N", title="model"),
        tooltip=["source:N", "model:N", "benchmark:N", alt.Tooltip("value:Q", format=".3f")],
    ).properties(width=300, height=220).facet(
        column=alt.Column("source:N", title=None, sort=["this run", "paper"])).resolve_scale(y="independent")


def position_profile_chart(profile: pd.DataFrame, value_title: str = "mean rank shift") -> alt.FacetChart:
    """Figures 15-16: a value along the response. ``profile``: ``tokens.over(scores, position_profile)``
    (model, benchmark, bin, bin_start, mean, n_tokens)."""
    _require(profile, {"model", "benchmark", "bin_start", "mean", "n_tokens"}, "tokens.over(..., position_profile)")
    return alt.Chart(profile).mark_line(point=True).encode(
        x=alt.X("bin_start:Q", title="position in response (bin start)"),
        y=alt.Y("mean:Q", title=value_title), color=alt.Color("model:N", title="model"),
        tooltip=["model:N", "benchmark:N", "bin_start:Q", alt.Tooltip("mean:Q", format=".3f"), "n_tokens:Q"],
    ).properties(width=220, height=180).facet(column=alt.Column("benchmark:N", title=None))


def shifted_tokens_chart(tokens: pd.DataFrame, top: int = 20) -> alt.Chart | alt.FacetChart:
    """Figure 5 / Table 8: the ``top`` most often shifted tokens, bar length = how often, colour = mean
    signed shift. ``tokens``: ``tokens.shifted_tokens`` output, optionally with a model column (one
    panel per model)."""
    _require(tokens, {"token", "n_shifted", "mean_shift", "n_occurrences"}, "tokens.shifted_tokens")
    by = ["model"] if "model" in tokens.columns else []
    data = (tokens.sort_values("n_shifted", ascending=False).groupby(by, sort=False).head(top)
            if by else tokens.nlargest(top, "n_shifted"))
    chart = alt.Chart(data).mark_bar().encode(
        y=alt.Y("token:N", sort="-x", title=None), x=alt.X("n_shifted:Q", title="shifted occurrences"),
        color=alt.Color("mean_shift:Q", title="mean rank shift", scale=alt.Scale(scheme="redblue", domainMid=0)),
        tooltip=["token:N", "n_shifted:Q", "n_occurrences:Q", alt.Tooltip("mean_shift:Q", format=".1f")],
    ).properties(width=260, height=alt.Step(14))
    return chart.facet(column=alt.Column("model:N", title=None)).resolve_scale(y="independent") if by else chart
