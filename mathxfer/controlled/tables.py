"""Table 1, gains and TI for a study record, with the paper's numbers beside ours.

The tasks and their groups come from the record: micro task families, or the paper's benchmarks in its
three groups for real models, so every table here serves every profile.
"""

from __future__ import annotations

import pandas as pd

from mathxfer.groups import BENCHMARK_GROUPS, GROUP_LABELS, GROUPS, Group
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


def table1(record: StudyRecord) -> pd.DataFrame:
    """Accuracy (%) per task and group: the base, then each arm as mean ± sd over seeds."""
    groups = task_groups(record)
    long = pd.concat([record.accuracy("task"), record.accuracy("group").assign(
        name=lambda d: d["name"].map(lambda g: f"{GROUP_LABELS[g]} (avg)"))])
    stats = long.groupby(["arm", "name"], sort=False)["accuracy"].agg(["mean", "std", "count"]).reset_index()

    def cell(row: pd.Series) -> str:
        return f"{row['mean']:.1f}" if row["count"] < 2 else f"{row['mean']:.1f} ± {row['std']:.1f}"

    stats["cell"] = stats.apply(cell, axis=1)
    table = stats.pivot(index="name", columns="arm", values="cell")
    order = [n for g, tasks in groups.items() for n in (*tasks, f"{GROUP_LABELS[g]} (avg)")]
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
    for arm in record.arms:
        out[f"ours {arm}"] = ours[arm].reindex(out.index) if arm in ours.columns else float("nan")
        if arm in models:
            out[f"paper {arm}"] = [scores.at[models[arm], b] - scores.at[PAPER_BASE, b] for b in out.index]
    return out
