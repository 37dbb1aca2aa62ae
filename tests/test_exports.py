"""Tables carry their data and charts their spec out of the kernel; the book writes them beside the page and
links them under the table or chart."""

from __future__ import annotations

import csv
import json

import nbformat
import papermill

from mathxfer.book.exports import export_outputs, exports_dir
from mathxfer.display import CSV_MIMETYPE

CELLS = [
    "from mathxfer import display\ndisplay.setup()\nimport altair as alt\nimport pandas as pd",
    "pd.DataFrame({'arm': ['grpo', 'sft'], 'gain': [7.7, 8.3]}).set_index('arm')",
    "pd.DataFrame({'x': [1.25]}).style.format('{:.1f}')",
    "alt.Chart(pd.DataFrame({'a': [1, 2]})).mark_point().encode(x='a')",
    "print('no table here')",
]


def test_tables_and_charts_are_exported_and_linked(tmp_path, repo_root):
    source, page = tmp_path / "chapter.ipynb", tmp_path / "_build" / "executed" / "micro" / "chapter.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, source)
    page.parent.mkdir(parents=True)
    papermill.execute_notebook(str(source), str(page), cwd=str(repo_root), progress_bar=False, kernel_name="python3")
    executed = nbformat.read(page, as_version=4)
    assert CSV_MIMETYPE in executed.cells[1].outputs[0]["data"]  # the kernel attached the table's data

    written = export_outputs(tmp_path, page, "chapter", "micro")
    assert [p.name for p in written] == ["chapter-table-1.csv", "chapter-table-2.csv", "chapter-figure-1.vl.json"]
    assert list(csv.reader((exports_dir(tmp_path, "micro") / "chapter-table-1.csv").open())) == [
        ["arm", "gain"], ["grpo", "7.7"], ["sft", "8.3"]]
    assert json.loads(written[2].read_text())["mark"]["type"] == "point"
    outputs = [o for cell in nbformat.read(page, as_version=4).cells for o in cell.get("outputs", [])]
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    # the page sits at _build/executed/micro/ below the HTML root, where data/ is
    assert 'href="../../../data/micro/chapter-table-1.csv" download' in html[0]
    assert 'href="../../../data/micro/chapter-figure-1.vl.json"' in html[2]

    again = export_outputs(tmp_path, page, "chapter", "micro")  # again: the same files, no second link
    assert again == written and all(p.is_file() for p in again)
    html_again = [o["data"]["text/html"] for cell in nbformat.read(page, as_version=4).cells
                  for o in cell.get("outputs", []) if "text/html" in o.get("data", {})]
    assert html_again == html
