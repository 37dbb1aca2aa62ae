"""The survey of off-the-shelf reasoning models (the paper's Section 3, Tables 5 and 9-11, Figure 2)."""

from mathxfer.survey.table import Survey, load_survey
from mathxfer.survey.ti import (
    Reading,
    UndefinedTransferError,
    domain_index,
    pooled_sigma,
    transferability,
    transferability_table,
    transferability_v1,
)

__all__ = [
    "Reading",
    "Survey",
    "UndefinedTransferError",
    "domain_index",
    "load_survey",
    "pooled_sigma",
    "transferability",
    "transferability_table",
    "transferability_v1",
]
