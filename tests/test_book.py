"""The book end to end: papermill executes the chapter, Jupyter Book builds it, Chromium draws it offline."""

from __future__ import annotations

import io
import re
import shutil

import nbformat
import papermill
import pytest

from browser import load
from mathxfer.book.build import build_book
from mathxfer.provenance import provenance
from mathxfer.scores_file import ScoreRecord, write_scores

pytestmark = pytest.mark.book

BOOK_SOURCES = ("_config.yml", "_toc.yml", "book", "notebooks")


def copy_book(repo_root, dest):
    """The book's sources in a scratch root, so tests never touch the working tree's _build."""
    for name in BOOK_SOURCES:
        src = repo_root / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / name)
    return dest


@pytest.fixture(scope="module")
def extra_scores(tmp_path_factory):
    path = tmp_path_factory.mktemp("scores") / "mine.json"
    records = [ScoreRecord("Qwen3-14B-RL (ours)", "Qwen3-14B-Base", b, s, 100, "RL")
               for b, s in (("AIME24", 30.0), ("AIME25", 20.0), ("MATH500", 80.0), ("OlympiadBench", 30.0),
                            ("GPQA-Diamond", 50.0), ("HeadQA", 40.0), ("IFEval", 75.0), ("CoQA", 20.0))]
    write_scores(path, records, provenance({"test": True}, seed=0))
    return path


@pytest.fixture(scope="module")
def built(repo_root, tmp_path_factory, extra_scores):
    root = copy_book(repo_root, tmp_path_factory.mktemp("book"))
    log = io.StringIO()
    # the survey only: the other chapters train models and have their own tests; they get placeholders
    result = build_book(profile="micro", only=["survey"], parameters={"extra_results": [str(extra_scores)]},
                        root=root, log=log, progress=False)
    assert result.ok, log.getvalue()
    return root, result, log.getvalue()


