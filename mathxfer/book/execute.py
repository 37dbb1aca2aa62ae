"""Execute chapter notebooks with papermill into the build folder; the sources stay clean."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import papermill
from papermill.exceptions import PapermillExecutionError

from mathxfer.book.chapters import Chapter
from mathxfer.book.exports import export_outputs

EXECUTED_DIR = Path("_build") / "executed"  # relative to the book root: one folder per profile
CELL_TIMEOUT_S = 1800


@dataclass(frozen=True)
class ChapterRun:
    chapter: str
    output: Path
    seconds: float
    error: str = ""  # empty when the chapter executed cleanly

    @property
    def ok(self) -> bool:
        return not self.error


def executed_path(root: Path, chapter: Chapter, profile: str) -> Path:
    """Where a profile's executed chapter lives: building one profile never overwrites another's page."""
    return root / EXECUTED_DIR / profile / f"{chapter.name}.ipynb"


def execute_chapter(root: Path, chapter: Chapter, parameters: dict[str, Any],
                    progress: bool = True) -> ChapterRun:
    """Run one chapter. A failure is returned (chapter, cell, error), not raised, so the other
    chapters still build; papermill leaves the executed copy with the error at the failing cell."""
    source = root / chapter.notebook
    output = executed_path(root, chapter, parameters["profile"])
    output.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
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
        _hide_injected_parameters(output)
        export_outputs(root, output, chapter.name, parameters["profile"])
    return ChapterRun(chapter.name, output, time.perf_counter() - start, error)


def _hide_injected_parameters(path: Path) -> None:
    """The parameters papermill injected (a local path to the study record, say) stay in the executed
    notebook but off the page: the page's provenance line says which study it shows."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    nbformat.write(nb, path)


def write_placeholder(root: Path, chapter: Chapter, profile: str) -> Path:
    """A page for a chapter that was never executed, so the table of contents always resolves."""
    output = executed_path(root, chapter, profile)
    output.parent.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(
        f"# {chapter.title}\n\nThis chapter has not been executed in this build. "
        f"Run `mathxfer book --profile {profile} --only {chapter.name}` to execute it.")]
    nbformat.write(nb, output)
    return output
