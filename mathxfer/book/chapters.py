"""The chapter list and each chapter's parameters per profile: the one place the book is defined.

Each chapter is a papermill-parameterized notebook in ``notebooks/``; its ``parameters`` cell must define
exactly the names below (tests/test_chapters.py checks it). Every chapter also receives ``profile``. The
chapters that read a study take only ``study``: its parameters live in ``recipes/<profile>/study.yaml``, or
for the ablation and sweep chapters in ``recipes/<profile>/ablation.yaml`` and ``sweep.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

PROFILES: tuple[str, ...] = ("micro", "smol", "paper")
DEFAULT_PROFILE = "micro"


@dataclass(frozen=True)
class Chapter:
    name: str
    notebook: str  # relative to the book root
    title: str
    defaults: Mapping[str, Any]  # parameter defaults, shared by all profiles
    uses_study: bool = False  # reads a study record: `mathxfer book` runs the study stage first
    study_name: str = "study"  # which: recipes/<profile>/<study_name>.yaml (a profile without one: no page)
    # the default study records it reads beyond the study it runs: "own" (its profile's, where one exists:
    # the survey's rows), "every" (every profile's: the index's columns); its page is rebuilt when they change
    reads_records: Literal["none", "own", "every"] = "none"
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # parameters with a fixed set of values

    def parameters(self, profile: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The parameters papermill injects: the profile, the defaults, then the user's, each checked against
        its default's type before any notebook runs (see ``check_value``)."""
        check_profile(profile)
        params = {"profile": profile, **self.defaults}
        unknown = sorted(set(overrides or {}) - set(params))
        if unknown:
            raise ValueError(f"chapter {self.name!r} has no parameter {', '.join(map(repr, unknown))}; "
                             f"its parameters are: {', '.join(sorted(params))}")
        for name, value in (overrides or {}).items():
            if name == "profile" and value != profile:
                raise ValueError(f"parameter profile={value!r}: the profile is chosen with --profile (here "
                                 f"{profile!r}), not -p")
            params[name] = check_value(name, value, params[name], self.choices.get(name))
        return params


def check_value(name: str, value: Any, default: Any, choices: tuple[str, ...] | None = None) -> Any:
    """``value`` for a parameter whose default is ``default``, checked by the default's type (bool, int, float,
    str, list of strings; None: a string or None); a single string for a list is a one-element list."""
    def refuse(kind: str, example: str) -> ValueError:
        return ValueError(f"parameter {name} must be {kind}, e.g. -p {name}={example} (got {value!r})")

    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise refuse("true or false", "true")
    elif isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise refuse("an integer", str(default + 1))
    elif isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise refuse("a number", str(default))
        value = float(value)
    elif isinstance(default, list):
        if isinstance(value, str):
            if "," in value:  # `-p extra_results=a.json,b.json` reads as one string: say so, never guess
                raise refuse("a list of files", f"'[{value}]'")
            value = [value]  # one file: a one-element list
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise refuse("a list of files", "'[a.json]'")
        from mathxfer.paths import repo_path

        missing = [v for v in value if not repo_path(v).is_file()]
        if missing:
            raise ValueError(f"parameter {name}: no such file {', '.join(missing)}; pass files written by "
                             "`mathxfer eval` (paths are relative to the repository)")
    elif (isinstance(default, str) or default is None) and not isinstance(value, str) \
            and not (default is None and value is None):
        kind = "a string" + (" or null" if default is None else "")
        # quoted, YAML keeps the value a string
        raise refuse(kind, str(default) if value is None else f"'\"{value}\"'")
    if choices is not None and value not in choices:
        raise ValueError(f"parameter {name}={value!r} is not one of {', '.join(choices)}")
    return value


STUDY: Mapping[str, Any] = {
    # the study record the chapter reads: None for the profile's recipes/<profile>/study.yaml, a study file,
    # or a record (study.json); every setting of the study lives in that file, none here
    "study": None,
}

CHAPTERS: tuple[Chapter, ...] = (
    Chapter(  # the book's root page: the paper's claims, each checked against every profile's results
        name="index",
        notebook="notebooks/index.ipynb",
        title="Does math reasoning transfer? What reproduces",
        defaults=STUDY,  # the profile's own study; the other profiles' columns read their default studies
        uses_study=True,
        reads_records="every",
    ),
    Chapter(
        name="survey",
        notebook="notebooks/survey.ipynb",
        title="Survey: do reasoning models transfer their math gains?",
        defaults={
            "scores": "reported",  # the paper's Tables 9-11, or a CSV in data/paper/survey_scores.csv's layout
            "ti_reading": "pooled",  # pooled | literal | v1: the reading the figures use
            "extra_results": [],  # scores files (mathxfer eval) whose models join the table
            "data_dir": None,  # local benchmarks folder holding paper_model_outputs/ (None: $MATHXFER_DATA_DIR)
            # the study record whose base and runs join the table (None: the profile's own, where it exists;
            # the survey reads it, never runs it)
            "study": None,
        },
        choices={"ti_reading": ("pooled", "literal", "v1")},
        reads_records="own",  # the profile's base and runs join the table (smol, paper; none for micro)
    ),
    Chapter(
        name="micro",
        notebook="notebooks/micro.ipynb",
        title="The micro world: a model organism for math post-training",
        defaults={**STUDY, "n_examples": 1, "seed": 0},  # display: examples shown per family, their draw
        uses_study=True,
    ),
    Chapter(
        name="controlled",
        notebook="notebooks/controlled.ipynb",
        title="The controlled experiment: SFT forgets, RL transfers?",
        defaults=STUDY,
        uses_study=True,
    ),
    Chapter(
        name="ablation",
        notebook="notebooks/ablation.ipynb",
        title="Table 4: is it the data's source or the loss?",
        defaults=STUDY,
        uses_study=True,
        study_name="ablation",
    ),
    Chapter(
        name="latent",
        notebook="notebooks/latent.ipynb",
        title="Latent space: how far does post-training move the representations?",
        defaults=STUDY,
        uses_study=True,
    ),
    Chapter(
        name="tokens",
        notebook="notebooks/tokens.ipynb",
        title="Token space: how far does post-training move the output distribution?",
        defaults=STUDY,
        uses_study=True,
    ),
    Chapter(  # beyond the paper: each method over learning rates, and forgetting against KL
        name="sweep",
        notebook="notebooks/sweep.ipynb",
        title="Beyond the paper: the method or the step size?",
        defaults=STUDY,
        uses_study=True,
        study_name="sweep",
    ),
)


def check_profile(profile: str) -> None:
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")


def chapter(name: str) -> Chapter:
    for ch in CHAPTERS:
        if ch.name == name:
            return ch
    raise ValueError(f"unknown chapter {name!r}; the chapters are: {', '.join(c.name for c in CHAPTERS)}")
