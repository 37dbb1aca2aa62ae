"""Table 1, gains and TI for a study record, with the paper's numbers beside ours.

The tasks and their groups come from the record: micro task families, or the paper's benchmarks in its
three groups for real models, so every table here serves every profile.
"""

from __future__ import annotations

import pandas as pd

from mathxfer.groups import ADDED_BENCHMARKS, BENCHMARK_GROUPS, GROUP_LABELS, GROUPS, Group
from mathxfer.paths import paper_dir
from mathxfer.study.record import StudyRecord
from mathxfer.survey.ti import Reading, transferability_table

PAPER_BASE = "Qwen3-14B-Base"


def paper_model(recipe: dict[str, object]) -> str | None:
    """The paper's UniReason model (Table 1) an arm stands for, from its recipe: RL, or SFT on think /
    no-think distilled solutions; other arms (on-policy or human-written SFT) have no Table 1 twin."""
    if recipe.get("method") == "grpo":
        return "UniReason-Qwen3-14B-RL"
    if recipe.get("method") == "sft":
        return {"think": "UniReason-Qwen3-14B-think-SFT",
                "no-think": "UniReason-Qwen3-14B-no-think-SFT"}.get(str(recipe.get("sft_target")))
    return None


def paper_models(record: StudyRecord) -> dict[str, str]:
    out = {}
    for run in record.select("main"):
        if (model := paper_model(run.recipe)) is not None:
            out.setdefault(run.arm, model)
    return out


def task_groups(record: StudyRecord) -> dict[Group, list[str]]:
    """The record's tasks per group, in evaluation order (the study's 'benchmarks')."""
    return {g: record.tasks(g) for g in GROUPS if record.tasks(g)}


def _wide(record: StudyRecord, by: str = "task", variant: str = "main") -> pd.DataFrame:
    """Rows: (arm, seed) models and the base; columns: tasks or groups; accuracy in percent."""
    acc = record.accuracy(by, variant)
    acc["model"] = acc["arm"] + acc["seed"].map(lambda s: "" if s < 0 else f"/seed{s}")
    return acc.pivot_table(index="model", columns="name", values="accuracy", sort=False)


def standard_errors(record: StudyRecord) -> pd.DataFrame:
    """Long table of each model's sampling standard error (points): arm, seed, name (benchmark or group), se.
    A benchmark's is the binomial sqrt(p (100 - p) / n) over its n items (a 0/1 score per item; for several
    samples per item, or IFEval's instruction-level score, an upper bound); a group average's combines its
    benchmarks' as independent. Empty for the micro world."""
    counts = record.item_counts()
    if counts.empty:
        return pd.DataFrame(columns=["arm", "seed", "name", "se"])
    acc = record.accuracy("task").merge(counts, on=["arm", "seed", "name"])
    acc["se"] = (acc["accuracy"] * (100 - acc["accuracy"]) / acc["n"]).pow(0.5)
    acc["group"] = acc["name"].map(record.groups)
    groups = acc.groupby(["arm", "seed", "group"], sort=False)["se"].agg(
        lambda se: float((se.pow(2).sum()) ** 0.5 / len(se))).reset_index().rename(columns={"group": "name"})
    return pd.concat([acc[["arm", "seed", "name", "se"]], groups], ignore_index=True)


