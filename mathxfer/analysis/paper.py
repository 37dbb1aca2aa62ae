"""The paper's reported numbers for these chapters, in the tidy long form the charts take."""

from __future__ import annotations

import pandas as pd

from mathxfer.paths import paper_dir

WIDE_TABLES = ("pca_shift_controlled", "token_kl", "token_rank_shift")


def paper_long(table: str) -> pd.DataFrame:
    """One of WIDE_TABLES as rows of (model, benchmark, value, source)."""
    if table not in WIDE_TABLES:
        raise ValueError(f"unknown table {table!r}; choose from {WIDE_TABLES}")
    wide = pd.read_csv(paper_dir() / f"{table}.csv")
    return wide.melt(id_vars=["model", "source"], var_name="benchmark", value_name="value")[
        ["model", "benchmark", "value", "source"]]


def paper_group_means() -> pd.DataFrame:
    """Tables 2 and 6: reported mean d* per group (model, base_model, math, other, non, source)."""
    return pd.read_csv(paper_dir() / "pca_shift_group_means.csv")
