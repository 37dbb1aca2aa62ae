"""The paper's latent-space shift d* (Figure 3, Tables 2 and 6).

Per layer: a 2-component PCA fit on the BASE model's features only; both models' features are
projected with ``X @ components.T`` (no centring, unlike ``PCA.transform``); m1/m2 are the mean
projections. Base point = (0, m2_base), tuned point = (m1_tuned - m1_base, m2_tuned). d* is the
distance between the layer-averages of the tuned points and of the base points.

The PCA is the exact SVD in float64. analyse_PCA_Shift.py calls ``PCA(n_components=2)`` with the
default solver on float32 features, which for 30 texts of a 5120-wide model is scikit-learn's
(unseeded) randomized SVD, an approximation of the same axes; on small inputs it is the exact SVD
too, and tests/analysis/test_semantics.py checks the two agree to 1e-5 relative in d*.

Sign convention (``Sign``), fixed here so d* does not depend on the installed scikit-learn:
``loadings`` (the default) flips each component so that its largest-magnitude loading is positive,
what scikit-learn >= 1.5 does; ``scores`` flips it so that the largest-magnitude entry of the centred
projection scores (U[:, i] of the SVD of the centred data) is positive, what scikit-learn < 1.5 did
(``svd_flip(u_based_decision=True)``). d* depends on it because a per-layer flip of PC1 or PC2
changes the layer-averages of the signed coordinates; neither the paper nor the official script
says which scikit-learn ran, so the book reports both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

Sign = Literal["loadings", "scores"]
SIGNS: tuple[Sign, ...] = ("loadings", "scores")


@dataclass(frozen=True)
class PCAShift:
    """``points``: one row per (layer, role) with columns layer, role ('base'/'tuned'), pc1, pc2."""

    points: pd.DataFrame
    d_star: float


def base_components(base: np.ndarray, sign: Sign = "loadings") -> np.ndarray:
    """(2, d) principal axes of the base features, with the ``sign`` convention (module docstring)."""
    if sign not in SIGNS:
        raise ValueError(f"sign={sign!r}; use 'loadings' (scikit-learn >= 1.5) or 'scores' (scikit-learn < 1.5)")
    if base.ndim != 2 or base.shape[0] < 2:
        raise ValueError(f"need (n_items >= 2, hidden) base features for one layer, got shape {base.shape}")
    x = base.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):  # a layer with no variance (identical texts, e.g.
        pca = PCA(n_components=2, svd_solver="full").fit(x)  # a shared chat prefix) leaves the unused ratio 0/0
    components = pca.components_
    # The vector whose largest-magnitude entry must come out positive, one row per component.
    deciding = components if sign == "loadings" else ((x - pca.mean_) @ components.T).T
    largest = np.abs(deciding).argmax(axis=1)
    signs = np.where(deciding[np.arange(len(components)), largest] < 0, -1.0, 1.0)
    return components * signs[:, None]


def layer_points(base: np.ndarray, tuned: np.ndarray, sign: Sign = "loadings") -> tuple[np.ndarray, np.ndarray]:
    """(base point, tuned point) for one layer's (n_items, hidden) features."""
    if base.shape[1] != tuned.shape[1]:
        raise ValueError(f"hidden sizes differ: base {base.shape}, tuned {tuned.shape}; "
                         "both models must share an architecture")
    components = base_components(base, sign)
    m_base = (base.astype(np.float64) @ components.T).mean(axis=0)  # no centring, on purpose
    m_tuned = (tuned.astype(np.float64) @ components.T).mean(axis=0)
    return np.array([0.0, m_base[1]]), np.array([m_tuned[0] - m_base[0], m_tuned[1]])


def pca_shift(base: np.ndarray, tuned: np.ndarray, layers: tuple[int, ...] | None = None,
              sign: Sign = "loadings") -> PCAShift:
    """d* and per-layer points from (n_layers, n_items, hidden) features of the base and tuned model
    on the same texts (e.g. ``HiddenStates.features``), under the ``sign`` convention."""
    if base.shape != tuned.shape or base.ndim != 3:
        raise ValueError(f"expected equal (n_layers, n_items, hidden) arrays, got {base.shape} and {tuned.shape}")
    layers = layers if layers is not None else tuple(range(base.shape[0]))
    if len(layers) != base.shape[0]:
        raise ValueError(f"{len(layers)} layer labels for {base.shape[0]} layers")
    rows, base_pts, tuned_pts = [], [], []
    for layer, b, t in zip(layers, base, tuned):
        bp, tp = layer_points(b, t, sign)
        base_pts.append(bp)
        tuned_pts.append(tp)
        rows += [(layer, "base", *bp), (layer, "tuned", *tp)]
    d_star = float(np.linalg.norm(np.mean(tuned_pts, axis=0) - np.mean(base_pts, axis=0)))
    return PCAShift(pd.DataFrame(rows, columns=["layer", "role", "pc1", "pc2"]), d_star)


def shift_frames(shifts: Mapping[tuple[str, str], PCAShift]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tidy frames from ``{(model, benchmark): PCAShift}``: all points (model, benchmark, layer, role,
    pc1, pc2, d_star) and one d* per (model, benchmark)."""
    if not shifts:
        raise ValueError("no shifts given")
    points = pd.concat([s.points.assign(model=m, benchmark=b, d_star=s.d_star)
                        for (m, b), s in shifts.items()], ignore_index=True)
    d_star = pd.DataFrame([(m, b, s.d_star) for (m, b), s in shifts.items()],
                          columns=["model", "benchmark", "d_star"])
    return points, d_star
