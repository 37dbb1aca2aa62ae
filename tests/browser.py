"""Headless Chromium (Debian's `chromium`) with the network cut off, for checks of the built book."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    # no network: every host resolves to nothing and any proxy-able request goes to a dead port
    "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
    "--enable-logging=stderr", "--v=0", "--virtual-time-budget=15000",
]


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        raise RuntimeError("chromium is not installed: `make test` installs it (.ci/ensure-chromium)")
    return exe


def load(page: Path, screenshot: Path | None = None) -> tuple[str, list[str]]:
    """Open ``page`` offline; return its DOM after scripts ran and the console messages."""
    with tempfile.TemporaryDirectory() as profile:
        args = [chromium(), *FLAGS, f"--user-data-dir={profile}"]
        if screenshot:
            subprocess.run([*args, "--window-size=1280,5200", f"--screenshot={screenshot}", page.as_uri()],
                           capture_output=True, timeout=120)
        out = subprocess.run([*args, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    console = [line for line in out.stderr.splitlines() if ":CONSOLE" in line]
    return out.stdout, console


# Appended to a copy of a page: once the page has loaded and drawn (vega and MathJax are asynchronous), it
# measures what a reader at this width sees and writes it into the DOM as JSON, which --dump-dom returns.
_PROBE = r"""
<script>
window.addEventListener("load", function () { setTimeout(function () {
  var main = document.querySelector("main") || document.querySelector("article") || document.body;
  var right = main.getBoundingClientRect().right;
  function scrolls(el) {  // inside a box that scrolls sideways: it may be wide
    for (var e = el.parentElement; e && e !== main; e = e.parentElement) {
      var o = getComputedStyle(e).overflowX; if (o === "auto" || o === "scroll") return true;
    }
    return false;
  }
  var wide = [];
  main.querySelectorAll("*").forEach(function (el) {
    var r = el.getBoundingClientRect();
    if (r.width && r.right > right + 1 && !scrolls(el) && getComputedStyle(el).position !== "fixed")
      wide.push(el.tagName.toLowerCase() + (el.className && el.className.baseVal === undefined ? "." + el.className : ""));
  });
  var maths = document.querySelectorAll("span.math, div.math");
  var result = {
    page_scroll: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    wide: wide.slice(0, 10), n_wide: wide.length,
    charts: document.querySelectorAll(".mathxfer-chart").length,
    charts_drawn: document.querySelectorAll(".mathxfer-chart svg.marks").length,
    chart_errors: document.querySelectorAll(".mathxfer-chart-error").length,
    math: maths.length,
    math_rendered: Array.prototype.filter.call(maths, function (m) { return m.querySelector("mjx-container"); }).length,
    text: main.innerText
  };
  var pre = document.createElement("pre"); pre.id = "mathxfer-probe";
  pre.textContent = JSON.stringify(result); document.body.appendChild(pre);
}, 4000); });
</script>
"""


def probe(page: Path, width: int, screenshot: Path | None = None) -> dict:
    """What a reader of ``page`` sees at ``width`` px, offline: sideways overflow of the main column (elements
    wider than it outside a scrolling box), charts drawn, math rendered, the main column's text."""
    copy = page.with_name(f".probe-{page.name}")  # beside the page, so its relative assets resolve
    copy.write_text(page.read_text(encoding="utf-8").replace("</body>", _PROBE + "</body>"), encoding="utf-8")
    try:
        with tempfile.TemporaryDirectory() as profile:
            args = [chromium(), *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},2400"]
            if screenshot:
                subprocess.run([*args, f"--screenshot={screenshot}", page.as_uri()], capture_output=True, timeout=120)
            out = subprocess.run([*args, "--dump-dom", copy.as_uri()], capture_output=True, text=True, timeout=120)
    finally:
        copy.unlink(missing_ok=True)
    found = re.search(r'<pre id="mathxfer-probe">(.*?)</pre>', out.stdout, re.S)
    if not found:
        raise AssertionError(f"{page}: the probe did not run (console: {out.stderr[-2000:]})")
    return json.loads(html.unescape(found.group(1)))
