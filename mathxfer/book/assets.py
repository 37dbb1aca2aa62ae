"""Third-party JavaScript the offline book needs, generated at build time from installed packages
(never committed): vega + vega-lite + vega-embed from vl-convert, MathJax 3 from django-static-mathjax."""

from __future__ import annotations

import shutil
from pathlib import Path

import altair as alt

VEGA_BUNDLE = "offline/vega-bundle.js"
MATHJAX = "offline/mathjax/tex-svg.js"


def _mathjax_source() -> Path:
    import mathjax  # the django-static-mathjax distribution; it ships MathJax 3's combined components

    path = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5" / "tex-svg.js"
    if not path.is_file():
        raise FileNotFoundError(f"{path} missing: reinstall with `pip install django-static-mathjax==3.2.2.1`")
    return path


def write_offline_assets(static_dir: Path) -> list[Path]:
    """Write the bundles into ``static_dir`` (Sphinx's html_static_path); skip what is already current."""
    import vl_convert

    written = []
    vega = static_dir / VEGA_BUNDLE
    stamp = vega.with_suffix(".version")
    version = f"iife vl-convert {vl_convert.__version__} vega-lite {alt.VEGALITE_VERSION}"
    if not vega.is_file() or not stamp.is_file() or stamp.read_text() != version:
        vega.parent.mkdir(parents=True, exist_ok=True)
        # the default snippet puts vegaEmbed, vegaLite and vega on window; pin altair's vega-lite version
        major_minor = "v" + "_".join(alt.VEGALITE_VERSION.split(".")[:2])
        bundle = vl_convert.javascript_bundle(vl_version=major_minor)
        # a classic script's top-level consts share one global scope with the theme's scripts (and clash,
        # e.g. on `_`): wrap the bundle so only the window.* assignments escape
        vega.write_text("(function () {\n" + bundle + "\n})();\n", encoding="utf-8")
        stamp.write_text(version)
        written.append(vega)
    mathjax = static_dir / MATHJAX
    source = _mathjax_source()
    if not mathjax.is_file() or mathjax.stat().st_size != source.stat().st_size:
        mathjax.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, mathjax)
        written.append(mathjax)
    return written
