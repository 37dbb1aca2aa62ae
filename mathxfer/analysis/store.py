"""Atomic .npz files and content hashes: an interrupted run never leaves a half-written cache entry."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mathxfer.errors import damaged
from mathxfer.provenance import config_key


def save_npz_atomic(path: Path, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any] | None = None) -> None:
    """Write ``arrays`` (plus ``meta`` as JSON under ``__meta__``) to a temp file, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = dict(arrays)
    if meta is not None:
        payload["__meta__"] = np.array(json.dumps(meta, sort_keys=True, default=str))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        # Uncompressed members written straight from the arrays' buffers: np.savez would copy each
        # array (in 16 MiB pieces), which doubles peak memory for the sizes stored here.
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            for name, array in payload.items():
                array = np.asarray(array)
                if array.dtype.hasobject:
                    raise TypeError(f"array {name!r} holds Python objects; store plain numbers or strings")
                with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                    _write_npy(member, array)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_npy(handle, array: np.ndarray) -> None:
    """The .npy format (what np.load reads), writing the data without an intermediate copy."""
    array = np.require(array, requirements="C")  # not ascontiguousarray: it turns 0-d into 1-d
    np.lib.format.write_array_header_2_0(handle, np.lib.format.header_data_from_array_1_0(array))
    if array.size:
        handle.write(memoryview(array.reshape(-1)).cast("B"))


CACHE_FIX = "delete it; it is a cache and is recomputed by the next run"


def load_npz(path: Path, check: Check | None = None) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The arrays and the metadata that ``save_npz_atomic`` wrote.

    Never silently wrong: an unreadable file, or one whose arrays do not fit the configuration it records
    (another configuration's key; or what ``check``, the writer's own test of its arrays against the
    recorded configuration, finds: a hidden-state cache of the wrong shape, ragged token scores), raises
    ``DamagedFile`` naming it and the fix."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files if k != "__meta__"}
            meta = json.loads(str(data["__meta__"])) if "__meta__" in data.files else {}
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, zipfile.LargeZipFile) as err:
        # ValueError covers a bad .npy header, a pickled (object) array and meta that is not JSON
        raise damaged(path, f"not a readable .npz: {type(err).__name__}: {str(err)[:120] or 'truncated'}",
                      CACHE_FIX) from err
    if not isinstance(meta, dict):
        raise damaged(path, "its __meta__ is not a JSON object", CACHE_FIX)
    problem = _mismatch(path, arrays, meta, check)
    if problem:
        raise damaged(path, problem, CACHE_FIX)
    return arrays, meta


Check = Callable[[Mapping[str, np.ndarray], Mapping[str, Any]], str]  # (arrays, config) -> the problem, '' if none


def _mismatch(path: Path, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any], check: Check | None) -> str:
    """Why the arrays do not fit what the file says it holds ('' when they do)."""
    config = meta.get("config")
    if isinstance(config, dict):
        key = config_key(config)
        if meta.get("config_key", key) != key:
            return f"its metadata is inconsistent (config_key {meta.get('config_key')!r}, config hashes to {key})"
        if _is_key(path.stem) and path.stem != key:
            return f"it holds the result of another configuration (key {key}), not of {path.stem}"
    else:
        config = {}
    return check(arrays, config) if check is not None else ""


def _is_key(text: str) -> bool:
    return len(text) == 16 and all(c in "0123456789abcdef" for c in text)


def texts_hash(texts: Iterable[str]) -> str:
    """Order-sensitive hash of a list of strings (length-prefixed so ["ab"] != ["a", "b"])."""
    digest = hashlib.sha256()
    for text in texts:
        raw = text.encode("utf-8")
        digest.update(len(raw).to_bytes(8, "little"))
        digest.update(raw)
    return digest.hexdigest()[:16]


def arrays_hash(arrays: Iterable[np.ndarray]) -> str:
    """Hash of array contents, dtypes and shapes."""
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()[:16]
