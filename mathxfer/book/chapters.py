"""The chapter list and each chapter's parameters per profile: the one place the book is defined.

Each chapter is a papermill-parameterized notebook in ``notebooks/``; its ``parameters`` cell must define
exactly the names below (tests/test_chapters.py checks it). Every chapter also receives ``profile``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PROFILES: tuple[str, ...] = ("micro", "smol", "paper")
DEFAULT_PROFILE = "micro"


@dataclass(frozen=True)
class Chapter:
    name: str
    notebook: str  # relative to the book root
    title: str
    defaults: Mapping[str, Any]  # parameter defaults, shared by all profiles
    by_profile: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # per-profile overrides

    def parameters(self, profile: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The parameters papermill injects: defaults, then the profile's, then the user's."""
        check_profile(profile)
        params = {"profile": profile, **self.defaults, **self.by_profile.get(profile, {})}
        unknown = sorted(set(overrides or {}) - set(params))
        if unknown:
            raise ValueError(f"chapter {self.name!r} has no parameter {', '.join(map(repr, unknown))}; "
                             f"its parameters are: {', '.join(sorted(params))}")
        params.update(overrides or {})
        return params


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
)


def check_profile(profile: str) -> None:
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")


def chapter(name: str) -> Chapter:
    for ch in CHAPTERS:
        if ch.name == name:
            return ch
    raise ValueError(f"unknown chapter {name!r}; the chapters are: {', '.join(c.name for c in CHAPTERS)}")
