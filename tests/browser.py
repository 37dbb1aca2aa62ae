"""Headless Chromium (Debian's `chromium`) with the network cut off, for checks of the built book."""

from __future__ import annotations

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
