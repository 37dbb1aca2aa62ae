"""Recipes: flat YAML files of a run config's fields plus ``method``, checked before anything trains.

    method: grpo
    model_name_or_path: data/micro/base
    learning_rate: 1.0e-4
    ...

``load_recipe`` returns the TRL-derived config with its output folder set from a key of the recipe, so
the same recipe (and seed) always lands in the same results folder and a rerun resumes or is skipped.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mathxfer.errors import UsageError, read_yaml_mapping
from mathxfer.paths import recipes_dir, train_dir
from mathxfer.provenance import config_key
from mathxfer.train.config import METHODS

RECIPES_DIR = recipes_dir()
REQUIRED = ("method", "model_name_or_path", "dataset_name")
DERIVED = ("output_dir",)  # set from the recipe's key, never by hand
DISPLAY_ONLY = ("disable_tqdm",)  # change what is printed, not what is trained: kept out of the key
RL_METHODS = ("grpo", "offpolicy_grpo")  # recipe methods that count as RL; every other one is SFT


class RecipeError(UsageError):
    """A recipe that cannot run; the message names the file, the field and the fix."""


def recipe_path(profile: str, name: str) -> Path:
    return RECIPES_DIR / profile / f"{name}.yaml"


STUDY_FILE = "study.yaml"  # beside the recipes, the study that runs them (mathxfer.study.spec)
# every study file a profile may hold beside its recipes: the main study, the Table 4 ablation's, and the
# learning-rate sweep's (beyond the paper)
STUDY_NAMES = ("study", "ablation", "sweep")


def available_recipes(profile: str) -> list[str]:
    return sorted(p.stem for p in (RECIPES_DIR / profile).glob("*.yaml") if p.stem not in STUDY_NAMES)


_SIMPLE = {"int": int, "float": float, "str": str, "bool": bool, "None": type(None)}


def _expected_types(annotation: Any) -> tuple[type, ...] | None:
    """The plain types a field accepts (None when the annotation is too rich to check, e.g. a dict)."""
    parts = ([p.strip() for p in annotation.split("|")] if isinstance(annotation, str)
             else list(typing.get_args(annotation)) or [annotation])
    types = [_SIMPLE.get(p) if isinstance(p, str) else p for p in parts]
    if not types or any(t not in _SIMPLE.values() for t in types):
        return None
    return tuple(types) + ((int,) if float in types else ())  # an int is a fine float


def _type_error(cls: type, name: str, value: Any) -> str | None:
    fld = next(f for f in dataclasses.fields(cls) if f.name == name)
    expected = _expected_types(fld.type)
    if expected is None or (value is None and type(None) in expected):
        return None
    wanted = " or ".join(t.__name__ for t in dict.fromkeys(expected) if t is not type(None))
    if isinstance(value, bool) and bool not in expected:
        return f"{name} must be {wanted}, not {value!r}"
    if not isinstance(value, expected):
        return f"{name} must be {wanted}, not {type(value).__name__} {value!r}"
    return None


def recipe_fields(raw: Mapping[str, Any], source: str = "recipe") -> dict[str, Any]:
    """Validate a recipe mapping; returns it unchanged when it is good."""
    missing = [k for k in REQUIRED if k not in raw or raw[k] in (None, "")]
    if missing:
        raise RecipeError(f"{source}: missing field(s) {', '.join(missing)}; a recipe needs {', '.join(REQUIRED)}")
    method = raw["method"]
    if method not in METHODS:
        raise RecipeError(f"{source}: unknown method {method!r}; choose one of {', '.join(METHODS)}")
    cls = METHODS[method]
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - names - {"method"})
    if unknown:
        raise RecipeError(f"{source}: unknown field(s) {', '.join(unknown)} for method {method!r} "
                          f"(fields come from trl.{cls.__mro__[2].__name__} and mathxfer's RunFields)")
    derived = [k for k in DERIVED if k in raw]
    if derived:
        raise RecipeError(f"{source}: {', '.join(derived)} is derived from the recipe's key; remove it")
    for name, value in raw.items():
        if name != "method" and (problem := _type_error(cls, name, value)):
            raise RecipeError(f"{source}: {problem}")
    from mathxfer.train.data import DATASETS  # late: the registry imports the task modules

    if raw["dataset_name"] not in DATASETS:
        raise RecipeError(f"{source}: unknown dataset_name {raw['dataset_name']!r}; "
                          f"choose one of {', '.join(sorted(DATASETS))}")
    if problem := _range_error(raw):
        raise RecipeError(f"{source}: {problem}")
    return dict(raw)


def _dataset_size_ok(value: Any, raw: Mapping[str, Any]) -> bool:
    from mathxfer.train.data import task_data

    return value >= 1 or (value == 0 and task_data(raw["dataset_name"]).whole_set)


def _by_steps(strategy: str) -> Callable[[Mapping[str, Any]], bool]:
    """A steps field counts only while its strategy is "steps" (build_config's default for saving too)."""
    return lambda raw: str(raw.get(strategy, "steps")) == "steps"


# Numeric fields whose nonsense values TRL accepts and then trains something else (max_steps -5 trains every
# epoch, dataset_size 0 an untrained model): (field, test, what it must be, the fix, when it is used).
_RANGES: tuple[tuple[str, Callable[..., bool], str, str, Callable[[Mapping[str, Any]], bool] | None], ...] = (
    ("max_steps", lambda v, _: v == -1 or v >= 1, "-1 or a positive int",
     "set the number of optimiser steps, or -1 to train num_train_epochs epochs", None),
    ("dataset_size", _dataset_size_ok, "a positive int",
     "set the number of prompts to draw (0, all of it, exists only for fixed sets such as gsm8k)", None),
    ("num_train_epochs", lambda v, _: v > 0, "positive", "set the passes over the data (e.g. 1)", None),
    ("learning_rate", lambda v, _: v > 0, "positive", "set a learning rate such as 1.0e-4", None),
    ("per_device_train_batch_size", lambda v, _: v >= 1, "a positive int", "set the examples per step (e.g. 8)",
     None),
    ("gradient_accumulation_steps", lambda v, _: v >= 1, "a positive int", "set 1 to step on every batch", None),
    ("num_generations", lambda v, _: v >= 2, "at least 2",
     "GRPO compares the samples of one prompt with each other: set e.g. 8", None),
    ("temperature", lambda v, _: v > 0, "positive", "set the sampling temperature (e.g. 0.7)", None),
    ("max_completion_length", lambda v, _: v >= 1, "a positive int", "set the longest completion in tokens",
     None),
    ("max_length", lambda v, _: v >= 1, "a positive int or null",
     "set the longest training sequence in tokens, or null for no truncation", None),
    ("beta", lambda v, _: v >= 0, "0 or more", "set the KL coefficient (0: no KL term)", None),
    ("onpolicy_samples", lambda v, _: v >= 1, "a positive int", "set the samples drawn per prompt (e.g. 8)", None),
    ("onpolicy_max_new_tokens", lambda v, _: v >= 1, "a positive int", "set the longest sample in tokens", None),
    ("onpolicy_batch_size", lambda v, _: v >= 1, "a positive int", "set the prompts sampled per call (e.g. 4)", None),
    ("onpolicy_temperature", lambda v, _: v > 0, "positive", "set the sampling temperature (e.g. 0.7)", None),
    ("save_steps", lambda v, _: v > 0, "positive",
     "set the steps between checkpoints (below 1: a fraction of the run), or save_strategy: no",
     _by_steps("save_strategy")),
    ("logging_steps", lambda v, _: v > 0, "positive",
     "set the steps between logged rows (below 1: a fraction of the run)", _by_steps("logging_strategy")),
)


def _range_error(raw: Mapping[str, Any]) -> str | None:
    """The first numeric field (already of the right type) whose value cannot mean what it says."""
    for name, ok, must, fix, used in _RANGES:
        value = raw.get(name)
        if value is None or (used is not None and not used(raw)):
            continue
        if not ok(value, raw):
            return f"{name} must be {must}, not {value!r}; {fix}"
    return None


def read_recipe(path: Path | str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    path = Path(path)
    raw = read_yaml_mapping(path, RecipeError, f"no such recipe; recipes live in {RECIPES_DIR}/<profile>/<name>.yaml",
                            "a recipe is a mapping of field: value")
    return recipe_fields({**raw, **(overrides or {})}, str(path))


def method_kind(method: str) -> str:
    """'RL' or 'SFT': what a recipe's ``method`` counts as in the paper's comparison."""
    return "RL" if method in RL_METHODS else "SFT"


def run_inputs(fields: Mapping[str, Any]) -> dict[str, str]:
    """What a run's key must also hold beyond its recipe: the base model's identity (a retrained base at the
    same path is a new run) and the version of the data its dataset yields (a changed world or local data file
    is too)."""
    from mathxfer.models import identity
    from mathxfer.train.data import task_data

    return {"base_identity": identity(str(fields["model_name_or_path"]), gguf_file=fields.get("gguf_file")),
            "data_version": task_data(str(fields["dataset_name"])).data_version(fields.get("data_dir"))}


def run_dir(fields: Mapping[str, Any], runs_dir: Path | None = None) -> Path:
    """The results folder of a validated recipe: keyed by every field that changes training and by
    ``run_inputs``, so the same recipe (and seed) on the same base always lands in the same folder."""
    fields = dict(fields)
    method = fields.pop("method")
    key = config_key({"method": method, **{k: v for k, v in fields.items() if k not in DISPLAY_ONLY},
                      **run_inputs(fields)})
    profile = fields.get("profile", "micro")
    return (runs_dir / profile if runs_dir else train_dir(profile)) / f"{method}-{key}"


def build_config(fields: Mapping[str, Any], runs_dir: Path | None = None) -> Any:
    """The TRL config for a validated recipe, with CPU defaults filled in when there is no GPU."""
    import torch

    out = run_dir(fields, runs_dir)
    fields = dict(fields)
    method = fields.pop("method")
    defaults: dict[str, Any] = {"report_to": "none", "save_strategy": "steps", "save_total_limit": 1}
    if not torch.cuda.is_available():
        defaults.update(use_cpu=True, bf16=False)  # TRL's defaults ask for bf16 and fail on a CPU
    try:
        return METHODS[method](output_dir=str(out), **{**defaults, **fields})
    except (TypeError, ValueError) as err:
        raise RecipeError(f"recipe for {method}: TRL rejected it: {err}") from err
