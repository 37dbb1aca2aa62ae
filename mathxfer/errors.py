"""Errors that carry a message for a person: what is wrong, where, and the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class UsageError(ValueError):
    """Bad input (a command-line value, a study file); printed as one line, exit status 2."""


def read_yaml_mapping(path: Path, error: type[UsageError], missing: str, what: str) -> dict[str, Any]:
    """A YAML file that must hold a mapping (a recipe, a study file), or ``error`` naming the file:
    ``missing`` says what to do when it does not exist, ``what`` what its mapping holds."""
    import yaml

    if not path.is_file():
        raise error(f"{path}: {missing}")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise error(f"{path}: not valid YAML ({err})") from err
    if not isinstance(raw, dict):
        raise error(f"{path}: {what}")
    return raw


class DamagedFile(UsageError):
    """A results or cache file that cannot be read: the message names the file, the line and the fix."""


def damaged(path: Path, problem: str, fix: str, line: int | None = None) -> DamagedFile:
    where = f"{path}:{line}" if line is not None else str(path)
    return DamagedFile(f"{where}: damaged ({problem}). Fix: {fix}")


def read_json(path: Path, fix: str) -> Any:
    """A JSON file written by mathxfer, or DamagedFile naming it, the line of the fault and ``fix``
    (usually: delete the file, or the command that recomputes it)."""
    import json

    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise damaged(path, f"not valid JSON: {err.msg}", fix, err.lineno) from err
    except UnicodeDecodeError as err:
        raise damaged(path, "not UTF-8 text", fix) from err


def read_json_lines(path: Path, fix: str) -> list[Any]:
    """Every line of a JSON Lines file, or DamagedFile naming the first bad line."""
    import json

    path = Path(path)
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise damaged(path, f"not valid JSON: {err.msg}", fix, number) from err
    return rows
