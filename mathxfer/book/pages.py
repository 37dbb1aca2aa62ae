"""What a chapter page calls first: its study record (verified, never trained here) and its provenance line."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

from IPython.display import Markdown

from mathxfer.provenance import git_sha
from mathxfer.study.record import StudyRecord, load_record


def study_record(study: str | Path | None, profile: str, name: str = "study") -> StudyRecord:
    """The record a chapter reads: a record path, a study file, or None for the profile's own study
    (``recipes/<profile>/<name>.yaml``). A missing or stale record raises an error naming the command
    (`mathxfer study ...`) that writes it."""
    return load_record(study, profile, name)


def _today() -> str:
    return _dt.date.today().isoformat()


def provenance(record: StudyRecord | None = None, profile: str | None = None) -> Markdown:
    """The line every page opens with: profile, study key, seeds, git sha and build date."""
    if record is None:
        sha = git_sha()
        return Markdown(f"*Profile **{profile}** · git `{sha[:12]}{'+dirty' if sha.endswith('+dirty') else ''}` "
                        f"· built {_today()}*")
    return Markdown(f"*{record.provenance_line()} · built {_today()}*")


def micro_base(study: str | Path | None, profile: str) -> dict[str, Any] | None:
    """The micro study's base entry (its held-out accuracy), or None when the book is another profile's."""
    return study_record(study, profile).base if profile == "micro" else None