def table1(record: StudyRecord) -> pd.DataFrame:
    """Accuracy (%) per task and group: the base, then each arm as mean ± sd over seeds; for one seed of a
    benchmark study, the accuracy ± its sampling standard error (``standard_errors``). A benchmark that could
    not be evaluated reads "absent" (``side_by_side_benchmarks`` gives the reason), never 0."""
    groups = task_groups(record)
    label = {g: f"{GROUP_LABELS[g]} (avg)" for g in GROUPS}
    long = pd.concat([record.accuracy("task"), record.accuracy("group").assign(name=lambda d: d["name"].map(label))])
    stats = long.groupby(["arm", "name"], sort=False)["accuracy"].agg(["mean", "std", "count"]).reset_index()
    se = standard_errors(record).assign(name=lambda d: d["name"].map(lambda n: label.get(n, n)))
    stats = stats.merge(se.groupby(["arm", "name"])["se"].mean().reset_index(), on=["arm", "name"], how="left")

    def cell(row: pd.Series) -> str:
        if row["count"] >= 2:
            return f"{row['mean']:.1f} ± {row['std']:.1f}"
        return f"{row['mean']:.1f}" if pd.isna(row["se"]) else f"{row['mean']:.1f} ± {row['se']:.1f}"

    stats["cell"] = stats.apply(cell, axis=1)
    table = stats.pivot(index="name", columns="arm", values="cell")
    for absent in record.base.get("missing", {}):
        table.loc[absent] = "absent"
    order = [n for g, tasks in groups.items() for n in (*tasks, label[g])]
    arms = ["base", *record.arms]
    return table.reindex(index=[n for n in order if n in table.index], columns=[a for a in arms if a in table.columns])


def gains(record: StudyRecord, by: str = "group", variant: str = "main") -> pd.DataFrame:
    """Long table of gains over the base (points): arm, seed, name, gain, group."""
    acc = record.accuracy(by, variant)
    base = acc[acc["arm"] == "base"].set_index("name")["accuracy"]
    tuned = acc[acc["arm"] != "base"].copy()
    tuned["gain"] = tuned["accuracy"] - tuned["name"].map(base)
    tuned["group"] = tuned["name"].map(record.groups) if by == "task" else tuned["name"]
    return tuned


def _uses_benchmarks(record: StudyRecord) -> bool:
    return record.spec.evaluation.kind == "benchmarks"


def sigma_source(record: StudyRecord) -> str:
    """Whose spread normalises the pooled TI: the paper's (real benchmarks: a row on the paper's scale) or
    the study's own (arm, seed) pairs (micro families have no paper counterpart)."""
    return "the paper's 18 reported pairs" if _uses_benchmarks(record) else "this study's own (arm, seed) pairs"


def transfer(record: StudyRecord, reading: Reading = "pooled") -> pd.DataFrame:
    """TI per (arm, seed) with the survey's code; the record's tasks are the 'benchmarks'."""
    wide = _wide(record, "task")
    pairs = [(m, "base") for m in wide.index if m != "base"]
    sigma = None
    if reading == "pooled" and _uses_benchmarks(record):
        from mathxfer.survey import load_survey

        sigma = load_survey("reported").sigma()
    table = transferability_table(wide, pairs, reading, sigma=sigma, groups=task_groups(record))
    table[["arm", "seed"]] = table["model"].str.split("/seed", expand=True)
    return table


def transfer_summary(record: StudyRecord, reading: Reading = "pooled") -> pd.DataFrame:
    """Mean ± sd of TI over seeds per arm (undefined seeds are left out and counted)."""
    table = transfer(record, reading)
    out = table.groupby("arm", sort=False).agg(
        TI_other=("TI_other", "mean"), TI_other_sd=("TI_other", "std"), TI_non=("TI_non", "mean"),
        TI_non_sd=("TI_non", "std"), undefined=("undefined", lambda u: int((u != "").sum())))
    out.insert(0, "reading", reading)  # the page shows two readings one after the other: say which this is
    return out.reindex([a for a in record.arms if a in out.index])


def _paper_scores() -> pd.DataFrame:
    return pd.read_csv(paper_dir() / "survey_scores.csv").set_index("model")


def paper_group_gains(record: StudyRecord) -> pd.DataFrame:
    """The paper's Table 1 as group-average gains of each arm's UniReason model over Qwen3-14B-Base."""
    scores = _paper_scores()
    rows = []
    for arm, model in paper_models(record).items():
        row: dict[str, object] = {"arm": arm, "paper model": model}
        for g, names in BENCHMARK_GROUPS.items():
            row[g] = scores.loc[model, list(names)].mean() - scores.loc[PAPER_BASE, list(names)].mean()
        rows.append(row)
    return pd.DataFrame(rows, columns=["arm", "paper model", *BENCHMARK_GROUPS]).set_index("arm")


