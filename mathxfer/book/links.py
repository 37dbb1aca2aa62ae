"""Offline check of a built book's internal links: what `mathxfer check-links` (and `make publish`) runs.

Every ``href`` and ``src`` (and ``<meta http-equiv="refresh">`` target) on every page under the built folder
is resolved the way a static file host (GitHub Pages) would: relative to the page, percent-encoded names
decoded, a query string ignored, a folder (``foo/`` or ``foo``) served as its ``index.html``. A link is
broken when its target is not a file inside the built folder, when it is root-absolute (``/path`` misses
a Pages project site, which lives below its host's root), or when its ``#fragment`` names no ``id`` (or
``<a name>``) on the target HTML page. A fragment alone (``#x``) names an anchor on the page itself; a
bare ``#`` (the theme's script buttons) is no link. External links (any scheme: ``http(s):``,
``mailto:``, ``data:``, ``javascript:``, ..., or ``//host``) are not checked; nothing is fetched.

The pages are the HTML files outside ``_static/``: Sphinx copies the themes' ``_static`` files verbatim, and
the HTML among them are unrendered Jinja macros (``{{ pathto(...) }}``), never served as pages. They are
still valid link targets.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

LINK_ATTRIBUTES = frozenset({"href", "src"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
REFRESH_URL = re.compile(r"url\s*=\s*(.+)", re.IGNORECASE)
ASSETS_DIR = "_static"  # copied verbatim by Sphinx: its HTML files are templates, not pages


@dataclass(frozen=True, order=True)
class BrokenLink:
    page: str    # the page holding the link, relative to the built folder (posix)
    link: str    # the link as written on the page
    reason: str  # what is missing

    def __str__(self) -> str:
        return f"{self.page}: {self.link} ({self.reason})"


class _PageParser(HTMLParser):
    """The links (href/src values) and anchors (ids, <a name>) of one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.anchors: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta" and (dict(attrs).get("http-equiv") or "").lower() == "refresh":
            # the book's root index.html is <meta http-equiv="Refresh" content="0; url=book/intro.html">
            match = REFRESH_URL.search(dict(attrs).get("content") or "")
            if match:
                self.links.append(match.group(1).strip().strip("'\""))
        for name, value in attrs:
            if value is None:
                continue
            if name in LINK_ATTRIBUTES:
                self.links.append(value.strip())
            elif name == "id" or (name == "name" and tag == "a"):
                self.anchors.add(value)

    handle_startendtag = handle_starttag


@cache
def _parse(path: Path) -> _PageParser:
    parser = _PageParser()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    parser.close()
    return parser


def _is_external(link: str) -> bool:
    parts = urlsplit(link)
    return bool(parts.scheme or parts.netloc)


def _resolve(root: Path, page: Path, path: str) -> tuple[Path | None, str]:
    """The file a link's (decoded) path serves, or None and why not."""
    if path.startswith("/"):
        return None, "root-absolute: misses a book served below its host's root (a Pages project site)"
    target = Path(os.path.normpath(page.parent / path))
    if target != root and root not in target.parents:
        return None, "outside the built book"
    if path.endswith("/") or target.is_dir():
        target = target / "index.html"
    if not target.is_file():
        return None, "no such file"
    return target, ""


def pages(html_dir: str | Path) -> list[Path]:
    """The built book's pages: every HTML file under ``html_dir`` outside ``_static/``, sorted."""
    root = Path(html_dir)
    return sorted(p for p in root.rglob("*") if p.suffix in HTML_SUFFIXES and p.is_file()
                  and p.relative_to(root).parts[0] != ASSETS_DIR)


def check_links(html_dir: str | Path) -> list[BrokenLink]:
    """Every broken internal link and fragment on the pages under ``html_dir``, sorted by page and link."""
    root = Path(html_dir).resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"no built book at {root}: build it first (mathxfer book)")
    _parse.cache_clear()  # pages may have changed since a previous check
    broken: set[BrokenLink] = set()
    for page in pages(root):
        name = page.relative_to(root).as_posix()
        for link in _parse(page).links:
            if not link or _is_external(link):
                continue
            parts = urlsplit(link)
            if parts.path:
                target, reason = _resolve(root, page, unquote(parts.path))
                if target is None:
                    broken.add(BrokenLink(name, link, reason))
                    continue
            else:  # "#x" or "?q": this very page
                target = page
            fragment = unquote(parts.fragment)
            if fragment and target.suffix in HTML_SUFFIXES and fragment not in _parse(target).anchors:
                where = target.relative_to(root).as_posix()
                broken.add(BrokenLink(name, link, f"no id {fragment!r} on {where}"))
    _parse.cache_clear()
    return sorted(broken)
