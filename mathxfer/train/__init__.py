"""Post-training arms on TRL: off-policy SFT, GRPO, on-policy (rejection-sampled) SFT.

    from mathxfer.train import load, train
    config = load("micro", "grpo", seed=0)    # recipes/micro/grpo.yaml, checked before anything runs
    record = train(config)                    # reused when finished, resumed when interrupted
"""

from __future__ import annotations

from typing import Any

from mathxfer.train.recipes import RecipeError, build_config, read_recipe, recipe_path


def load(profile: str, name: str, **overrides: Any) -> Any:
    """The run config of recipe ``recipes/<profile>/<name>.yaml`` with ``overrides`` applied."""
    fields = read_recipe(recipe_path(profile, name), overrides)
    config = build_config(fields)
    config._mathxfer_recipe = fields  # kept for the run's provenance
    return config


def train(config: Any, callbacks: list[Any] | None = None) -> Any:
    """Run (or reuse, or resume) the arm; ``callbacks`` are transformers TrainerCallbacks."""
    from mathxfer.train.run import train as _train

    return _train(config, getattr(config, "_mathxfer_recipe", None), callbacks)


__all__ = ["RecipeError", "load", "train"]
