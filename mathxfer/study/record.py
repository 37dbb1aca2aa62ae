"""The study record: ``results/study/<key>/study.json``, written atomically by ``mathxfer study`` when every
run is trained and evaluated; the chapters read it and nothing else.

It holds the resolved study, the tasks with their groups, the base and, for each run, its arm, seed, variant,
method kind, model path, metrics path and evaluation path with the scores, plus provenance. ``load_record``
finds the record of a study file by its key and verifies what it points at before anything is shown.

Every file the record names inside the results store is stored relative to it and read back under the store
the record lies in (a copy elsewhere: the current store, ``mathxfer.paths.in_results``): runs are found by
their folder names (their keys), so a store trained on a cluster and copied here, or moved, still verifies.
The study file is stored relative to the repository when it is one of its files.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from mathxfer.errors import DamagedFile, damaged, read_json, read_json_lines
from mathxfer.groups import BENCHMARKS, Group
from mathxfer.paths import REPO_ROOT, in_results, results_relative, study_dir
from mathxfer.scores_file import ScoreRecord, read_scores
from mathxfer.study.spec import (Analysis, Controls, Evaluation, Launcher, StudyError, StudySpec, Sweep, read_study,
                                 study_path)
from mathxfer.train.recipes import STUDY_NAMES

SCHEMA = "mathxfer/study@1"
RECORD_FILE = "study.json"


class StudyRecordMissing(StudyError):
    """No (or no valid) record for a study: the message names the command that writes it."""


@dataclass(frozen=True)
class RunEntry:
    arm: str
    seed: int
    variant: str
    kind: str  # RL or SFT
    method: str
    recipe: dict[str, Any]
    output_dir: str
    model_path: str
    model_identity: str
    metrics_path: str
    eval_path: str
    scores: dict[str, float]  # accuracy (%) per task
    group_scores: dict[str, float]  # accuracy (%) per group
    train_seconds: float
    reused: bool

    @property
    def label(self) -> str:
        return f"{self.arm} seed {self.seed}" + ("" if self.variant == "main" else f" ({self.variant})")


@dataclass(frozen=True)
class StudyRecord:
    key: str
    spec: StudySpec
    groups: dict[str, Group]  # task -> group, in display order
    base: dict[str, Any]  # model_path, model_identity, eval_path, scores, group_scores, missing
    runs: list[RunEntry]
    provenance: dict[str, Any] = field(default_factory=dict)
    path: str = ""

    # ---- what the chapters read -------------------------------------------------------------
    @property
    def profile(self) -> str:
        return self.spec.profile

    @property
    def arms(self) -> list[str]:
        return list(self.spec.arms)

    def variants(self) -> list[str]:
        return list(dict.fromkeys(r.variant for r in self.runs))

    def select(self, variant: str = "main") -> list[RunEntry]:
        return [r for r in self.runs if r.variant == variant]

    def tasks(self, group: str | None = None) -> list[str]:
        return [t for t, g in self.groups.items() if group is None or g == group]

    def accuracy(self, by: str = "task", variant: str = "main") -> pd.DataFrame:
        """Long table: arm, seed, name (task or group), accuracy in percent; the base has seed -1."""
        key = "scores" if by == "task" else "group_scores"
        if by not in ("task", "group"):
            raise ValueError(f"accuracy by 'task' or 'group', not {by!r}")
        rows = [{"arm": "base", "seed": -1, "name": k, "accuracy": v} for k, v in self.base[key].items()]
        for run in self.select(variant):
            rows += [{"arm": run.arm, "seed": run.seed, "name": k, "accuracy": v}
                     for k, v in getattr(run, key).items()]
        return pd.DataFrame(rows, columns=["arm", "seed", "name", "accuracy"])

    def _evaluations(self, variant: str = "main") -> list[tuple[str, int, str, Path]]:
        """(arm, seed, method kind, evaluation path) of the base (arm "base", seed -1) and every run."""
        return [("base", -1, "base", Path(self.base["eval_path"])),
                *((r.arm, r.seed, r.kind, Path(r.eval_path)) for r in self.select(variant))]

    def item_counts(self, variant: str = "main") -> pd.DataFrame:
        """Long table: arm, seed, name (benchmark), n (items scored), read from each model's scores file;
        empty for the micro world (its held-out sets are ``evaluation.eval_n`` items per group)."""
        if self.spec.evaluation.kind != "benchmarks":
            return pd.DataFrame(columns=["arm", "seed", "name", "n"])
        rows = [{"arm": arm, "seed": seed, "name": rec.benchmark, "n": rec.n}
                for arm, seed, _kind, path in self._evaluations(variant) for rec in read_scores(path)[0]]
        return pd.DataFrame(rows, columns=["arm", "seed", "name", "n"])

    def survey_scores(self, variant: str = "main") -> list[ScoreRecord]:
        """The base and every run as the survey's rows: their scores on the paper's 12 benchmarks, read from
        each model's scores file and named by the profile ("SmolLM2-135M-Instruct (smol)", "SmolLM2-135M-Instruct
        grpo seed 0 (smol)") so that they never clash with the paper's models; each run's base is the study's
        base row. Empty for a study not evaluated on the paper's benchmarks (the micro world's)."""
        if self.spec.evaluation.kind != "benchmarks":
            return []
        base = self.survey_name("base")
        rows = []
        for arm, seed, kind, path in self._evaluations(variant):
            rows += [ScoreRecord(model=self.survey_name(arm, seed), base_model="" if arm == "base" else base,
                                 benchmark=rec.benchmark, score=rec.score, n=rec.n, method=kind,
                                 family=self.spec.base_name)
                     for rec in read_scores(path)[0] if rec.benchmark in BENCHMARKS]
        return rows

    def survey_name(self, arm: str, seed: int = -1) -> str:
        """A model's row name in the survey: the base, or one (arm, seed) run, named after the base and profile."""
        family = self.spec.base_name
        return f"{family} ({self.profile})" if arm == "base" else f"{family} {arm} seed {seed} ({self.profile})"

    def metrics(self, variant: str = "main") -> pd.DataFrame:
        """Every logged training step of every run: arm, seed, step and TRL's logged values."""
        frames = []
        for run in self.select(variant):
            rows = read_json_lines(Path(run.metrics_path), f"rerun `{_command(self.spec)}` after deleting the "
                                   f"run's folder {run.output_dir} (this retrains {run.label})")
            frame = pd.DataFrame([r for r in rows if "step" in r or "loss" in r])
            frames.append(frame.assign(arm=run.arm, seed=run.seed))
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def response_lengths(self, variant: str = "main") -> pd.DataFrame:
        """Long table of every evaluated response: arm, seed (-1: the base), name (task), words (its length in
        whitespace-separated words, a measure every tokenizer shares), read from each model's per-sample
        evaluation log: the micro evaluation's records, or a benchmark run's ``records/<BENCH>-v<n>.jsonl``."""
        rows = []
        for arm, seed, _kind, path in self._evaluations(variant):
            rows += [{"arm": arm, "seed": seed, "name": name, "words": len(str(response).split())}
                     for name, response in _responses(self.spec.evaluation.kind, path)]
        return pd.DataFrame(rows, columns=["arm", "seed", "name", "words"])

    def kind_of(self, arm: str) -> str:
        return next(r.kind for r in self.runs if r.arm == arm)

    def learning_rate(self, arm: str, variant: str = "main") -> float:
        return float(next(r.recipe["learning_rate"] for r in self.runs if r.arm == arm and r.variant == variant))

    def provenance_line(self) -> str:
        sha = self.provenance.get("git_sha", "unknown")
        return (f"Profile **{self.profile}** · study `{self.key}` · seeds {', '.join(map(str, self.spec.seeds))} · "
                f"git `{sha[:12]}{'+dirty' if sha.endswith('+dirty') else ''}` · "
                f"results of {self.provenance.get('created', 'unknown')[:10]}")

    # ---- storage -----------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        runs = [_relocated(dataclasses.asdict(r), RUN_FILES, results_relative) for r in self.runs]
        base = _relocated(self.base, BASE_FILES, results_relative)
        return {"schema": SCHEMA, "key": self.key, "study": self.spec.as_dict(), "source": _stored_source(self.spec),
                "groups": self.groups, "base": base, "runs": runs, "provenance": self.provenance}

    @classmethod
    def from_json(cls, payload: dict[str, Any], path: str = "") -> StudyRecord:
        if payload.get("schema") != SCHEMA:
            raise StudyRecordMissing(f"{path}: not a {SCHEMA} study record (schema {payload.get('schema')!r}); "
                                     "rerun `mathxfer study` for its study")
        study = dict(payload["study"])
        nested = {"evaluation": Evaluation, "analysis": Analysis, "controls": Controls, "sweep": Sweep,
                  "launcher": Launcher}
        for name, cls_ in nested.items():
            if study.get(name) is not None:
                study[name] = cls_(**study[name])
        source = payload.get("source", "")
        spec = StudySpec(**study, source=str(REPO_ROOT / source) if source and not Path(source).is_absolute()
                         else source)
        store = _store_of(path)
        base = _relocated(payload["base"], BASE_FILES, lambda stored: in_results(stored, store))
        runs = [RunEntry(**_relocated(r, RUN_FILES, lambda stored: in_results(stored, store))) for r in payload["runs"]]
        return cls(payload["key"], spec, dict(payload["groups"]), base, runs, payload.get("provenance", {}), path)


