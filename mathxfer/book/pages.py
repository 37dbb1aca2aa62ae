"""What a chapter page calls first: its study record (verified, never trained here) and its provenance line."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from IPython.display import Markdown

from mathxfer.groups import BENCHMARK_GROUPS, BENCHMARKS
from mathxfer.provenance import git_sha
from mathxfer.scores_file import ScoreRecord
from mathxfer.study.record import StudyRecord, StudyRecordMissing, load_record
from mathxfer.study.spec import read_study


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


@dataclass(frozen=True)
class SurveyRows:
    """The book's own models as rows of the survey table, or why there are none."""

    profile: str
    records: dict[str, list[ScoreRecord]]  # {"<profile> study <key>": its rows}; empty when there are none
    note: str  # what the rows are (budget, items per benchmark, benchmarks absent), or why there are none
    scores: pd.DataFrame | None = None  # each row's scores with their standard errors ("absent": no copy)

    @property
    def models(self) -> list[str]:
        return list(dict.fromkeys(r.model for rows in self.records.values() for r in rows))

    def markdown(self, ti: pd.DataFrame | None = None) -> Markdown:
        """The note, and with the survey's TI table, whether these rows support its RL-over-SFT finding."""
        from mathxfer.survey.report import finding_sentence

        finding = finding_sentence(ti, self.models, self.profile).data if ti is not None and self.models else ""
        return Markdown(self.note + (f"\n\n{finding}" if finding else ""))


def survey_rows(profile: str, study: str | Path | None = None) -> SurveyRows:
    """A study's base and every run as survey rows, read from its record (``study`` as ``study_record`` takes
    it; None: the profile's own study) when one exists: the survey never runs a study (its page is rebuilt
    when the profile's record changes: ``Chapter.reads_records``)."""
    own_world = SurveyRows(profile, {}, f"The {profile} profile's models are evaluated on their own generated "
                                         "world, not on the paper's twelve benchmarks, so none join this table; the "
                                         "smol and paper profiles' models do (build the book with `--profile smol`).")
    if study is None and read_study(profile=profile).evaluation.kind != "benchmarks":
        return own_world
    try:
        record = load_record(study, profile)
    except StudyRecordMissing as err:
        return SurveyRows(profile, {}, f"The {profile} profile's models join this table from its study record, "
                                       f"which is not there yet: {err}")
    rows = record.survey_scores()
    if not rows:
        return own_world
    models = list(dict.fromkeys(r.model for r in rows))
    counts = {b: sorted({r.n for r in rows if r.benchmark == b}) for b in BENCHMARKS}
    scored = [f"{b} {'-'.join(map(str, (n[0], n[-1]) if len(n) > 1 else n))}" for b, n in counts.items() if n]
    absent = [b for b, n in counts.items() if not n]
    budget = f"the **{record.spec.budget}** budget, " if record.spec.budget else ""
    seeds = f"seed{'s' if len(record.spec.seeds) > 1 else ''} {', '.join(map(str, record.spec.seeds))}"
    few = min(n[0] for n in counts.values() if n)
    error = 50 / few ** 0.5  # the largest standard error of a percentage over `few` items (at 50%)
    lines = [f"The **{profile}** study's base and its {len(models) - 1} runs join the table as the last "
             f"{len(models)} rows, named after {record.spec.base_name} and \"({profile})\" ({budget}{seeds}; "
             f"record `{record.key}`); their scores with standard errors are below.",
             f"- Items scored per benchmark: {', '.join(scored)}. With {few} items a score's standard error can "
             f"reach {error:.0f} points" + (": these rows show the pipeline running on the real benchmarks, not "
                                            "how this model transfers." if error > 5 else ".")]
    if absent:
        lines.append(f"- {', '.join(absent)} {'has' if len(absent) == 1 else 'have'} no offline copy here: shown "
                     "as '-' (below: absent), never 0, so the group averages that need them are '-' too and the "
                     "TI uses the benchmarks both models have.")
    if flat := _math_gain_sentence(rows, record):
        lines.append(f"- {flat}")
    text = "\n".join(lines[:1]) + "\n\n" + "\n".join(lines[1:])
    return SurveyRows(profile, {f"{profile} study {record.key}": rows}, text, _scores_with_errors(record))


def _scores_with_errors(record: StudyRecord) -> pd.DataFrame:
    """Model x benchmark: "accuracy ± its sampling standard error" (the controlled chapter's rule), in points."""
    from mathxfer.controlled.tables import standard_errors

    scores = record.accuracy("task").merge(standard_errors(record), on=["arm", "seed", "name"])
    scores = scores[scores["name"].isin(BENCHMARKS)]
    scores["model"] = ["base" if arm == "base" else f"{arm} seed {seed}"  # short: the note gives the full names
                       for arm, seed in zip(scores["arm"], scores["seed"])]
    scores["cell"] = [f"{a:.1f} ± {se:.1f}" for a, se in zip(scores["accuracy"], scores["se"])]
    wide = scores.pivot(index="model", columns="name", values="cell")
    order = list(dict.fromkeys(scores["model"]))
    return wide.reindex(index=order, columns=list(BENCHMARKS)).fillna("absent").rename_axis(index=None, columns=None)


def _math_gain_sentence(rows: list[ScoreRecord], record: StudyRecord) -> str:
    """How much math gain the runs show on the paper's math benchmarks: the TI's denominator."""
    math = set(BENCHMARK_GROUPS["math"])
    base = {r.benchmark: r.score for r in rows if not r.base_model and r.benchmark in math}
    gains: dict[str, list[float]] = {}
    for r in rows:
        if r.base_model and r.benchmark in base:
            gains.setdefault(r.model, []).append(r.score - base[r.benchmark])
    flat = [m for m, g in gains.items() if all(x == 0 for x in g)]
    if not flat:
        return ""
    additions = ", ".join(record.spec.evaluation.additions)
    where = (f"; the controlled chapter measures the math gain on the labelled in-distribution addition "
             f"({additions}) instead" if additions else "")
    return (f"{len(flat)} of the {len(gains)} runs score exactly as the base on every paper math benchmark "
            f"scored, so their TI, which divides by the math gain, is undefined here and they are "
            f"not points of Figure 2{where}.")
