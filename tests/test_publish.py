"""Publishing: the Pages workflow, the offline link check of the built book, and the citation files."""

from __future__ import annotations

import io
import os
import re
import shutil
import tomllib
from pathlib import Path

import pytest
import yaml
from test_book import copy_book

from mathxfer.book.build import build_book
from mathxfer.book.links import BrokenLink, check_links
from mathxfer.cli import main

MAINTAINED_ACTIONS = {  # name -> major version
    "actions/checkout": "v4",
    "actions/setup-python": "v5",
    "actions/cache/restore": "v4",  # actions/cache's own restore and save steps
    "actions/cache/save": "v4",
    "actions/upload-pages-artifact": "v3",
    "actions/deploy-pages": "v4",
}


# --- the workflow -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def workflow(repo_root):
    return yaml.safe_load((repo_root / ".github/workflows/book.yml").read_text())


def _steps(workflow):
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_workflow_builds_on_push_to_main_and_by_hand(workflow):
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` key as True
    assert triggers["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in triggers


def test_workflow_uses_only_the_maintained_actions(workflow):
    uses = [step["uses"] for step in _steps(workflow) if "uses" in step]
    assert {u.split("@")[0] for u in uses} == set(MAINTAINED_ACTIONS)
    for u in uses:
        name, _, version = u.partition("@")
        assert version == MAINTAINED_ACTIONS[name], u


def test_workflow_deploys_the_checked_book_to_pages(workflow):
    assert workflow["permissions"]["pages"] == "write" and workflow["permissions"]["id-token"] == "write"
    assert workflow["concurrency"]["group"] == "pages"
    build = workflow["jobs"]["build"]["steps"]
    runs = [step.get("run", "") for step in build]
    book = next(i for i, r in enumerate(runs) if r.strip() == "make book")
    check = next(i for i, r in enumerate(runs) if "mathxfer check-links _build/html" in r)
    upload = next(i for i, s in enumerate(build)
                  if s.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert book < check < upload
    assert build[upload]["with"]["path"] == "_build/html"
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"


def test_workflow_caches_the_results_store(workflow):
    steps = _steps(workflow)
    restore = next(s for s in steps if s.get("uses", "").startswith("actions/cache/restore@"))
    save = next(s for s in steps if s.get("uses", "").startswith("actions/cache/save@"))
    assert restore["with"]["path"] == save["with"]["path"] == "results"
    key = restore["with"]["key"]
    for pattern in ("recipes/**", "data/micro/**", "mathxfer/**", "requirements.txt"):
        assert f"'{pattern}'" in key, pattern
    prefix = key.split("${{ hashFiles")[0]
    assert restore["with"]["restore-keys"].splitlines() == [prefix]  # a partial store is reused
    assert save["if"].startswith("always()")  # runs finished before a failure are kept
    assert save["with"]["key"] == f"${{{{ steps.{restore['id']}.outputs.cache-primary-key }}}}"


# --- the link checker on small hand-written sites -------------------------------------------------------

def _site(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_checker_resolves_encodings_folders_queries_and_skips_external(tmp_path):
    site = _site(tmp_path, {
        "index.html": '<meta http-equiv="Refresh" content="0; url=book/a%20b.html" />',
        "book/a b.html": '<h2 id="sec">x</h2><a name="old"></a>'
                         '<a href="a%20b.html#sec">self</a> <a href="#old">here</a> <a href="#">menu</a>'
                         '<a href="sub/">dir</a> <a href="sub">dir</a> <a href="sub/#top">dir</a>'
                         '<link href="../_static/s.css?v=1"> <img src="../_static/i%2Bj.png"/>'
                         '<a href="https://arxiv.org/abs/2507.00432">x</a> <a href="mailto:a@b">m</a>'
                         '<a href="//cdn.example/x.js">c</a> <img src="data:image/png;base64,AA">'
                         '<a href="javascript:void(0)">j</a>'
                         '<a href="sub/index.html#caf%C3%A9">fragment with an encoded name</a>',
        "book/sub/index.html": '<div id="top"></div><p id="café"></p><a href="../a%20b.html?x=1#sec">up</a>',
        "_static/s.css": "",
        "_static/i+j.png": "",
        "_static/macros.html": "<script src=\"{{ pathto('x.js', 1) }}\"></script>",  # a template, not a page
    })
    assert check_links(site) == []


def test_checker_names_each_broken_link_with_its_page(tmp_path):
    site = _site(tmp_path, {
        "index.html": '<meta http-equiv="Refresh" content="0; url=book/gone.html" />',
        "book/a.html": '<h2 id="sec"></h2><a href="b.html">b</a> <a href="a.html#nope">self</a>'
                       '<a href="#nope">here</a> <a href="emptydir/">dir</a> <img src="../img/x%20y.png">'
                       '<a href="../../outside.html">out</a> <a href="a.html#sec">ok</a>'
                       '<a href="/book/a.html">root</a>',
        "book/emptydir/readme.txt": "",
        "img/x_y.png": "",
    })
    assert [(b.page, b.link) for b in check_links(site)] == [
        ("book/a.html", "#nope"), ("book/a.html", "../../outside.html"), ("book/a.html", "../img/x%20y.png"),
        ("book/a.html", "/book/a.html"), ("book/a.html", "a.html#nope"), ("book/a.html", "b.html"),
        ("book/a.html", "emptydir/"), ("index.html", "book/gone.html")]
    assert str(check_links(site)[0]) == "book/a.html: #nope (no id 'nope' on book/a.html)"


def test_cli_prints_one_line_per_broken_link_and_exits_1(tmp_path, capsys):
    site = _site(tmp_path / "site", {"index.html": '<a href="missing.html">x</a> <a href="index.html">me</a>'})
    assert main(["check-links", str(site)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == ["index.html: missing.html (no such file)"]
    (site / "missing.html").write_text("")
    assert main(["check-links", str(site)]) == 0
    assert main(["check-links", str(tmp_path / "nowhere")]) == 2
    assert "no built book" in capsys.readouterr().err


# --- the link checker on a built book ------------------------------------------------------------------

@pytest.fixture(scope="module")
def built_html(repo_root, tmp_path_factory):
    """The default book with its survey chapter executed (the other chapters as placeholders), built once."""
    root = copy_book(repo_root, tmp_path_factory.mktemp("book"))
    log = io.StringIO()
    result = build_book(profile="micro", only=["survey"], root=root, log=log, progress=False)
    assert result.ok, log.getvalue()
    return root / "_build" / "html"


SURVEY = "_build/executed/micro/survey.html"  # the executed chapter; the others are placeholders


@pytest.fixture
def html_copy(built_html, tmp_path):
    return shutil.copytree(built_html, tmp_path / "html")


def _first(pattern, path):
    match = re.search(pattern, path.read_text())
    assert match, (pattern, path)
    return match.group(1)


def _edit(path, old, new):
    """Replace the first occurrence of ``old`` on the page."""
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


def _reported(broken: list[BrokenLink]) -> set[tuple[str, str]]:
    return {(b.page, b.link) for b in broken}


PAGE_LINK = r'href="((?:\.\./)*[\w/.-]+\.html)"'  # a relative link to a page, no fragment


@pytest.mark.book
def test_built_book_has_no_broken_links(built_html, capsys):
    assert [str(b) for b in check_links(built_html)] == []
    assert main(["check-links", str(built_html)]) == 0
    assert "resolves" in capsys.readouterr().out


@pytest.mark.book
def test_a_broken_link_is_reported_with_its_page(html_copy, capsys):
    survey = html_copy / SURVEY
    link = _first(PAGE_LINK, survey)
    _edit(survey, f'href="{link}"', f'href="{link[:-5]}-renamed.html"')
    assert _reported(check_links(html_copy)) == {(SURVEY, f"{link[:-5]}-renamed.html")}
    assert main(["check-links", str(html_copy)]) == 1
    assert capsys.readouterr().out.startswith(f"{SURVEY}: {link[:-5]}-renamed.html (no such file)")


@pytest.mark.book
def test_a_deleted_page_is_reported_on_every_page_that_links_to_it(html_copy):
    home = _first(r'url=([^"]+)"', html_copy / "index.html")  # the site root redirects to the book's first page
    (html_copy / home).unlink()
    reported = _reported(check_links(html_copy))
    assert ("index.html", home) in reported
    assert ("genindex.html", home) in reported and ("search.html", home) in reported
    assert (SURVEY, os.path.relpath(home, os.path.dirname(SURVEY))) in reported
    assert all(link.split("#")[0].endswith(Path(home).name) for _, link in reported)


@pytest.mark.book
def test_a_fragment_naming_no_anchor_is_reported(html_copy):
    survey = html_copy / SURVEY
    link = _first(PAGE_LINK, survey)
    _edit(survey, f'href="{link}"', f'href="{link}#nowhere"')
    anchor = _first(r'href="(#[^"]+)"', survey)  # a fragment on the page itself
    _edit(survey, f'href="{anchor}"', 'href="#nowhere-here"')
    broken = check_links(html_copy)
    assert _reported(broken) == {(SURVEY, f"{link}#nowhere"), (SURVEY, "#nowhere-here")}
    assert any(re.search(r"no id 'nowhere-here' on " + re.escape(SURVEY), str(b)) for b in broken)


# --- license and citation -------------------------------------------------------------------------------

def test_citation_and_license_match_the_package(repo_root):
    citation = yaml.safe_load((repo_root / "CITATION.cff").read_text())
    version = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]["version"]
    assert citation["cff-version"] == "1.2.0"
    assert citation["version"] == version
    assert citation["license"] == "MIT"
    book_title = yaml.safe_load((repo_root / "_config.yml").read_text())["title"]
    assert citation["title"] == book_title
    paper = citation["references"][0]
    assert "2507.00432" in str(paper["identifiers"]) and paper["authors"][0]["family-names"] == "Huan"
    assert (repo_root / "LICENSE").read_text().splitlines()[0] == "MIT License"
    assert f"## [{version}]" in (repo_root / "CHANGELOG.md").read_text()