def _responses(kind: str, eval_path: Path) -> list[tuple[str, str]]:
    """(task, response) for every sample one model's evaluation logged."""
    if kind != "benchmarks":
        from mathxfer.micro.evaluate import read_evaluation

        return [(r["family"], r["response"]) for r in read_evaluation(eval_path)["records"]]
    from mathxfer.eval.records import read_records

    out = []
    for log in sorted((eval_path.parent / "records").glob("*-v*.jsonl")):
        benchmark = log.name.rsplit("-v", 1)[0]
        out += [(benchmark, r.get("response", "")) for r in read_records(log)]
    return out


RUN_FILES = ("output_dir", "model_path", "metrics_path", "eval_path")  # a run's files, all in the results store
BASE_FILES = ("eval_path",)  # the base's evaluation; its model is the study's base_model, stored as given


def _store_of(path: str) -> Path | None:
    """The results store a record lies in (``<store>/study/<key>/study.json``: its runs are beside it); None
    for a record elsewhere (a copy), whose files are read from the current store."""
    where = Path(path).absolute()
    return where.parents[2] if path and where.name == RECORD_FILE and where.parent.parent.name == "study" else None


def _relocated(entry: dict[str, Any], files: tuple[str, ...], move: Callable[[str], str]) -> dict[str, Any]:
    return {**entry, **{k: move(entry[k]) for k in files if k in entry}}


