"""Table 7's gradient-norm indicators on curves whose values are known by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mathxfer.controlled.gradnorm import INDICATORS, MIN_POINTS, indicators

STEPS = np.arange(1, 101)
LINEAR = 1 - STEPS / 100  # falls from 0.99 to 0: early mean 0.895, late mean 0.095
CASES = [
    ("constant", np.arange(5, 101, 5), np.ones(20),
     {"early_slope": 0.0, "t_half": math.nan, "total_grad": 95.0, "late_avg": 1.0, "late_var": 0.0,
      "decay_rate": 0.0, "oscillation": 0.0}),
    ("linear decay", STEPS, LINEAR,
     {"early_slope": -0.01, "t_half": 56.0, "total_grad": float(np.trapezoid(LINEAR, STEPS)), "late_avg": 0.095,
      "late_var": float(np.var(LINEAR[-20:])), "decay_rate": 0.095 / 0.895 - 1, "oscillation": 0.01 / LINEAR.mean()}),
    ("alternating", STEPS, np.where(STEPS % 2 == 0, 3.0, 1.0),
     {"late_avg": 2.0, "late_var": 1.0, "decay_rate": 0.0, "oscillation": 1.0, "t_half": 1.0}),  # its first low is half the mean
    ("steps past the window are left out", np.arange(1, 201), np.where(np.arange(1, 201) <= 100, 1.0, 50.0),
     {"total_grad": 99.0, "late_avg": 1.0, "decay_rate": 0.0}),
    ("unsorted input is read in step order", STEPS[::-1], LINEAR[::-1],
     {"early_slope": -0.01, "t_half": 56.0, "late_avg": 0.095}),
]


@pytest.mark.parametrize(("steps", "norms", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_indicators(steps, norms, expected):
    got = indicators(steps, norms)
    assert set(got) == set(INDICATORS)
    for name, value in expected.items():
        if math.isnan(value):
            assert math.isnan(got[name]), name
        else:
            assert got[name] == pytest.approx(value, abs=1e-9), name


def test_too_few_logged_points_give_nan_not_numbers():
    got = indicators(range(1, MIN_POINTS), [1.0, 0.5, 0.2, 0.1][: MIN_POINTS - 1])
    assert all(math.isnan(v) for v in got.values())
    assert all(math.isnan(v) for v in indicators(pd.Series([1, 2, 300, 400, 500, 600]), [1] * 6).values())
