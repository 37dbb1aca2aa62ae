"""PCA shift d* against hand-computed answers."""

from __future__ import annotations

import numpy as np
import pytest

from mathxfer.analysis.latent import base_components, layer_points, pca_shift, shift_frames


def _base(n: int = 40, d: int = 6, offset: np.ndarray | None = None, seed: int = 0) -> np.ndarray:
    """Features spanning exactly e0 (large variance) and e1 (smaller), plus a constant offset."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, 2))
    z -= z.mean(axis=0)
    q, _ = np.linalg.qr(z)  # orthogonal, centred columns -> principal axes are exactly e0, e1
    x = np.zeros((n, d))
    x[:, 0], x[:, 1] = 10 * q[:, 0], 3 * q[:, 1]
    return x + (offset if offset is not None else 0.0)


def test_components_are_the_known_axes_with_fixed_signs():
    comps = base_components(_base())
    np.testing.assert_allclose(np.abs(comps), np.eye(6)[:2], atol=1e-9)
    assert (comps[np.arange(2), np.abs(comps).argmax(axis=1)] > 0).all()


def test_projection_is_not_centred():
    offset = np.array([0.0, 7.0, 1.0, 0, 0, 0])
    base = _base(offset=offset)
    bp, tp = layer_points(base, base)
    # PCA.transform would centre and give m2 = 0; the paper projects raw features: m2 = offset . e1.
    np.testing.assert_allclose(bp, [0.0, 7.0], atol=1e-9)
    np.testing.assert_allclose(tp, [0.0, 7.0], atol=1e-9)


def test_d_star_for_constant_shifts_matches_hand_computation():
    offset = np.array([2.0, -4.0, 0, 0, 0, 0])
    base = np.stack([_base(offset=offset, seed=s) for s in range(2)])
    shifts = [np.array([3.0, 0, 0, 0, 0, 0]), np.array([5.0, 4.0, 0, 0, 9.0, 0])]  # e4 is orthogonal to both PCs
    tuned = base + np.stack(shifts)[:, None, :]
    result = pca_shift(base, tuned)
    # layer 1: base (0, -4), tuned (3, -4); layer 2: base (0, -4), tuned (5, 0)
    # averages: base (0, -4), tuned (4, -2) -> d* = sqrt(16 + 4)
    assert result.d_star == pytest.approx(np.sqrt(20.0), abs=1e-9)
    tuned_pts = result.points[result.points.role == "tuned"][["pc1", "pc2"]].to_numpy()
    np.testing.assert_allclose(tuned_pts, [[3, -4], [5, 0]], atol=1e-9)


def test_identical_models_have_zero_shift():
    base = np.random.default_rng(1).standard_normal((3, 20, 8))
    assert pca_shift(base, base.copy()).d_star == pytest.approx(0.0, abs=1e-12)


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="equal"):
        pca_shift(np.zeros((2, 5, 4)), np.zeros((2, 6, 4)))


def test_shift_frames_layout():
    base = np.random.default_rng(2).standard_normal((2, 10, 4))
    points, d_star = shift_frames({("m", "MATH500"): pca_shift(base, base + 1.0)})
    assert set(points.columns) >= {"model", "benchmark", "layer", "role", "pc1", "pc2", "d_star"}
    assert list(d_star.columns) == ["model", "benchmark", "d_star"] and d_star.d_star.iloc[0] > 0
