"""The chapter registry, the notebooks' parameter cells and _toc.yml stay in agreement."""

from __future__ import annotations

import nbformat
import papermill
import pytest
import yaml

from mathxfer.book.chapters import CHAPTERS, DEFAULT_PROFILE, PROFILES, chapter
from mathxfer.book.execute import EXECUTED_DIR


@pytest.mark.parametrize("ch", CHAPTERS, ids=[c.name for c in CHAPTERS])
def test_notebook_parameters_match_the_registry(repo_root, ch):
    declared = papermill.inspect_notebook(str(repo_root / ch.notebook))
    registry = ch.parameters("micro")
    assert set(declared) == set(registry)
    for name, spec in declared.items():
        assert eval(spec["default"]) == registry[name], name  # noqa: S307 (our own notebook's literals)


@pytest.mark.parametrize("ch", CHAPTERS, ids=[c.name for c in CHAPTERS])
def test_notebook_sources_carry_no_outputs(repo_root, ch):
    nb = nbformat.read(repo_root / ch.notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None


def test_toc_lists_every_chapter(repo_root):
    toc = yaml.safe_load((repo_root / "_toc.yml").read_text())
    files = {toc["root"], *(entry["file"] for entry in toc["chapters"])}
    for ch in CHAPTERS:
        assert f"{EXECUTED_DIR.as_posix()}/{DEFAULT_PROFILE}/{ch.name}" in files


def test_study_chapters_take_only_the_study():
    """Everything a study owns lives in its study file: a chapter that reads a study takes `study` (and
    display-only settings), never arms, seeds or step budgets."""
    for ch in CHAPTERS:
        if ch.uses_study:
            assert "study" in ch.defaults
            assert not {"arms", "seeds", "steps", "eval_n", "base_model", "workers", "n_samples"} & set(ch.defaults)


def test_every_profile_resolves_every_chapter():
    for ch in CHAPTERS:
        for profile in PROFILES:
            assert ch.parameters(profile)["profile"] == profile


def test_overrides_are_checked():
    with pytest.raises(ValueError, match="has no parameter 'scors'"):
        chapter("survey").parameters("micro", {"scors": "x"})
    assert chapter("survey").parameters("micro", {"ti_reading": "v1"})["ti_reading"] == "v1"


@pytest.mark.parametrize("ch", CHAPTERS, ids=lambda c: c.name)
def test_every_code_cell_is_folded_behind_a_toggle(ch, repo_root):
    """Readers see the findings first; each cell's code stays one click away (or, for parameters, off the page)."""
    nb = nbformat.read(repo_root / ch.notebook, as_version=4)
    open_cells = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
                  and not {"hide-input", "remove-cell"} & set(cell.metadata.get("tags", []))]
    assert not open_cells, f"{ch.notebook}: code cells {open_cells} would show their code on the page"
