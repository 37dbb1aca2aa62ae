"""Notebook display set-up: deterministic threads, altair charts that render with no network, and tables
that carry their data.

altair's default HTML output loads vega/vega-lite/vega-embed from a CDN when the page is viewed. The book
instead ships one bundle of those libraries in its `_static` folder (``mathxfer.book.assets``), and
charts are emitted as a `<div>` plus a call to the page's global ``vegaEmbed``. The vega-lite JSON stays in
the output too, so JupyterLab users still get its native chart renderer (``mathxfer.book.exports`` writes it
beside the book, with a link under the chart). Every table (a DataFrame or a Styler) also carries its data as
``text/csv``, which the book writes to a CSV file linked under the table.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from typing import Any

import altair as alt
import pandas as pd
from pandas.io.formats.style import Styler

RENDERER = "mathxfer-offline"
VEGALITE_MIMETYPE = f"application/vnd.vegalite.v{alt.SCHEMA_VERSION.split('.')[0].lstrip('v')}+json"

_HTML = """<div id="{div_id}" class="mathxfer-chart"></div>
<script type="text/javascript">
(function () {{
  var spec = {spec};
  var el = document.getElementById("{div_id}");
  function draw() {{
    vegaEmbed(el, spec, {{renderer: "svg", actions: {{export: true, source: false, compiled: false, editor: false}}}}).catch(function (err) {{
      el.innerHTML = '<pre class="mathxfer-chart-error">' + err + '</pre>';
    }});
  }}
  if (window.vegaEmbed) {{ draw(); }} else {{
    window.addEventListener("load", function () {{
      if (window.vegaEmbed) {{ draw(); }} else {{
        el.innerHTML = '<p class="mathxfer-chart-error">This chart needs the book\\'s vega bundle '
          + '(_static/offline/vega-bundle.js); open it from the built book.</p>';
      }}
    }});
  }}
}})();
</script>"""


def offline_html(spec: dict[str, Any]) -> str:
    """HTML that draws ``spec`` with the page's global vegaEmbed; the id is derived from the spec so
    rebuilding an unchanged chapter gives byte-identical pages."""
    text = json.dumps(spec, sort_keys=True)
    div_id = "mathxfer-chart-" + hashlib.sha1(text.encode()).hexdigest()[:12]
    return _HTML.format(div_id=div_id, spec=text.replace("</", "<\\/"))


def _render(spec: dict[str, Any], **_metadata: Any) -> dict[str, Any]:
    return {"text/html": offline_html(spec), VEGALITE_MIMETYPE: spec}


CSV_MIMETYPE = "text/csv"


def _table_bundle(table: Any, include: Any = None, exclude: Any = None) -> dict[str, str]:
    """A table's data as CSV, beside the HTML IPython renders anyway (a Styler's data without its formatting)."""
    frame = table.data if isinstance(table, Styler) else table
    return {CSV_MIMETYPE: frame.to_csv()}


def _register_table_data() -> None:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with every notebook kernel
        return
    shell = get_ipython()
    if shell is None:  # a plain script: nothing is displayed
        return
    bundles = shell.display_formatter.mimebundle_formatter
    for kind in (pd.DataFrame, Styler):
        bundles.for_type(kind, _table_bundle)


def setup(threads: int = 1) -> None:
    """Call once at the top of a chapter: pins torch/BLAS threads (busy 2-core machines slow down 30-50x
    with the defaults) and enables the offline chart renderer."""
    os.environ["OMP_NUM_THREADS"] = str(threads)  # read by torch when it is first imported
    # per-step bars of model loading and dataset maps would land on the page as stderr
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    if "transformers" in sys.modules:  # imported before setup(): the variables above came too late
        sys.modules["transformers"].utils.logging.disable_progress_bar()
        sys.modules["transformers"].utils.logging.set_verbosity_error()
    if "datasets" in sys.modules:
        sys.modules["datasets"].disable_progress_bars()
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    alt.data_transformers.disable_max_rows()  # UMAP views inline ~10k points; the page can take them
    alt.renderers.register(RENDERER, _render)
    alt.renderers.enable(RENDERER)
    _register_table_data()
    pd.set_option("display.precision", 1)
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.width", 200)
