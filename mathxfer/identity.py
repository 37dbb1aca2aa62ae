"""What identifies a model or a tokenizer in a cache key.

A hub id is pinned by its revision; a local directory by a hash of its files' contents (memoised by
path, size and mtime so a 30 GB checkpoint is read once, not on every call).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from mathxfer.errors import DamagedFile, damaged, read_json
from mathxfer.paths import file_hashes_path
from mathxfer.provenance import write_json_atomic

_CHUNK = 1 << 24


def _file_sha(path: Path, memo: dict[str, str]) -> str:
    stat = path.stat()
    memo_key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    if memo_key not in memo:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while block := handle.read(_CHUNK):
                digest.update(block)
        memo[memo_key] = digest.hexdigest()
    return memo[memo_key]


NOT_THE_MODEL = ("training.json", "quick_eval.json")  # records written beside the weights, not read by loading


def defines_model(file: Path) -> bool:
    """Whether a file in a model folder can change what loading it gives: weights, config, tokenizer do;
    notes (``*.md``), training records, caches and hidden files do not, so editing them keeps every key."""
    return not (file.suffix in (".md", ".pyc") or file.name in NOT_THE_MODEL or file.name.startswith(".")
                or "__pycache__" in file.parts)


def model_identity(name_or_path: str | Path, revision: str | None = None) -> str:
    """``"id@revision"`` for a hub model, ``"local:<hash of the files that define it>"`` for a local directory.

    A hub id without a revision is keyed as ``@main``: pass the commit sha to make the cache key
    immune to the repository being updated.
    """
    path = Path(name_or_path)
    if not path.exists():
        return f"{name_or_path}@{revision or 'main'}"
    files = sorted(p for p in (path.rglob("*") if path.is_dir() else [path]) if p.is_file() and defines_model(p))
    if not files:
        raise ValueError(f"model directory {path} holds no files; pass a checkpoint directory or a hub id")
    return "local:" + content_digest([(str(f.relative_to(path) if path.is_dir() else f.name), f) for f in files])


MEMO_REBUILT = "none needed: it is only a memo of file hashes, so it is rebuilt now (the files are hashed again)"


def _read_memo(path: Path) -> dict[str, str]:
    """The memo of file hashes; a damaged one is named once on stderr and rebuilt (the next write replaces
    it) rather than stopping the run."""
    if not path.exists():
        return {}
    try:
        memo = read_json(path, MEMO_REBUILT)
        if isinstance(memo, dict) and all(isinstance(v, str) for v in memo.values()):
            return memo
        raise damaged(path, f"a JSON {type(memo).__name__}, not a mapping of file to hash", MEMO_REBUILT)
    except DamagedFile as err:
        print(f"mathxfer: warning: {err}", file=sys.stderr)
        return {}


def content_digest(files: Sequence[tuple[str, Path]]) -> str:
    """A hash of named files' contents, in the order given: a model folder's files, or a data file."""
    memo_path = file_hashes_path()
    memo = _read_memo(memo_path)
    digest = hashlib.sha256()
    for name, file in files:
        digest.update(name.encode())
        digest.update(_file_sha(Path(file), memo).encode())
    write_json_atomic(memo_path, memo)
    return digest.hexdigest()[:16]


def tokenizer_fingerprint(tokenizer) -> str:
    """Hash of the full tokenizer definition (fast tokenizers) or its vocabulary (slow ones)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        # padding/truncation are call-time state a batched call leaves behind, not the tokenizer's identity
        definition = {k: v for k, v in json.loads(backend.to_str()).items() if k not in ("padding", "truncation")}
        text = json.dumps(definition, sort_keys=True)
    else:
        text = json.dumps(sorted(tokenizer.get_vocab().items()))
    extra = json.dumps({"special": tokenizer.all_special_tokens, "bos": tokenizer.bos_token,
                        "pad": tokenizer.pad_token}, sort_keys=True)
    return hashlib.sha256((text + extra).encode()).hexdigest()[:16]
