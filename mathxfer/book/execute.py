"""Execute chapter notebooks with papermill into the build folder; the sources stay clean.

A chapter that executed cleanly is not executed again while nothing it reads has changed: its executed copy
carries the key of its inputs (``execution_key``), as QuantEcon's books cache their notebook runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import papermill
from papermill.exceptions import PapermillExecutionError

from mathxfer.book.chapters import PROFILES, Chapter
from mathxfer.book.exports import export_outputs
from mathxfer.paths import PACKAGE_DIR, data_dir, repo_path
from mathxfer.provenance import TRACKED_PACKAGES, config_key, package_versions
from mathxfer.study.record import file_digest, spec_record_path

EXECUTED_DIR = Path("_build") / "executed"  # relative to the book root: one folder per profile
CELL_TIMEOUT_S = 1800


@dataclass(frozen=True)
class ChapterRun:
    chapter: str
    output: Path
    seconds: float
    error: str = ""  # empty when the chapter executed cleanly
    cached: bool = False  # its inputs are unchanged since its last clean execution, which was kept

    @property
    def ok(self) -> bool:
        return not self.error


def executed_path(root: Path, chapter: Chapter, profile: str) -> Path:
    """Where a profile's executed chapter lives: building one profile never overwrites another's page."""
    return root / EXECUTED_DIR / profile / f"{chapter.name}.ipynb"


def _tree_digest(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _file_inputs(parameters: dict[str, Any]) -> dict[str, str]:
    """The files a chapter's parameters name (its study record, scores files), each by its content."""
    values = [v for value in parameters.values() for v in (value if isinstance(value, list) else [value])]
    paths = {str(v): repo_path(v) for v in values if isinstance(v, str) and v}
    return {name: file_digest(path) for name, path in paths.items() if path.is_file()}


def _profile_records(profiles: tuple[str, ...]) -> dict[str, str]:
    """These profiles' default study records, by content ("absent" when none)."""
    from mathxfer.study import read_study

    paths = {profile: spec_record_path(read_study(profile=profile)) for profile in profiles}
    return {profile: file_digest(p) if p.is_file() else "absent" for profile, p in paths.items()}


def execution_key(root: Path, chapter: Chapter, parameters: dict[str, Any]) -> str:
    """What an executed page depends on: the notebook, its parameters and the files they name, the package's
    code, the committed data, the tracked libraries, the benchmarks folder and results store in use."""
    read = {"none": (), "own": (parameters["profile"],), "every": PROFILES}[chapter.reads_records]
    inputs = {
        "notebook": file_digest(root / chapter.notebook),
        "parameters": parameters,
        "files": _file_inputs(parameters),
        "records": _profile_records(read),
        "package": _tree_digest(sorted(PACKAGE_DIR.rglob("*.py"))),
        "data": _tree_digest(sorted(p for p in data_dir().rglob("*") if p.is_file())),
        "versions": package_versions((*TRACKED_PACKAGES, "papermill", "nbformat", "matplotlib", "jupyter-book")),
        "environment": {name: os.environ.get(name) for name in ("MATHXFER_DATA_DIR", "MATHXFER_RESULTS")},
    }
    return config_key(inputs)


def _kept(output: Path, key: str) -> bool:
    try:
        meta = json.loads(output.read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError):
        return False
    return meta.get("mathxfer", {}).get("execution_key") == key


def execute_chapter(root: Path, chapter: Chapter, parameters: dict[str, Any],
                    progress: bool = True) -> ChapterRun:
    """Run one chapter, or keep its executed copy when its inputs are unchanged. A failure is returned
    (chapter, cell, error), not raised, so the other chapters still build; papermill leaves the executed copy
    with the error at the failing cell (and without a key, so the next build executes it again)."""
    source = root / chapter.notebook
    output = executed_path(root, chapter, parameters["profile"])
    output.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    key = execution_key(root, chapter, parameters)
    if _kept(output, key):
        export_outputs(root, output, chapter.name, parameters["profile"])
        return ChapterRun(chapter.name, output, time.perf_counter() - start, cached=True)
    error = ""
    try:
        papermill.execute_notebook(
            str(source), str(output), parameters=parameters, cwd=str(root), kernel_name="python3",
            progress_bar=progress, execution_timeout=CELL_TIMEOUT_S, report_mode=False,
        )
    except PapermillExecutionError as err:
        error = f"cell {err.exec_count} (index {err.cell_index}): {err.ename}: {err.evalue}"
    except Exception as err:  # kernel death, bad notebook: still name the chapter and go on
        error = f"{type(err).__name__}: {err}"
    if output.exists():
        _finish(output, "" if error else key)
        export_outputs(root, output, chapter.name, parameters["profile"])
    return ChapterRun(chapter.name, output, time.perf_counter() - start, error)


def _finish(path: Path, key: str) -> None:
    """The parameters papermill injected (a local path to the study record, say) stay in the executed
    notebook but off the page: the page's provenance line says which study it shows. A clean run is stamped
    with its inputs' ``key``."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    nb.metadata.pop("mathxfer", None)
    if key:
        nb.metadata["mathxfer"] = {"execution_key": key}
    nbformat.write(nb, path)


def write_placeholder(root: Path, chapter: Chapter, profile: str, reason: str | None = None) -> Path:
    """A page for a chapter that was never executed (or cannot be, ``reason``), so the table of contents
    always resolves."""
    output = executed_path(root, chapter, profile)
    output.parent.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(
        f"# {chapter.title}\n\n" + (reason or "This chapter has not been executed in this build. "
                                     f"Run `mathxfer book --profile {profile} --only {chapter.name}` to execute it."))]
    nbformat.write(nb, output)
    return output
