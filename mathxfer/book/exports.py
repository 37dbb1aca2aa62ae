"""The data behind a page: each table of an executed chapter as a CSV file and each chart as its Vega-Lite spec,
written beside the book and linked under the table or chart.

Tables carry their data as ``text/csv`` and charts their spec as Vega-Lite JSON (``mathxfer.display``). After a
chapter has run, ``export_outputs`` writes them to ``_build/exports/<profile>/data/<profile>/`` (the profile's
``html_extra_path``, ``_build/exports/micro`` in _config.yml, copies its folder to the HTML root, so they are at
``data/<profile>/`` of that profile's book and no other's) and adds
the links to the page's HTML (the CSV stays in the notebook for JupyterLab; the book renders only the HTML).
Exporting a page again gives the same files and links. The charts' own menu exports PNG and SVG in the browser.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat

from mathxfer.display import CSV_MIMETYPE, VEGALITE_MIMETYPE

EXPORTS_DIR = Path("_build") / "exports"  # relative to the book root: one folder per profile
DATA = "data"

LINK_CLASS = "mathxfer-export"
_LINK = f'<p class="{LINK_CLASS}"><a href="{{href}}" download>{{label}}</a></p>'


def extra_path(root: Path, profile: str) -> Path:
    """The profile's ``html_extra_path``: its contents land at the root of that profile's HTML."""
    return root / EXPORTS_DIR / profile


def exports_dir(root: Path, profile: str) -> Path:
    return extra_path(root, profile) / DATA / profile


def export_outputs(root: Path, notebook: Path, chapter: str, profile: str) -> list[Path]:
    """Write the executed ``notebook``'s tables and charts beside the book and link them; returns the files."""
    folder = exports_dir(root, profile)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f"{chapter}-*"):  # a table that is gone from the page must not stay downloadable
        old.unlink()
    # the page's folder below the HTML root, as deep as the executed notebook below the book root
    up = "../" * (len(notebook.relative_to(root).parts) - 1)
    nb = nbformat.read(notebook, as_version=4)
    written: list[Path] = []
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = output.get("data")
            if not data:
                continue
            links = []
            if CSV_MIMETYPE in data:
                name = f"{chapter}-table-{sum(p.suffix == '.csv' for p in written) + 1}.csv"
                written.append(_write(folder / name, data[CSV_MIMETYPE]))
                links.append(_LINK.format(href=f"{up}{DATA}/{profile}/{name}", label=f"Data: {name}"))
            if VEGALITE_MIMETYPE in data:
                name = f"{chapter}-figure-{sum(p.name.endswith('.vl.json') for p in written) + 1}.vl.json"
                written.append(_write(folder / name, json.dumps(data[VEGALITE_MIMETYPE], indent=1)))
                links.append(_LINK.format(href=f"{up}{DATA}/{profile}/{name}",
                                          label=f"Vega-Lite spec: {name} (PNG and SVG: the chart's menu)"))
            if links and "text/html" in data and LINK_CLASS not in _text(data["text/html"]):
                data["text/html"] = _text(data["text/html"]) + "\n" + "\n".join(links)
    nbformat.write(nb, notebook)
    return written


def _text(value: str | list[str]) -> str:
    return "".join(value) if isinstance(value, list) else value


def _write(path: Path, text: str | list[str]) -> Path:
    path.write_text(_text(text), encoding="utf-8")
    return path
