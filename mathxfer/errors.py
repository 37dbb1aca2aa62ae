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
