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


# The controlled study's parameters: the latent and token chapters take the same ones, so they analyse
# (and reuse) exactly the runs the controlled chapter trained.
STUDY: Mapping[str, Any] = {
    "base_model": "data/micro/base",
    "arms": ["sft-think", "sft-nothink", "onpolicy-sft", "grpo"],  # recipes/<profile>/<arm>.yaml
    "seeds": [0, 1, 2],
    "steps": None,  # override every recipe's max_steps
    "eval_n": 200,  # held-out items per group
    "workers": 2,  # runs trained side by side, one thread each
}

# The latent and token chapters analyse the same models the same way.
ANALYSIS: Mapping[str, Any] = {
    **STUDY,
    "n_samples": 100,  # items per task family
    "max_tokens": 128,  # tokens per text (latent) / response tokens scored per sample (tokens)
    "all_seeds": True,  # every seed of every arm (False: the first seed only, faster)
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
        defaults={
            "n_examples": 1,  # held-out examples shown per task family
            "eval_n": 200,  # held-out items per group for the base's accuracy
            "seed": 0,
        },
    ),
    Chapter(
        name="controlled",
        notebook="notebooks/controlled.ipynb",
        title="The controlled experiment: SFT forgets, RL transfers?",
        defaults={**STUDY, "control_lr": 1.0e-4},  # the SFT arms again at RL's learning rate (None: skip)
        by_profile={"smol": {"control_lr": None}, "paper": {"control_lr": None}},  # a second set of GPU runs
    ),
    Chapter(
        name="latent",
        notebook="notebooks/latent.ipynb",
        title="Latent space: how far does post-training move the representations?",
        defaults={
            **ANALYSIS,
            "seed": 42,
            "layers": None,  # hidden_states indices; None: all
            "pooling": "mean_with_pad",
        },
    ),
    Chapter(
        name="tokens",
        notebook="notebooks/tokens.ipynb",
        title="Token space: how far does post-training move the output distribution?",
        defaults=ANALYSIS,
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
