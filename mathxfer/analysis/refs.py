"""Which models an analysis compares: a base and tuned models, each with its label, arm, seed and kind."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from transformers import PreTrainedModel

from mathxfer.models import identity, load_model


@dataclass(frozen=True)
class ModelRef:
    """One model of the analysis. ``label`` is its name in every frame; ``kind`` is base, SFT or RL."""

    label: str
    path: str  # a local directory (resolved against the repository root) or a hub id
    arm: str = "base"
    seed: int = -1
    kind: str = "base"
    gguf_file: str | None = None
    revision: str | None = None

    def identity(self) -> str:
        return identity(self.path, gguf_file=self.gguf_file, revision=self.revision)


@functools.lru_cache(maxsize=4)
def cached_model(path: str, gguf_file: str | None = None) -> PreTrainedModel:
    """One loaded copy per model, on the GPU when there is one (the paper profile's 14B models)."""
    import torch

    return load_model(path, gguf_file=gguf_file, device="cuda" if torch.cuda.is_available() else "cpu")


def loader(ref: ModelRef) -> Callable[[], PreTrainedModel]:
    """Loads the model only when something must be computed, and once per path."""
    return lambda: cached_model(ref.path, ref.gguf_file)
