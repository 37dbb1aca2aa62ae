"""The Transferability Index (TI): how much of a model's math gain carries over to other groups.

v2 (the paper's current definition), for a tuned model M and its own base B, per group g:
gain d_b = R_b(M) - R_b(B); z_b = d_b / sigma_g; s_b = sign(z_b) sqrt|z_b|;
weights w_b = (100 - R_b(B)) normalised inside the group; DI_g = sum_b w_b s_b;
TI_g = 100 DI_g / DI_math.  sigma_g has two readings:
- "literal": the standard deviation of the model's own gains in the group (does not reproduce the paper);
- "pooled": one sigma per group over a reference set of pairs (reproduces 14 of the paper's 18 pairs).
v1 (arXiv v1): TI_g = 100 mean_b rel_gain_b / mean_math rel_gain, rel_gain = d_b / R_b(B).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from mathxfer.groups import BENCHMARK_GROUPS, Group

Groups = Mapping[Group, Sequence[str]]  # group -> its benchmarks (the paper's, or the micro world's families)

Reading = Literal["pooled", "literal", "v1"]
READINGS: tuple[Reading, ...] = ("pooled", "literal", "v1")
TARGET_GROUPS: tuple[Group, ...] = ("other", "non")


class UndefinedTransferError(ValueError):
    """TI is undefined for this pair (no math gain, a zero base score under v1, missing scores)."""


def _shared(tuned: pd.Series, base: pd.Series, group: Group, groups: Groups = BENCHMARK_GROUPS) -> list[str]:
    names = [b for b in groups[group]
             if b in tuned.index and b in base.index and pd.notna(tuned[b]) and pd.notna(base[b])]
    if not names:
        raise UndefinedTransferError(
            f"no {group} benchmark is scored for both the tuned and the base model; "
            f"add scores for at least one of {', '.join(groups[group])}")
    return names


def literal_sigma(tuned: pd.Series, base: pd.Series, group: Group, groups: Groups = BENCHMARK_GROUPS) -> float:
    """The literal reading: population SD of this model's own gains in the group."""
    names = _shared(tuned, base, group, groups)
    return float(np.std((tuned[names] - base[names]).to_numpy(dtype=float)))


def domain_index(tuned: pd.Series, base: pd.Series, group: Group, sigma: float,
                 groups: Groups = BENCHMARK_GROUPS) -> float:
    """DI_g: difficulty-weighted mean of signed square roots of sigma-normalised gains."""
    names = _shared(tuned, base, group, groups)
    gains = (tuned[names] - base[names]).to_numpy(dtype=float)
    if sigma <= 0 or not math.isfinite(sigma):
        if np.all(gains == 0):
            return 0.0
        raise UndefinedTransferError(
            f"sigma for group {group!r} is {sigma}; gains cannot be normalised "
            "(the literal reading needs gains that differ inside the group)")
    z = gains / sigma
    signed_root = np.sign(z) * np.sqrt(np.abs(z))
    headroom = 100.0 - base[names].to_numpy(dtype=float)
    if headroom.sum() <= 0:
        raise UndefinedTransferError(f"the base scores 100 on every {group} benchmark: no headroom to weight by")
    weights = headroom / headroom.sum()
    return float(np.dot(weights, signed_root))


def transferability(tuned: pd.Series, base: pd.Series, sigma: dict[Group, float] | None = None,
                    groups: Groups = BENCHMARK_GROUPS,
                    targets: Sequence[Group] = TARGET_GROUPS) -> dict[Group, float]:
    """TI (v2) for the non-math groups. ``sigma=None`` is the literal reading."""
    def sigma_of(group: Group) -> float:
        return literal_sigma(tuned, base, group, groups) if sigma is None else sigma[group]

    di_math = domain_index(tuned, base, "math", sigma_of("math"), groups)
    if di_math == 0:
        raise UndefinedTransferError(
            "the math domain index is 0 (no net math gain over the base), so TI = 100 DI_g / DI_math "
            "would be infinite; TI only measures transfer of a math gain")
    return {g: 100.0 * domain_index(tuned, base, g, sigma_of(g), groups) / di_math for g in targets}


def _mean_relative_gain(tuned: pd.Series, base: pd.Series, group: Group, groups: Groups) -> float:
    names = _shared(tuned, base, group, groups)
    zero = [b for b in names if base[b] == 0]
    if zero:
        raise UndefinedTransferError(
            f"v1 divides by the base score, which is 0 on {', '.join(zero)}; use the v2 readings")
    return float(np.mean([(tuned[b] - base[b]) / base[b] for b in names]))


def transferability_v1(tuned: pd.Series, base: pd.Series, groups: Groups = BENCHMARK_GROUPS,
                       targets: Sequence[Group] = TARGET_GROUPS) -> dict[Group, float]:
    """TI as arXiv v1 defined it: ratio of mean relative gains."""
    math_gain = _mean_relative_gain(tuned, base, "math", groups)
    if math_gain == 0:
        raise UndefinedTransferError("the mean relative math gain is 0, so v1's TI would be infinite")
    return {g: 100.0 * _mean_relative_gain(tuned, base, g, groups) / math_gain for g in targets}


def pooled_sigma(scores: pd.DataFrame, pairs: Iterable[tuple[str, str]],
                 groups: Groups = BENCHMARK_GROUPS) -> dict[Group, float]:
    """The pooled reading: per group, the population SD of all gains over the given (tuned, base) pairs."""
    pairs = list(pairs)
    if not pairs:
        raise ValueError("pooled sigma needs at least one (tuned, base) pair")
    sigma: dict[Group, float] = {}
    for group, names in groups.items():
        present = [n for n in names if n in scores.columns]  # a small evaluation may miss a benchmark
        gains = np.concatenate([(scores.loc[m, present] - scores.loc[b, present]).to_numpy(dtype=float)
                                for m, b in pairs])
        sigma[group] = float(np.nanstd(gains))
    return sigma


def transferability_table(scores: pd.DataFrame, pairs: Sequence[tuple[str, str]], reading: Reading,
                          sigma: dict[Group, float] | None = None,
                          groups: Groups = BENCHMARK_GROUPS) -> pd.DataFrame:
    """One row per (tuned, base) pair: TI_other, TI_non, and why a TI is undefined (empty when defined).

    For the pooled reading, ``sigma`` is the pooled sigma to use (by default pooled over ``pairs``).
    An undefined TI is NaN with its reason in ``undefined``: never a silent infinity.
    """
    if reading not in READINGS:
        raise ValueError(f"unknown TI reading {reading!r}; choose one of {', '.join(READINGS)}")
    if reading == "pooled" and sigma is None:
        sigma = pooled_sigma(scores, pairs, groups)
    rows = []
    for model, base in pairs:
        row = {"model": model, "base_model": base, "TI_other": np.nan, "TI_non": np.nan, "undefined": ""}
        reasons = []
        for group in TARGET_GROUPS:  # each group on its own: one undefined group leaves the other
            try:
                if reading == "v1":
                    ti = transferability_v1(scores.loc[model], scores.loc[base], groups, (group,))
                else:
                    ti = transferability(scores.loc[model], scores.loc[base],
                                         sigma if reading == "pooled" else None, groups, (group,))
                row[f"TI_{group}"] = ti[group]
            except UndefinedTransferError as err:
                reasons.append(str(err))
        row["undefined"] = "; ".join(dict.fromkeys(reasons))
        rows.append(row)
    return pd.DataFrame(rows, columns=["model", "base_model", "TI_other", "TI_non", "undefined"])
