"""The chapter list and each chapter's parameters per profile: the one place the book is defined.

Each chapter is a papermill-parameterized notebook in ``notebooks/``; its ``parameters`` cell must define
exactly the names below (tests/test_chapters.py checks it). Every chapter also receives ``profile``. The
chapters that read a study take only ``study``: its parameters live in ``recipes/<profile>/study.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PROFILES: tuple[str, ...] = ("micro", "smol", "paper")
DEFAULT_PROFILE = "micro"


@dataclass(frozen=True)
class Chapter:
    name: str
    notebook: str  # relative to the book root
    title: str
    defaults: Mapping[str, Any]  # parameter defaults, shared by all profiles
    uses_study: bool = False  # reads a study record: `mathxfer book` runs the study stage first

    def parameters(self, profile: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The parameters papermill injects: the profile, the defaults, then the user's."""
        check_profile(profile)
        params = {"profile": profile, **self.defaults}
        unknown = sorted(set(overrides or {}) - set(params))
        if unknown:
            raise ValueError(f"chapter {self.name!r} has no parameter {', '.join(map(repr, unknown))}; "
                             f"its parameters are: {', '.join(sorted(params))}")
        params.update(overrides or {})
        return params


STUDY: Mapping[str, Any] = {
    # the study record the chapter reads: None for the profile's recipes/<profile>/study.yaml, a study file,
    # or a record (study.json); every setting of the study lives in that file, none here
    "study": None,
}

CHAPTERS: tuple[Chapter, ...] = (
    Chapter(
        name="survey",
        notebook="notebooks/survey.ipynb",
        title="Survey: do reasoning models transfer their math gains?",
        defaults={
            "scores": "reported",  # the paper's Tables 9-11, or a CSV in data/paper/survey_scores.csv's layout
            "ti_reading": "pooled",  # pooled | literal | v1: the reading the figures use
            "extra_results": [],  # scores files (mathxfer eval) whose models join the table
            "data_dir": None,  # local benchmarks folder holding paper_model_outputs/ (None: $MATHXFER_DATA_DIR)
        },
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
)


def check_profile(profile: str) -> None:
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")


def chapter(name: str) -> Chapter:
    for ch in CHAPTERS:
        if ch.name == name:
            return ch
    raise ValueError(f"unknown chapter {name!r}; the chapters are: {', '.join(c.name for c in CHAPTERS)}")
