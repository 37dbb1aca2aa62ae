"""The files and values `mathxfer analyze` reads, checked before any model loads.

A texts file is JSON Lines with one ``{"text": ...}`` per line (the latent analysis's raw texts); a responses
file has the authors' released schema, one ``{"input": prompt, "output": response}`` per line (the token
analysis's prompts and the tuned model's responses to them). Every fault is a ``UsageError`` naming the
file, the line and the fix. Blank lines are skipped (line numbers still count them).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mathxfer.errors import UsageError

TEXTS_SCHEMA = 'one JSON object per line with a non-empty "text" string, e.g. {"text": "What is 2+2?"}'
RESPONSES_SCHEMA = ('one JSON object per line with an "input" (the prompt, as the model saw it) and an "output" '
                    '(its response) string, as in the authors\' released *_responses.jsonl')


def _json_lines(path: Path, schema: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for every non-blank line, or a UsageError naming the file and line."""
    if not path.is_file():
        raise UsageError(f"{path}: no such file. Fix: pass an existing JSON Lines file ({schema})")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as err:
        raise UsageError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start}). Fix: save it as UTF-8") from err
    found = False
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise UsageError(f"{path}:{number}: not valid JSON ({err.msg}, column {err.colno}). "
                             f"Fix: write {schema}") from err
        if not isinstance(row, dict):
            raise UsageError(f"{path}:{number}: a JSON {type(row).__name__}, not an object. Fix: write {schema}")
        found = True
        yield number, row
    if not found:
        raise UsageError(f"{path}: empty (no JSON lines). Fix: write {schema}")


def _string_field(path: Path, number: int, row: dict[str, Any], key: str, schema: str, *,
                  allow_empty: bool = False) -> str:
    if key not in row:
        raise UsageError(f"{path}:{number}: no {key!r} key (it has {sorted(row) or 'none'}). Fix: write {schema}")
    value = row[key]
    if not isinstance(value, str):
        raise UsageError(f"{path}:{number}: {key!r} is a JSON {type(value).__name__}, not a string. "
                         f"Fix: write {schema}")
    if not allow_empty and not value.strip():
        raise UsageError(f"{path}:{number}: {key!r} is empty. Fix: drop the line or give it text")
    return value


def _first(items: list, n: int | None) -> list:
    if n is not None and n < 1:
        raise UsageError(f"--n {n}: give a positive number of lines to read")
    return items if n is None else items[:n]


def read_texts(path: str | Path, n: int | None = None) -> list[str]:
    """The ``text`` of the first ``n`` lines (all when None); every line of the file is checked."""
    path = Path(path)
    texts = [_string_field(path, number, row, "text", TEXTS_SCHEMA) for number, row in _json_lines(path, TEXTS_SCHEMA)]
    return _first(texts, n)


def read_responses(path: str | Path, n: int | None = None) -> tuple[list[str], list[str]]:
    """(prompts, responses) of the first ``n`` lines (all when None); every line of the file is checked.

    An empty ``output`` is kept (it has no token to score, so the summaries skip it, as the official script
    does); an empty ``input`` is refused (the first response token would have no position to be predicted from).
    """
    path = Path(path)
    prompts, responses = [], []
    for number, row in _json_lines(path, RESPONSES_SCHEMA):
        prompts.append(_string_field(path, number, row, "input", RESPONSES_SCHEMA))
        responses.append(_string_field(path, number, row, "output", RESPONSES_SCHEMA, allow_empty=True))
    return _first(prompts, n), _first(responses, n)


def parse_layers(text: str) -> tuple[int, ...]:
    """``"0,4,-1"`` -> (0, 4, -1): ``hidden_states`` indices (0 = the embeddings, -1 = the last layer)."""
    try:
        layers = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise UsageError(f"--layers {text!r}: give comma-separated integers, e.g. --layers 0,4,8 "
                         "(hidden_states indices: 0 is the embeddings, -1 the last layer)") from None
    if not layers:
        raise UsageError(f"--layers {text!r}: no layer given; omit --layers for every layer")
    if len(set(layers)) != len(layers):
        raise UsageError(f"--layers {text!r} names a layer twice")
    return layers


def check_layers(layers: tuple[int, ...], n_states: int, model: str) -> None:
    """Each index must address one of the model's ``n_states`` hidden states (embeddings + each layer)."""
    given = ",".join(map(str, layers))
    outside = [layer for layer in layers if not -n_states <= layer < n_states]
    if outside:
        raise UsageError(f"--layers {given}: {outside} out of range for {model}, which has "
                         f"{n_states} hidden states (the embeddings and {n_states - 1} layers). "
                         f"Fix: use indices from 0 to {n_states - 1} (or -{n_states} to -1)")
    resolved = [layer % n_states for layer in layers]
    if len(set(resolved)) != len(resolved):
        raise UsageError(f"--layers {given} names a layer twice for {model} ({n_states} hidden states: "
                         f"they resolve to {resolved})")
