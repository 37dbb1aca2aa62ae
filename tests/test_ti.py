"""The Transferability Index on hand-computed cases."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from mathxfer.groups import BENCHMARK_GROUPS
from mathxfer.survey.ti import (
    UndefinedTransferError,
    domain_index,
    literal_sigma,
    pooled_sigma,
    transferability,
    transferability_table,
    transferability_v1,
)

SIGMA_ONE = {"math": 1.0, "other": 1.0, "non": 1.0}


def scores(math_, other, non) -> pd.Series:
    values = [*math_, *other, *non]
    names = [b for g in ("math", "other", "non") for b in BENCHMARK_GROUPS[g]]
    return pd.Series(values, index=names, dtype=float)


BASE = scores([50] * 4, [50] * 4, [50] * 4)

# (tuned scores, sigma, expected TI_other, expected TI_non, what it checks)
CASES = [
    (scores([54] * 4, [51] * 4, [46] * 4), {"math": 4.0, "other": 1.0, "non": 1.0}, 100.0, -200.0,
     "sqrt of sigma-normalised gains; a loss gives a negative TI"),
    (scores([51] * 4, [54] * 4, [50] * 4), SIGMA_ONE, 200.0, 0.0, "zero gain gives TI 0; sqrt compresses"),
    (scores([49] * 4, [51] * 4, [49] * 4), SIGMA_ONE, -100.0, 100.0, "a math loss flips the signs"),
    (scores([51, 51, 50, 50], [52] * 4, [50] * 4), SIGMA_ONE, 2 * math.sqrt(2) * 100.0, 0.0,
     "equal weights: DI_math = (1 + 1 + 0 + 0) / 4"),
]


@pytest.mark.parametrize(("tuned", "sigma", "ti_other", "ti_non", "why"), CASES, ids=[c[-1] for c in CASES])
def test_transferability_hand_computed(tuned, sigma, ti_other, ti_non, why):
    ti = transferability(tuned, BASE, sigma)
    assert ti["other"] == pytest.approx(ti_other), why
    assert ti["non"] == pytest.approx(ti_non), why


def test_difficulty_weights_follow_headroom():
    # headroom 20, 20, 40, 0 -> weights .25, .25, .5, 0; signed roots of gains 4, 0, -1, 9 are 2, 0, -1, 3
    base = scores([50] * 4, [80, 80, 60, 100], [50] * 4)
    tuned = scores([51] * 4, [84, 80, 59, 100 + 9], [50] * 4)
    assert domain_index(tuned, base, "other", 1.0) == pytest.approx(0.25 * 2 + 0.5 * -1 + 0 * 3)


def test_weights_favour_hard_benchmarks():
    base = scores([50] * 4, [10, 90, 50, 50], [50] * 4)
    gain_on_hard = scores([51] * 4, [11, 90, 50, 50], [50] * 4)
    gain_on_easy = scores([51] * 4, [10, 91, 50, 50], [50] * 4)
    assert transferability(gain_on_hard, base, SIGMA_ONE)["other"] > \
        transferability(gain_on_easy, base, SIGMA_ONE)["other"] > 0


def test_zero_math_gain_is_a_clear_error_not_infinity():
    tuned = scores([50] * 4, [60] * 4, [40] * 4)
    with pytest.raises(UndefinedTransferError, match="math domain index is 0"):
        transferability(tuned, BASE, SIGMA_ONE)


def test_literal_sigma_is_the_models_own_spread():
    tuned = scores([51, 52, 53, 54], [50] * 4, [50] * 4)
    assert literal_sigma(tuned, BASE, "math") == pytest.approx(math.sqrt(1.25))
    # literal reading: every gain equal and nonzero in a group leaves nothing to normalise by
    with pytest.raises(UndefinedTransferError, match="sigma"):
        transferability(scores([51, 52, 53, 54], [52] * 4, [50] * 4), BASE)


def test_v1_ratio_of_mean_relative_gains():
    tuned = scores([55] * 4, [52.5] * 4, [45] * 4)  # +10%, +5%, -10%
    assert transferability_v1(tuned, BASE) == pytest.approx({"other": 50.0, "non": -100.0})


def test_v1_undefined_on_zero_base_score():
    base = scores([0, 50, 50, 50], [50] * 4, [50] * 4)
    with pytest.raises(UndefinedTransferError, match="AIME24"):
        transferability_v1(scores([10, 55, 55, 55], [50] * 4, [50] * 4), base)


def test_pooled_sigma_pools_every_gain_of_a_group():
    table = pd.DataFrame([BASE, scores([52] * 4, [50] * 4, [50] * 4), scores([54] * 4, [50] * 4, [50] * 4)],
                         index=["base", "a", "b"])
    sigma = pooled_sigma(table, [("a", "base"), ("b", "base")])
    assert sigma["math"] == pytest.approx(1.0)  # gains 2,2,2,2,4,4,4,4: population SD 1
    assert sigma["other"] == 0.0


def test_table_marks_undefined_rows_with_their_reason():
    table = pd.DataFrame([BASE, scores([54] * 4, [51] * 4, [46] * 4), scores([50] * 4, [51] * 4, [50] * 4)],
                         index=["base", "good", "flat"])
    result = transferability_table(table, [("good", "base"), ("flat", "base")], "pooled",
                                   sigma={"math": 4.0, "other": 1.0, "non": 1.0}).set_index("model")
    assert result.at["good", "TI_other"] == pytest.approx(100.0)
    assert math.isnan(result.at["flat", "TI_other"])
    assert "math domain index is 0" in result.at["flat", "undefined"]


def test_unknown_reading_is_rejected():
    with pytest.raises(ValueError, match="pooled, literal, v1"):
        transferability_table(pd.DataFrame([BASE], index=["base"]), [], "median")  # type: ignore[arg-type]


def test_custom_groups_such_as_micro_task_families():
    groups = {"math": ["add", "mul"], "other": ["sort"], "non": ["fact"]}
    base = pd.Series({"add": 40.0, "mul": 40.0, "sort": 30.0, "fact": 90.0})
    tuned = pd.Series({"add": 44.0, "mul": 44.0, "sort": 31.0, "fact": 86.0})
    ti = transferability(tuned, base, {"math": 4.0, "other": 1.0, "non": 1.0}, groups)
    assert ti == pytest.approx({"other": 100.0, "non": -200.0})


def test_one_undefined_group_leaves_the_other():
    base = scores([50] * 4, [50] * 4, [100] * 4)  # no headroom at all on non-reasoning
    tuned = scores([54] * 4, [51] * 4, [100] * 4)
    table = pd.DataFrame([base, tuned], index=["base", "t"])
    row = transferability_table(table, [("t", "base")], "pooled",
                                sigma={"math": 4.0, "other": 1.0, "non": 1.0}).iloc[0]
    assert row["TI_other"] == pytest.approx(100.0) and math.isnan(row["TI_non"])
    assert "no headroom" in row["undefined"]