def test_papermill_runs_the_survey_chapter_with_parameters(repo_root, tmp_path, extra_scores):
    out = tmp_path / "survey.ipynb"
    papermill.execute_notebook(str(repo_root / "notebooks/survey.ipynb"), str(out), cwd=str(repo_root),
                               parameters={"ti_reading": "literal", "extra_results": [str(extra_scores)]},
                               progress_bar=False, kernel_name="python3")
    nb = nbformat.read(out, as_version=4)
    text = "\n".join(str(o.get("data", {}).get("text/html", "")) + str(o.get("data", {}).get("text/markdown", ""))
                     for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "Under the literal reading" in text
    assert "Qwen3-14B-RL (ours)" in text  # the added model reaches the table and the figures
    assert "14 of 18 pairs within 1.5 points" in text


def test_book_builds_with_every_page_and_progress(built):
    root, result, log = built
    html = root / "_build" / "html"
    assert (html / "index.html").exists()
    for page in ("_build/executed/micro/survey.html", "book/intro.html", "book/reproduction.html",
                 "book/bibliography.html", "_build/executed/micro/controlled.html"):
        assert (html / page).exists(), page
    placeholder = (html / "_build/executed/micro/controlled.html").read_text()
    assert "has not been executed in this build" in placeholder
    assert "[1/1] executing chapter 'survey'" in log
    assert all(run.ok for run in result.runs)
    survey = (html / "_build/executed/micro/survey.html").read_text()
    assert re.search(r"Profile <strong>micro</strong> · git <code[^>]*>(<span[^>]*>)?[0-9a-f]{7,}", survey), \
        "the page opens with its provenance line"
    assert "# Parameters" not in survey  # papermill's injected cell is hidden
    assert "evaluated on their own generated world" in survey  # the micro models join no survey row


def test_another_profile_is_another_book(built):
    """Building the smol book writes its own pages; the default book's pages are not touched."""
    root, _, _ = built
    default_page = root / "_build/html/_build/executed/micro/survey.html"
    before = default_page.read_bytes(), default_page.stat().st_mtime_ns
    log = io.StringIO()
    result = build_book(profile="smol", only=["survey", "ablation"], root=root, log=log, progress=False)
    assert result.ok, log.getvalue()
    assert result.index == root / "_build/smol/_build/html/index.html" and result.index.exists()
    smol_html = root / "_build/smol/_build/html"
    smol_page = (smol_html / "_build/executed/smol/survey.html").read_text()
    assert "Profile <strong>smol</strong>" in smol_page
    # no smol record in this store: the page says where the smol rows would come from, and adds none
    assert "join this table from its study record, which is not there yet" in smol_page
    assert (default_page.read_bytes(), default_page.stat().st_mtime_ns) == before
    # no recipes/smol/ablation.yaml: the page says so instead of running a study
    assert "The smol profile has no ablation study" in (smol_html / "_build/executed/smol/ablation.html").read_text()
    assert "its ablation study is not part of this build" not in log.getvalue()
    # each book carries its own tables' downloads only
    assert list((smol_html / "data").iterdir()) == [smol_html / "data" / "smol"]
    assert not (root / "_build/html/data/smol").exists()


def test_pages_load_no_third_party_script(built):
    root, _, _ = built
    page = (root / "_build/html/_build/executed/micro/survey.html").read_text()
    sources = re.findall(r'<script[^>]+src="([^"]+)"', page) + re.findall(r'<link[^>]+href="([^"]+\.css[^"]*)"', page)
    assert sources and not [s for s in sources if s.startswith(("http:", "https:", "//"))]
    assert "cdn.jsdelivr" not in page and "unpkg.com/vega" not in page


def test_survey_page_draws_figure_2_offline(built, tmp_path):
    root, _, _ = built
    screenshot = tmp_path / "survey.png"
    dom, console = load(root / "_build/html/_build/executed/micro/survey.html", screenshot)
    drawn = re.sub(r"<script.*?</script>", "", dom, flags=re.S)  # what is on the page, not in the JS
    assert "mathxfer-chart-error" not in drawn, console
    charts = re.findall(r'<div id="mathxfer-chart-[0-9a-f]+" class="mathxfer-chart[^"]*"[^>]*>(.*?)</svg>', dom, re.S)
    assert len(charts) == 3, console
    figure2 = charts[0]
    assert "Transferability of math gains, by base family" in figure2
    # 18 paper pairs + our added model, each drawn in both panels
    assert len(re.findall(r'<path[^>]*aria-roledescription="point"', figure2)) == 2 * 19
    assert "<mjx-container" in dom  # MathJax rendered the formulas from the local copy
    assert screenshot.stat().st_size > 50_000


def test_failing_chapter_is_named_and_the_book_still_builds(repo_root, tmp_path):
    root = copy_book(repo_root, tmp_path)
    log = io.StringIO()
    result = build_book(only=["survey"], parameters={"scores": "/nonexistent/scores.csv"}, root=root,
                        log=log, progress=False)
    assert not result.ok and result.html_ok
    error = result.runs[0].error
    assert "FileNotFoundError" in error and re.search(r"cell \d+", error)
    assert "chapter 'survey' failed" in log.getvalue()
    assert (root / "_build/html/book/intro.html").exists()


def test_an_unchanged_chapter_is_kept_and_a_changed_input_executes_it_again(repo_root, tmp_path, extra_scores):
    from mathxfer.book.chapters import chapter
    from mathxfer.book.execute import execute_chapter

    (tmp_path / "book").mkdir()
    root = copy_book(repo_root, tmp_path / "book")
    survey = chapter("survey")
    scores = tmp_path / "scores.json"
    shutil.copy(extra_scores, scores)
    params = survey.parameters("micro", {"extra_results": [str(scores)]})
    first = execute_chapter(root, survey, params, progress=False)
    page = first.output.read_text()
    assert first.ok and not first.cached
    again = execute_chapter(root, survey, params, progress=False)
    assert again.ok and again.cached and again.output.read_text() == page  # the page is the same file
    literal = execute_chapter(root, survey, {**params, "ti_reading": "literal"}, progress=False)
    assert literal.ok and not literal.cached and "Under the literal reading" in literal.output.read_text()
    back = execute_chapter(root, survey, params, progress=False)
    assert not back.cached  # the copy held the literal page: the key is of the last execution only
    scores.write_text(scores.read_text().replace("Qwen3-14B-RL (ours)", "Qwen3-14B-RL (ours, again)"))
    changed = execute_chapter(root, survey, params, progress=False)  # the scores file named changed
    assert not changed.cached and "Qwen3-14B-RL (ours, again)" in changed.output.read_text()
    (root / survey.notebook).write_text((root / survey.notebook).read_text() + " ")
    assert not execute_chapter(root, survey, params, progress=False).cached  # the notebook changed


def test_a_failed_chapter_is_executed_again(repo_root, tmp_path):
    from mathxfer.book.chapters import chapter
    from mathxfer.book.execute import execute_chapter

    root = copy_book(repo_root, tmp_path)
    params = chapter("survey").parameters("micro", {"scores": "/nonexistent/scores.csv"})
    assert not execute_chapter(root, chapter("survey"), params, progress=False).ok
    run = execute_chapter(root, chapter("survey"), params, progress=False)
    assert not run.ok and not run.cached
