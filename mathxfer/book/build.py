"""`mathxfer book`: execute the chapters, write the offline assets, build the HTML with Jupyter Book 1."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from mathxfer.book.assets import write_offline_assets
from mathxfer.book.chapters import CHAPTERS, DEFAULT_PROFILE, Chapter, chapter, check_profile
from mathxfer.book.execute import (
    EXECUTED_DIR,
    ChapterRun,
    execute_chapter,
    executed_path,
    write_placeholder,
)
from mathxfer.book.exports import extra_path
from mathxfer.paths import REPO_ROOT

STATIC_DIR = Path("_build") / "static"  # html_static_path in _config.yml
HTML_DIR = Path("_build") / "html"


@dataclass(frozen=True)
class BookResult:
    runs: list[ChapterRun]
    html_ok: bool
    index: Path
    seconds: float

    @property
    def ok(self) -> bool:
        return self.html_ok and all(run.ok for run in self.runs)


def _jupyter_book() -> list[str]:
    exe = Path(sys.executable).with_name("jupyter-book")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("jupyter-book")
    if not found:
        raise FileNotFoundError("jupyter-book is not installed: run `make book` (it installs requirements.txt)")
    return [found]


def select_chapters(only: Sequence[str] | None) -> list[Chapter]:
    return [chapter(name) for name in only] if only else list(CHAPTERS)


def _profile_copy(root: Path, name: str, profile: str, default_path: str, profile_path: str) -> Path | None:
    """The profile's copy of the book file ``name`` (written under _build), with the default profile's folder
    ``default_path`` replaced by the profile's; None for the default profile, which reads the file itself."""
    if profile == DEFAULT_PROFILE:
        return None
    text = (root / name).read_text()
    if default_path not in text:
        raise ValueError(f"{name} no longer names {default_path!r}: update mathxfer/book/build.py with it")
    stem, suffix = name.rsplit(".", 1)
    path = root / "_build" / f"{stem.lstrip('_')}-{profile}.{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.replace(default_path, profile_path))
    return path


def _toc(root: Path, profile: str) -> Path | None:
    """The profile's table of contents: ``_toc.yml``, pointing at the profile's executed chapters."""
    return _profile_copy(root, "_toc.yml", profile, f"{EXECUTED_DIR.as_posix()}/{DEFAULT_PROFILE}/",
                         f"{EXECUTED_DIR.as_posix()}/{profile}/")


def _config(root: Path, profile: str) -> Path | None:
    """The profile's ``_config.yml``: its own ``html_extra_path``, so each book carries only its own exports."""
    return _profile_copy(root, "_config.yml", profile, extra_path(Path("."), DEFAULT_PROFILE).as_posix(),
                         extra_path(Path("."), profile).as_posix())


def html_dir(root: Path, profile: str) -> Path:
    """Each profile is its own book: the default in _build/html, the others in _build/<profile>/_build/html."""
    return root / HTML_DIR if profile == DEFAULT_PROFILE else root / "_build" / profile / HTML_DIR


def _study_stage(spec: Any, log: TextIO) -> str:
    """Train, evaluate and analyse the study outside any kernel; returns the record the chapters read."""
    from mathxfer.study.run import run_study

    print(f"study stage: {spec.source}", file=log, flush=True)
    record = run_study(spec, out=log)
    assert record is not None  # a whole study always ends in a record
    return record.path


def build_book(profile: str = DEFAULT_PROFILE, only: Sequence[str] | None = None,
               parameters: Mapping[str, Any] | None = None, root: Path = REPO_ROOT,
               log: TextIO = sys.stderr, progress: bool = True,
               studies: Mapping[str, Any] | None = None) -> BookResult:
    """Run the study stage, execute the selected chapters (all by default) and build the profile's HTML.

    ``studies`` maps a study name (``mathxfer.train.recipes.STUDY_NAMES``) to the study (a ``StudySpec``) the
    chapters of that name read (default: the profile's study files, ``profile_studies``); ``parameters`` are
    user overrides, each a parameter of every selected chapter, so a typo is an error before anything runs.
    Chapters not selected, or whose study is not in ``studies``, keep their last executed copy (or a
    placeholder); a chapter whose study file the profile does not have gets a page saying so.
    """
    from mathxfer.study.spec import profile_studies, study_path

    start = time.perf_counter()
    check_profile(profile)
    selected = select_chapters(only)
    plans = [(ch, ch.parameters(profile, parameters)) for ch in selected]  # validates before running
    studies = profile_studies(profile) if studies is None else studies
    # each study the chapters read, run once
    names = dict.fromkeys(ch.study_name for ch, params in plans if ch.uses_study and params["study"] is None)
    records = {name: _study_stage(studies[name], log) for name in names if name in studies}
    plans = [(ch, {**params, "study": records.get(ch.study_name)}
              if ch.uses_study and params["study"] is None else params) for ch, params in plans]

    runs: list[ChapterRun] = []
    for i, (ch, params) in enumerate(plans, 1):
        if ch.uses_study and params["study"] is None:  # its study is not part of this build
            if study_path(profile, ch.study_name).is_file():
                print(f"[{i}/{len(plans)}] {ch.name}: its {ch.study_name} study is not part of this build: "
                      "its last page kept", file=log, flush=True)
                continue
            write_placeholder(root, ch, profile, f"The {profile} profile has no {ch.study_name} study "
                              f"(`recipes/{profile}/{ch.study_name}.yaml`), so its book has no such chapter; "
                              "the profiles that have one build it.")
            print(f"[{i}/{len(plans)}] {ch.name}: the {profile} profile has no {ch.study_name} study: a page "
                  "saying so", file=log, flush=True)
            continue
        print(f"[{i}/{len(plans)}] executing chapter '{ch.name}' ({ch.notebook}, profile {profile})",
              file=log, flush=True)
        run = execute_chapter(root, ch, params, progress=progress)
        status = ("ok, unchanged inputs: kept" if run.cached else "ok") if run.ok else f"FAILED at {run.error}"
        print(f"[{i}/{len(plans)}] {ch.name}: {status} ({run.seconds:.1f}s)", file=log, flush=True)
        runs.append(run)
    for ch in CHAPTERS:
        if not executed_path(root, ch, profile).exists():
            write_placeholder(root, ch, profile)

    print("writing offline JavaScript (vega, MathJax) and building HTML with Jupyter Book", file=log, flush=True)
    write_offline_assets(root / STATIC_DIR)
    extra_path(root, profile).mkdir(parents=True, exist_ok=True)  # html_extra_path: exists even with no table yet
    toc, config = _toc(root, profile), _config(root, profile)
    extra = [] if toc is None else ["--toc", str(toc), "--config", str(config),
                                    "--path-output", str(root / "_build" / profile)]
    html = subprocess.run([*_jupyter_book(), "build", str(root), "--warningiserror", "--keep-going", *extra],
                          cwd=root, capture_output=True, text=True)
    if html.returncode != 0:
        print(html.stdout[-6000:], html.stderr[-6000:], sep="\n", file=log)
    result = BookResult(runs, html.returncode == 0, html_dir(root, profile) / "index.html",
                        time.perf_counter() - start)
    for run in runs:
        if not run.ok:
            print(f"chapter '{run.chapter}' failed: {run.error}\n  the executed copy with the traceback: "
                  f"{run.output}", file=log)
    print(f"book {'built' if result.ok else 'built with errors' if result.html_ok else 'FAILED'}: "
          f"{result.index} ({result.seconds:.1f}s)", file=log, flush=True)
    return result
