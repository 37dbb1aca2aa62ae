"""One joint 2-D UMAP of base, SFT and RL hidden states per task group (the book's addition; the
paper has no UMAP). Seeded: a fixed ``random_state`` makes umap-learn run single-threaded and
reproducible. Coordinates are cached under ``results/umap/KEY.npz`` so the book never recomputes.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mathxfer import paths
from mathxfer.analysis.store import arrays_hash, load_npz, save_npz_atomic
from mathxfer.provenance import config_key, provenance


@dataclass(frozen=True)
class UMAPConfig:
    n_neighbors: int = 15
    min_dist: float = 0.1
    metric: str = "euclidean"
    random_state: int = 42
    standardize: bool = False  # z-score features jointly first (hidden sizes have very uneven scales)


def _fit(x: np.ndarray, config: UMAPConfig) -> tuple[np.ndarray, str]:
    """2-D coordinates and the initialisation umap-learn actually used."""
    import umap  # slow import (numba): only when something must be computed

    if config.standardize:
        x = (x - x.mean(axis=0)) / np.where(x.std(axis=0) > 0, x.std(axis=0), 1.0)
    reducer = umap.UMAP(n_components=2, n_neighbors=min(config.n_neighbors, len(x) - 1),
                        min_dist=config.min_dist, metric=config.metric,
                        random_state=config.random_state, n_jobs=1, transform_seed=config.random_state)
    with warnings.catch_warnings(record=True) as caught:  # recorded with the result, not printed to stderr
        warnings.simplefilter("always")
        coords = reducer.fit_transform(x).astype(np.float32)
    # Near-duplicate states (a tuned model that barely moved from the base) leave the spectral solver no
    # eigengap; umap-learn then starts from its seeded random layout, which stays reproducible.
    spectral_failed = any("Spectral initialisation failed" in str(w.message) for w in caught)
    return coords, "random (spectral failed)" if spectral_failed else "spectral"


def _cache_problem(arrays: Mapping[str, np.ndarray], _config: Mapping[str, Any]) -> str:
    lengths = {name: arrays[name].shape for name in ("model", "item", "x", "y") if name in arrays}
    if len(lengths) < 4 or len(set(lengths.values())) != 1:
        return f"UMAP arrays model, item, x, y should be of one length; got {lengths}"
    return ""


def umap_embedding(features: Mapping[str, np.ndarray], *, config: UMAPConfig = UMAPConfig(),
                   cache_dir: Path | None = None) -> pd.DataFrame:
    """Joint embedding of ``{model label: (n_items, hidden)}`` (one layer, one task group).

    Returns rows (model, item, x, y, init); ``item`` is the row index within that model's array, ``init``
    the initialisation umap-learn used.
    """
    if not features:
        raise ValueError("no features given")
    labels = list(features)
    arrays = [np.asarray(features[m], dtype=np.float32) for m in labels]
    widths = {a.shape[1] for a in arrays if a.ndim == 2}
    if len(widths) != 1 or any(a.ndim != 2 for a in arrays):
        raise ValueError(f"each model needs a (n_items, hidden) array of one hidden size; got "
                         f"{ {m: a.shape for m, a in zip(labels, arrays)} }")
    key_config = {"kind": "umap", "fit_version": 2, "labels": labels, "features": arrays_hash(arrays), **asdict(config),
                  "umap_version": metadata.version("umap-learn")}
    key = config_key(key_config)
    path = (Path(cache_dir) if cache_dir is not None else paths.cache_dir("umap")) / f"{key}.npz"
    if path.exists():
        stored, _ = load_npz(path, _cache_problem)
    else:
        coords, init = _fit(np.concatenate(arrays), config)
        stored = {"model": np.concatenate([np.full(len(a), m) for m, a in zip(labels, arrays)]),
                  "item": np.concatenate([np.arange(len(a)) for a in arrays]),
                  "x": coords[:, 0], "y": coords[:, 1], "init": np.array(init)}
        save_npz_atomic(path, stored, meta=provenance(key_config, seed=config.random_state))
    return pd.DataFrame({"model": stored["model"].astype(str), "item": stored["item"],
                         "x": stored["x"], "y": stored["y"], "init": str(stored["init"])})


def umap_by_group(features: Mapping[str, Mapping[str, np.ndarray]], *, config: UMAPConfig = UMAPConfig(),
                  cache_dir: Path | None = None) -> pd.DataFrame:
    """``{group: {model: (n_items, hidden)}}`` -> rows (group, model, item, x, y), one embedding per group."""
    return pd.concat([umap_embedding(by_model, config=config, cache_dir=cache_dir).assign(group=group)
                      for group, by_model in features.items()], ignore_index=True)[
        ["group", "model", "item", "x", "y"]]
