"""The whole book, built on the toy micro study, read in headless Chromium as a reader would: at 1280 px and on a
phone (390 px) no page scrolls sideways, every chart has drawn offline, all math has rendered, no training log
line is on a page, and every table links its data as a CSV file."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from browser import probe  # tests/ is on sys.path
from test_book import copy_book

from mathxfer.book.chapters import CHAPTERS

WIDTHS = (1280, 390)
# what the study stage or a trainer prints: "[3/12] grpo seed 1: trained in 374s", tqdm bars, papermill's bar
LOG_LINE = re.compile(r"trained in \d|\[\d+/\d+\] \w|\d+(\.\d+)?(it/s|s/it)\b|Executing:|\d+%\|")


@pytest.fixture(scope="module")
def toy_book(micro_study, micro_ablation, micro_sweep, repo_root, tmp_path_factory) -> Path:
    """The default book of every chapter, on the toy studies' records; returns its HTML folder."""
    from mathxfer.book.build import build_book, html_dir
    from mathxfer.study import read_study

    _, study_root = micro_study
    root = copy_book(repo_root, tmp_path_factory.mktemp("toy-book"))
    log = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MATHXFER_RESULTS", str(study_root / "results"))
        studies = {name: read_study(study_root / f"{name}.yaml") for name in ("study", "ablation", "sweep")}
        result = build_book(profile="micro", root=root, studies=studies, log=log, progress=False)
    assert result.ok, log.getvalue()[-4000:]
    return html_dir(root, "micro")


def _page(html: Path, name: str) -> Path:
    return html / "_build" / "executed" / "micro" / f"{name}.html"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", [c.name for c in CHAPTERS])
def test_every_page_reads_at_this_width(toy_book, name, width):
    seen = probe(_page(toy_book, name), width)
    assert seen["page_scroll"] == 0 and seen["n_wide"] == 0, f"wider than the main column: {seen['wide']}"
    assert seen["chart_errors"] == 0 and seen["charts_drawn"] >= seen["charts"], seen
    assert seen["math_rendered"] == seen["math"], seen
    logs = [line for line in seen["text"].splitlines() if LOG_LINE.search(line)]
    assert not logs, logs[:3]


@pytest.mark.parametrize("name", [c.name for c in CHAPTERS])
def test_every_table_links_its_data(toy_book, name):
    page = _page(toy_book, name)
    text = page.read_text(encoding="utf-8")
    tables = len(re.findall(r'<table (?:border="1" )?(?:class="dataframe|id="T_)', text))  # DataFrames, Stylers
    links = re.findall(r'<p class="mathxfer-export"><a href="([^"]+\.csv)" download>', text)
    assert len(links) == tables, f"{tables} tables but {len(links)} CSV links"
    for href in links:
        target = (page.parent / href).resolve()
        assert target.is_file() and target.is_relative_to(toy_book.resolve()), href
        rows = list(csv.reader(target.open(encoding="utf-8")))
        assert len(rows) >= 2 and len(rows[0]) >= 2, f"{href}: {rows[:2]}"


def test_the_probe_sees_what_overflows(tmp_path):
    """The width check can fail: a wide block in the main column counts, the same block in a scrolling box not."""
    wide = '<div style="width:2000px">wide</div>'
    page = tmp_path / "page.html"
    page.write_text(f"<html><body><main style='width:300px'>{wide}"
                    f"<div style='overflow-x:auto'>{wide}</div></main></body></html>")
    seen = probe(page, 390)
    assert seen["n_wide"] == 1 and seen["page_scroll"] > 0
