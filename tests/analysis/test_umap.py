"""UMAP: same seed, same coordinates; cached coordinates are reused."""

from __future__ import annotations

import numpy as np
import pytest

from mathxfer.analysis import umap_view
from mathxfer.analysis.umap_view import UMAPConfig, umap_by_group, umap_embedding


def _features(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {m: rng.standard_normal((25, 8)).astype(np.float32) + shift
            for m, shift in (("base", 0.0), ("SFT", 2.0), ("RL", 0.3))}


def test_fixed_seed_is_reproducible(tmp_path):
    config = UMAPConfig(n_neighbors=10)
    a = umap_embedding(_features(), config=config, cache_dir=tmp_path / "a")
    b = umap_embedding(_features(), config=config, cache_dir=tmp_path / "b")  # recomputed, not cached
    np.testing.assert_array_equal(a[["x", "y"]].to_numpy(), b[["x", "y"]].to_numpy())
    assert list(a.model.unique()) == ["base", "SFT", "RL"] and len(a) == 75
    assert a.groupby("model").item.max().eq(24).all()


def test_coordinates_are_cached(tmp_path, monkeypatch):
    first = umap_by_group({"math": _features(0), "non": _features(1)}, config=UMAPConfig(n_neighbors=10),
                          cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.npz"))) == 2 and set(first.group) == {"math", "non"}

    def refuse(*args, **kwargs):
        raise AssertionError("cached coordinates must not be recomputed")

    monkeypatch.setattr(umap_view, "_fit", refuse)
    again = umap_by_group({"math": _features(0), "non": _features(1)}, config=UMAPConfig(n_neighbors=10),
                          cache_dir=tmp_path)
    np.testing.assert_array_equal(first[["x", "y"]].to_numpy(), again[["x", "y"]].to_numpy())
    with pytest.raises(AssertionError):  # other parameters are another key
        umap_embedding(_features(0), config=UMAPConfig(n_neighbors=10, random_state=1), cache_dir=tmp_path)


def test_mismatched_widths_are_refused(tmp_path):
    with pytest.raises(ValueError, match="hidden size"):
        umap_embedding({"a": np.zeros((5, 3)), "b": np.zeros((5, 4))}, cache_dir=tmp_path)
def test_a_failed_spectral_start_is_recorded_not_printed(tmp_path, monkeypatch):
    """umap-learn warns on stderr and falls back to a seeded random start when near-duplicate states leave no
    eigengap (the book builds with stderr as an error): the fallback is kept, recorded in ``init``."""
    import warnings

    import umap

    original = umap.UMAP.fit_transform

    def failing_spectral(self, x, *args, **kwargs):
        warnings.warn("Spectral initialisation failed! The eigenvector solver\nfailed.", UserWarning)
        return original(self, x, *args, **kwargs)

    monkeypatch.setattr(umap.UMAP, "fit_transform", failing_spectral)
    x = np.random.default_rng(0).normal(size=(30, 6)).astype(np.float32)
    with warnings.catch_warnings(record=True) as leaked:
        warnings.simplefilter("always")
        frame = umap_embedding({"base": x, "tuned": x + 1e-6}, cache_dir=tmp_path)
    assert not [w for w in leaked if "Spectral" in str(w.message)]
    assert set(frame["init"]) == {"random (spectral failed)"}
    monkeypatch.undo()
    assert set(umap_embedding({"base": x}, cache_dir=tmp_path / "b")["init"]) == {"spectral"}
