"""A study: one base, the same math prompts, several post-training arms and seeds, every model evaluated and
analysed; described by ``recipes/<profile>/study.yaml``, run by ``mathxfer study``, read from its record.

    from mathxfer.study import load_record
    record = load_record(profile="micro")     # verified; a missing or stale record names the command to run
"""

from __future__ import annotations

from mathxfer.study.record import StudyRecord, StudyRecordMissing, load_record
from mathxfer.study.spec import StudyError, StudySpec, parse_set, read_study

__all__ = ["StudyError", "StudyRecord", "StudyRecordMissing", "StudySpec", "load_record", "parse_set", "read_study"]
