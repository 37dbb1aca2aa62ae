"""Table 1, gains and TI for the controlled study, with the paper's numbers beside ours."""

from __future__ import annotations

import pandas as pd

from mathxfer.groups import BENCHMARK_GROUPS, GROUP_LABELS, Group
from mathxfer.paths import paper_dir
from mathxfer.survey.ti import Reading, transferability_table

from mathxfer.controlled.study import StudyResults

# which UniReason model of the paper each arm stands for (Table 1); on-policy SFT is Table 4's arm
PAPER_MODEL = {"sft-think": "UniReason-Qwen3-14B-think-SFT", "sft-nothink": "UniReason-Qwen3-14B-no-think-SFT",
               "grpo": "UniReason-Qwen3-14B-RL"}
PAPER_BASE = "Qwen3-14B-Base"


def family_groups(results: StudyResults) -> dict[Group, list[str]]:
    """The micro world's families per group, in evaluation order (the study's 'benchmarks')."""
    from mathxfer.micro.world import families_of

    return {g: [f.name for f in families_of(g)] for g in ("math", "other", "non")}


def _wide(results: StudyResults, by: str) -> pd.DataFrame:
    """Rows: (arm, seed) models; columns: families or groups; accuracy in percent."""
    acc = results.accuracy(by)
    acc["model"] = acc["arm"] + acc["seed"].map(lambda s: "" if s < 0 else f"/seed{s}")
    return acc.pivot_table(index="model", columns="name", values="accuracy", sort=False)


def table1(results: StudyResults) -> pd.DataFrame:
    """Accuracy (%) per family and group: the base, then each arm as mean ± sd over seeds."""
    groups = family_groups(results)
    long = pd.concat([results.accuracy("family"), results.accuracy("group").assign(
        name=lambda d: d["name"].map(lambda g: f"{GROUP_LABELS[g]} (avg)"))])
    stats = long.groupby(["arm", "name"], sort=False)["accuracy"].agg(["mean", "std", "count"]).reset_index()

    def cell(row: pd.Series) -> str:
        return f"{row['mean']:.1f}" if row["count"] < 2 else f"{row['mean']:.1f} ± {row['std']:.1f}"

    stats["cell"] = stats.apply(cell, axis=1)
    table = stats.pivot(index="name", columns="arm", values="cell")
    order = [n for g in ("math", "other", "non") for n in (*groups[g], f"{GROUP_LABELS[g]} (avg)")]
    arms = ["base", *results.config.arms]
    return table.reindex(index=[n for n in order if n in table.index], columns=[a for a in arms if a in table.columns])


def gains(results: StudyResults, by: str = "group") -> pd.DataFrame:
    """Long table of gains over the base (points): arm, seed, name, gain."""
    acc = results.accuracy(by)
    base = acc[acc["arm"] == "base"].set_index("name")["accuracy"]
    tuned = acc[acc["arm"] != "base"].copy()
    tuned["gain"] = tuned["accuracy"] - tuned["name"].map(base)
    if by == "family":
        groups = family_groups(results)
        tuned["group"] = tuned["name"].map({f: g for g, names in groups.items() for f in names})
    else:
        tuned["group"] = tuned["name"]
    return tuned


def transfer(results: StudyResults, reading: Reading = "pooled") -> pd.DataFrame:
    """TI per (arm, seed) with the survey's code; families are the 'benchmarks', the pooled sigma is over
    the study's own (arm, seed) pairs."""
    wide = _wide(results, "family")
    pairs = [(m, "base") for m in wide.index if m != "base"]
    table = transferability_table(wide, pairs, reading, groups=family_groups(results))
    table[["arm", "seed"]] = table["model"].str.split("/seed", expand=True)
    return table


def transfer_summary(results: StudyResults, reading: Reading = "pooled") -> pd.DataFrame:
    """Mean ± sd of TI over seeds per arm (undefined seeds are left out and counted)."""
    table = transfer(results, reading)
    out = table.groupby("arm", sort=False).agg(
        TI_other=("TI_other", "mean"), TI_other_sd=("TI_other", "std"), TI_non=("TI_non", "mean"),
        TI_non_sd=("TI_non", "std"), undefined=("undefined", lambda u: int((u != "").sum())))
    return out.reindex([a for a in results.config.arms if a in out.index])


def paper_group_gains() -> pd.DataFrame:
    """The paper's Table 1 as group-average gains of each UniReason model over Qwen3-14B-Base."""
    scores = pd.read_csv(paper_dir() / "survey_scores.csv").set_index("model")
    rows = []
    for arm, model in PAPER_MODEL.items():
        row = {"arm": arm, "paper model": model}
        for g, names in BENCHMARK_GROUPS.items():
            row[g] = scores.loc[model, list(names)].mean() - scores.loc[PAPER_BASE, list(names)].mean()
        rows.append(row)
    return pd.DataFrame(rows).set_index("arm")


def side_by_side(results: StudyResults) -> pd.DataFrame:
    """Group-average gains (points) of each arm, ours (mean over seeds) beside the paper's."""
    ours = gains(results, "group").groupby(["arm", "name"])["gain"].mean().unstack("name")
    paper = paper_group_gains()
    rows = []
    for arm in results.config.arms:
        row: dict[str, object] = {"arm": arm, "paper model": paper["paper model"].get(arm, "-")}
        for g in ("math", "other", "non"):
            row[f"ours {g}"] = ours.at[arm, g] if arm in ours.index else float("nan")
            row[f"paper {g}"] = paper.at[arm, g] if arm in paper.index else float("nan")
        rows.append(row)
    return pd.DataFrame(rows).set_index("arm")
