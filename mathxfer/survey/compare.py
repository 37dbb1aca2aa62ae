"""Our TI beside the paper's reported TI (Table 5 and Table 1)."""

from __future__ import annotations

import pandas as pd

from mathxfer.survey.table import Survey
from mathxfer.survey.ti import READINGS

MATCH_TOLERANCE = 1.5  # points of TI; the pooled reading lands within about 1 on the pairs it reproduces


def compare_with_reported(survey: Survey, tolerance: float = MATCH_TOLERANCE) -> pd.DataFrame:
    """One row per reported pair: reported TI, ours under each reading, and whether each reading matches
    (both TI_other and TI_non within ``tolerance``)."""
    out = survey.reported_ti[["model", "base_model", "TI_other", "TI_non", "source"]].rename(
        columns={"TI_other": "reported_other", "TI_non": "reported_non"})
    for reading in READINGS:
        ours = survey.ti(reading).set_index("model")
        out[f"{reading}_other"] = out["model"].map(ours["TI_other"])
        out[f"{reading}_non"] = out["model"].map(ours["TI_non"])
        diff = pd.concat([(out[f"{reading}_other"] - out["reported_other"]).abs(),
                          (out[f"{reading}_non"] - out["reported_non"]).abs()], axis=1).max(axis=1)
        out[f"{reading}_matches"] = diff.le(tolerance)  # NaN (undefined) never matches
    return out


def match_summary(comparison: pd.DataFrame) -> pd.DataFrame:
    """How many reported pairs each reading reproduces, and which it does not."""
    rows = []
    for reading in READINGS:
        ok = comparison[f"{reading}_matches"]
        rows.append({"reading": reading, "pairs matched": int(ok.sum()), "of": len(ok),
                     "not matched": ", ".join(comparison.loc[~ok, "model"])})
    return pd.DataFrame(rows)