def side_by_side(record: StudyRecord) -> pd.DataFrame:
    """Group-average gains (points) of each arm, ours (mean over seeds) beside the paper's."""
    ours = gains(record, "group").groupby(["arm", "name"])["gain"].mean().unstack("name")
    paper = paper_group_gains(record)
    rows = []
    for arm in record.arms:
        row: dict[str, object] = {"arm": arm, "paper model": paper["paper model"].get(arm, "-")}
        for g in GROUPS:
            row[f"ours {g}"] = ours.at[arm, g] if arm in ours.index and g in ours.columns else float("nan")
            row[f"paper {g}"] = paper.at[arm, g] if arm in paper.index else float("nan")
        rows.append(row)
    return pd.DataFrame(rows).set_index("arm")


def side_by_side_benchmarks(record: StudyRecord) -> pd.DataFrame | None:
    """Per benchmark (real-model profiles): each arm's gain (mean over seeds) beside its UniReason model's
    gain over Qwen3-14B-Base in the paper's Table 1. None for micro, whose tasks are not the paper's."""
    if not _uses_benchmarks(record):
        return None
    ours = gains(record, "task").groupby(["name", "arm"])["gain"].mean().unstack("arm")
    scores, models = _paper_scores(), paper_models(record)
    out = pd.DataFrame(index=pd.Index(record.tasks(), name="benchmark"))
    out["group"] = [GROUP_LABELS[record.groups[b]] for b in out.index]
    missing = record.base.get("missing", {})
    out["status"] = ["absent: " + _short(missing[b]) if b in missing else
                     "added (not in the paper)" if b in ADDED_BENCHMARKS else "" for b in out.index]
    for arm in record.arms:
        out[f"ours {arm}"] = ours[arm].reindex(out.index) if arm in ours.columns else float("nan")
        if arm in models:
            out[f"paper {arm}"] = [scores.at[models[arm], b] - scores.at[PAPER_BASE, b] if b in scores.columns
                                   else float("nan") for b in out.index]
    return out


def _short(reason: str, width: int = 90) -> str:
    """A missing benchmark's reason, its first clause without the benchmark's name (the full message, with
    the paths looked at and the fix, is in the scores file's provenance)."""
    first = reason.split(":", 1)[-1].split("(looked for")[0].split(";")[0].strip()
    return first if len(first) <= width else first[: width - 1] + "…"


def math_index_shares(record: StudyRecord) -> pd.DataFrame:
    """Per (arm, seed) and math benchmark, its term w_b s_b of the math domain index the TI divides by
    (``mathxfer.survey.ti``, pooled sigma) and its share of the index: which benchmark the TI's math gain
    comes from. Empty for the micro world."""
    if not _uses_benchmarks(record):
        return pd.DataFrame(columns=["model", "benchmark", "term", "share"])
    import numpy as np

    from mathxfer.survey import load_survey

    sigma = load_survey("reported").sigma()["math"]
    wide = _wide(record, "task")
    names = [b for b in task_groups(record).get("math", []) if b in wide.columns and pd.notna(wide.at["base", b])]
    base = wide.loc["base", names].astype(float)
    weights = (100.0 - base) / (100.0 - base).sum()
    rows = []
    for model in (m for m in wide.index if m != "base"):
        z = (wide.loc[model, names].astype(float) - base) / sigma
        terms = weights * np.sign(z) * np.sqrt(z.abs())
        total = float(terms.sum())
        rows += [{"model": model, "benchmark": b, "term": float(terms[b]),
                  "share": float(terms[b]) / total if total else float("nan")} for b in names]
    return pd.DataFrame(rows, columns=["model", "benchmark", "term", "share"])
