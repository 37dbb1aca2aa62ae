"""Tables and sentences the survey chapter shows; the numbers in the text are computed, never typed."""

from __future__ import annotations

import logging

import pandas as pd
from IPython.display import Markdown

from mathxfer.groups import GROUP_LABELS
from mathxfer.survey.compare import MATCH_TOLERANCE, match_summary
from mathxfer.survey.table import Survey
from mathxfer.survey.ti import Reading


def score_table(survey: Survey) -> pd.io.formats.style.Styler:
    """Tables 9-11: every model's scores with the three group averages, its base and method."""
    table = survey.group_means()
    table.insert(0, "method", survey.models["method"])
    table.insert(1, "base", survey.models["base_model"])
    numeric = [c for c in table.columns if c not in ("method", "base")]
    return table.style.format("{:.1f}", subset=numeric, na_rep="-")


def sigma_sentence(survey: Survey) -> Markdown:
    sigma = survey.sigma()
    parts = ", ".join(f"{sigma[g]:.2f} ({GROUP_LABELS[g].lower()})" for g in ("math", "other", "non"))
    return Markdown(f"Pooled over the paper's {len(survey.reference_pairs())} reported pairs, "
                    f"$\\sigma_g$ = {parts}.")


def readings_sentence(comparison: pd.DataFrame) -> Markdown:
    """Which reading reproduces the paper, and which pairs do not match under it."""
    summary = match_summary(comparison).set_index("reading")
    best = summary["pairs matched"].idxmax()
    lines = [f"- **{r}**: {row['pairs matched']} of {row['of']} pairs within {MATCH_TOLERANCE} points"
             for r, row in summary.iterrows()]
    missing = summary.at[best, "not matched"]
    text = "\n".join(lines) + (f"\n\nThe **{best}** reading reproduces the paper best. Under it the pairs that do not "
                               f"match are: {missing}." if missing else "")
    return Markdown(text)


def comparison_table(comparison: pd.DataFrame) -> pd.io.formats.style.Styler:
    """Reported TI beside ours under each reading; matching cells in green, mismatches in red."""
    shown = comparison.drop(columns=["base_model"]).set_index("model")
    numeric = [c for c in shown.columns if c.endswith(("_other", "_non"))]

    def colour(col: pd.Series) -> list[str]:
        return ["color: #1a7f37" if ok else "color: #cf222e; font-weight: bold" for ok in col]

    styler = shown.style.format("{:.1f}", subset=numeric, na_rep="undefined")
    for reading in ("pooled", "literal", "v1"):
        styler = styler.format(lambda ok: "yes" if ok else "no", subset=[f"{reading}_matches"])
        styler = styler.apply(colour, subset=[f"{reading}_matches"])
    return styler


def undefined_sentence(ti: pd.DataFrame, reading: Reading) -> Markdown:
    undefined = ti[ti["undefined"] != ""]
    if undefined.empty:
        return Markdown(f"Under the {reading} reading every pair has a defined TI.")
    items = "\n".join(f"- {row.model}: {row.undefined}" for row in undefined.itertuples())
    return Markdown(f"Under the {reading} reading these pairs have no defined TI and are left out of the "
                    f"figure:\n{items}")


def added_models(survey: Survey, ti: pd.DataFrame) -> pd.DataFrame | Markdown:
    """Models that joined from scores files, with their TI (or a note that none were added)."""
    added = survey.models[survey.models["source"] != "paper"]
    if added.empty:
        return Markdown("No scores files were passed (`extra_results` is empty): the table holds the paper's "
                        "models only.")
    shown = added[["base_model", "family", "method", "source"]].join(
        ti.set_index("model")[["TI_other", "TI_non", "undefined"]], how="left")
    return shown


def method_means(ti: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mean and count of the defined TIs (an undefined one, NaN, is neither) per method (RL, SFT) and group."""
    tuned = ti[ti["method"].isin(["RL", "SFT"])].groupby("method")[["TI_other", "TI_non"]]
    return tuned.mean().reindex(["RL", "SFT"]), tuned.count().reindex(["RL", "SFT"]).fillna(0).astype(int)


def finding_sentence(ti: pd.DataFrame, models: list[str], profile: str) -> Markdown:
    """Whether these models (one profile's study, as rows) support the survey's finding that RL transfers more
    than SFT; nothing when there are none."""
    if not models:
        return Markdown("")
    who = f"the {profile} study"
    means, counts = method_means(ti[ti["model"].isin(models)])
    finding = "the survey's finding that RL-tuned models transfer more than SFT-tuned ones"
    short = [m for m in ("RL", "SFT") if (counts.loc[m] == 0).any()]
    if short:
        return Markdown(f"From {who}'s rows {finding} **cannot be resolved**: no {' or '.join(short)} run has a "
                        "defined TI in both groups.")
    more = means.loc["RL"] > means.loc["SFT"]
    status = ("**supported**" if more.all() else "**contradicted**" if not more.any()
              else "**supported in one group only**")
    numbers = "; ".join(f"{GROUP_LABELS[g].lower()}: RL {means.at['RL', f'TI_{g}']:+.1f} against SFT "
                        f"{means.at['SFT', f'TI_{g}']:+.1f}" for g in ("other", "non"))
    return Markdown(f"From {who}'s rows {finding} is {status} ({numbers}).")


def method_means_sentence(ti: pd.DataFrame) -> Markdown:
    """Mean TI per post-training method and group: the survey's headline, computed."""
    means, counts = method_means(ti)
    lines = [f"- **{GROUP_LABELS[g]}**: RL {means.at['RL', col]:+.1f} (n={counts.at['RL', col]}) against SFT "
             f"{means.at['SFT', col]:+.1f} (n={counts.at['SFT', col]})"
             for g, col in (("other", "TI_other"), ("non", "TI_non"))]
    verdict = ("RL-tuned models transfer more than SFT-tuned ones in both groups, as the paper finds."
               if (means.loc["RL"] > means.loc["SFT"]).all() else
               "Here RL does not transfer more than SFT in both groups, unlike the paper's finding.")
    return Markdown("Mean TI by method:\n" + "\n".join(lines) + f"\n\n{verdict}")


def released_regrade(data_dir: str | None) -> tuple[pd.DataFrame | None, Markdown]:
    """Our grade of the authors' released UniReason-RL responses beside the reported scores, and the
    measured cause of the gap (responses that stop before a final answer)."""
    from mathxfer.eval.regrade import regrade_released, released_dir

    folder = released_dir(data_dir)
    if not folder.is_dir():
        return None, Markdown(f"The released responses were not found at `{folder}`: pass `data_dir` (a folder "
                              "holding `paper_model_outputs/`) to regrade them.")
    # math-verify logs each comparison that hits its time limit (counted as wrong); keep the page clean
    math_verify_log = logging.getLogger("math_verify")
    level = math_verify_log.level
    math_verify_log.setLevel(logging.ERROR)
    try:
        table = regrade_released(data_dir)
    finally:
        math_verify_log.setLevel(level)
    lines = []
    for row in table.itertuples():
        share = 100 * row.n_incomplete / row.n
        lines.append(f"- **{row.benchmark}**: {row.score:.1f} against the reported {row.reported:.1f}; "
                     f"{row.n_incomplete} of {row.n} responses ({share:.0f}%) give no final answer, and on the "
                     f"complete ones the score is {row.score_complete:.1f}.")
    text = ("\n".join(lines) + "\n\nThese responses were generated for the paper's token analysis, not for its "
            "score tables, and many stop before answering: the gap to the reported scores is mostly those "
            "unfinished responses, not the grading.")
    return table.set_index("benchmark"), Markdown(text)