def _stored_source(spec: StudySpec) -> str:
    """The study file as the record names it: repository-relative when it is the repository's own."""
    if not spec.source:
        return ""
    try:
        return str(Path(spec.source).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return spec.source


def record_path(key: str) -> Path:
    return study_dir() / key / RECORD_FILE


def spec_record_path(spec: StudySpec) -> Path:
    """Where the study's record is (or will be): its key holds every input of the study."""
    from mathxfer.study.plan import plan_study, study_key

    return record_path(study_key(spec, plan_study(spec)))


def file_digest(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()[:16]


def _command(spec: StudySpec) -> str:
    source = Path(spec.source).resolve() if spec.source else None
    if source == study_path(spec.profile).resolve():
        return f"mathxfer study --profile {spec.profile}"
    for name in STUDY_NAMES:  # the profile's other study files, named as a newcomer would type them
        if source == study_path(spec.profile, name).resolve():
            return f"mathxfer study --study recipes/{spec.profile}/{name}.yaml"
    return f"mathxfer study --study {spec.source}"


def verify(record: StudyRecord) -> StudyRecord:
    """Every model and evaluation the record names is still what was recorded; else a clear error."""
    from mathxfer.models import identity
    from mathxfer.study.evaluation import changed_data

    command = _command(record.spec)
    data: dict[str, str | None] = {}  # the benchmarks' current fingerprints, computed once for every model
    for what, model, want, evaluation in [("the base", record.base["model_path"], record.base["model_identity"],
                                           record.base["eval_path"]),
                                          *[(r.label, r.model_path, r.model_identity, r.eval_path)
                                            for r in record.runs]]:
        if not Path(evaluation).is_file():
            raise StudyRecordMissing(f"study record {record.path}: the evaluation of {what} ({evaluation}) is gone; "
                                     f"run `{command}` to redo it")
        try:
            now = identity(model, gguf_file=record.spec.gguf_file if what == "the base" else None)
        except (OSError, ValueError) as err:
            raise StudyRecordMissing(f"study record {record.path}: {what} cannot be read ({err}); "
                                     f"run `{command}`") from err
        if now != want:
            raise StudyRecordMissing(f"study record {record.path} is stale: {what} at {model} changed since it "
                                     f"was recorded; run `{command}` to retrain and re-evaluate")
        changed = changed_data(record.spec, evaluation, data)
        if changed is not None:
            raise StudyRecordMissing(f"study record {record.path} is stale: the {changed} data in "
                                     f"{record.spec.evaluation.data_dir or 'the hub'} changed since {what} was "
                                     f"evaluated; run `{command}` to re-evaluate (only the changed items are redone)")
    return record


RERUN = "rerun `mathxfer study --profile P` (or `mathxfer study --study FILE`) for the study that wrote it"


def read_record(path: str | Path, command: str | None = None) -> StudyRecord:
    """The record at ``path``, or ``StudyRecordMissing`` naming it and the fix: ``command`` is the study's own
    command when the caller knows it (so a damaged record is redone, never shown)."""
    path = Path(path)
    fix = f"rerun `{command}` (it rewrites the record; finished runs are reused)" if command else RERUN
    try:
        payload = read_json(path, fix)
    except DamagedFile as err:
        raise StudyRecordMissing(f"study record {err}") from err
    except OSError as err:
        raise StudyRecordMissing(f"study record {path} cannot be read ({err}); {fix}") from err
    if not isinstance(payload, dict):
        raise StudyRecordMissing(f"study record {damaged(path, f'a JSON {type(payload).__name__}, not an object', fix)}")
    try:
        return StudyRecord.from_json(payload, str(path))
    except StudyRecordMissing:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        problem = f"no {err}" if isinstance(err, KeyError) else f"{type(err).__name__}: {err}"
        raise StudyRecordMissing(f"study record {damaged(path, problem, fix)}") from err


def load_record(study: str | Path | None = None, profile: str = "micro", name: str = "study") -> StudyRecord:
    """The verified record of a study: ``study`` is a record (``study.json``), a study file, or None for the
    profile's own ``recipes/<profile>/<name>.yaml``. A missing or stale record names the command to run."""
    if study is not None and str(study).endswith(".json"):
        return verify(read_record(study))
    spec = read_study(study, None if study is not None else profile, name=name)
    path = spec_record_path(spec)
    if not path.is_file():
        raise StudyRecordMissing(f"no study record for {spec.source} (key {path.parent.name}) in {study_dir()}: "
                                 f"run `{_command(spec)}` first (the book's `mathxfer book` runs it too)")
    return verify(read_record(path, _command(spec)))
