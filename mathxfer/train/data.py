"""Post-training data per task source: the same math prompts feed every arm (SFT targets, GRPO prompts
with gold answers, on-policy samples), and each source brings the one grader its reward uses.

SFT data is conversational prompt/completion, so TRL computes the loss on the assistant part only with
any chat template (SmolLM2's and Qwen3's have no ``{% generation %}`` markers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from datasets import Dataset


@dataclass(frozen=True)
class TaskData:
    """How one data source builds each arm's training set."""

    name: str
    sft: Callable[[Any], Dataset]  # (config) -> messages dataset with the config's sft_target
    rl: Callable[[Any], Dataset]  # (config) -> prompt / answer / task dataset
    onpolicy: Callable[[Any, Any, Any], Dataset]  # (config, model, tokenizer) -> messages of kept samples
    reward: Callable[..., list[float]]  # TRL signature, built on the shared grader


def _micro() -> TaskData:
    from mathxfer.micro import grading, posttrain_data

    def prompts(config: Any) -> list[Any]:
        return posttrain_data.math_prompts(config.dataset_size, seed=config.dataset_seed - posttrain_data.PROMPT_SEED_BASE
                                           + config.seed)

    def sft(config: Any) -> Dataset:
        style = {"think": "think", "no-think": "no_think", "gold": "gold"}.get(config.sft_target)
        if style is None:
            raise ValueError(f"sft_target {config.sft_target!r} is not one of think, no-think, gold")
        return posttrain_data.sft_dataset(prompts(config), style)

    def onpolicy(config: Any, model: Any, tokenizer: Any) -> Dataset:
        sample = posttrain_data.rejection_sample(model, tokenizer, prompts(config), k=config.onpolicy_samples,
                                                 temperature=config.onpolicy_temperature, seed=config.seed,
                                                 max_new_tokens=config.onpolicy_max_new_tokens)
        return sample.dataset()

    return TaskData("micro-math", sft, lambda c: posttrain_data.rl_dataset(prompts(c)), onpolicy, grading.reward)


DATASETS: dict[str, Callable[[], TaskData]] = {"micro-math": _micro}


def task_data(name: str) -> TaskData:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset_name {name!r}; choose one of {', '.join(sorted(DATASETS))}")
    return DATASETS[name]()


def to_prompt_completion(messages_set: Dataset) -> Dataset:
    """messages [user, assistant] -> prompt [user] / completion [assistant] (loss on the completion)."""
    return messages_set.map(lambda row: {"prompt": row["messages"][:-1], "completion": row["messages"][-1:]},
                            remove_columns=["messages"])


def dataset_for(config: Any, model: Any, tokenizer: Any) -> Dataset:
    """The training set of one arm, from the arm's config."""
    from mathxfer.train.config import GRPORunConfig, OnPolicySFTConfig

    data = task_data(config.dataset_name)
    if isinstance(config, GRPORunConfig):
        return data.rl(config)
    if isinstance(config, OnPolicySFTConfig):
        kept = data.onpolicy(config, model, tokenizer)
        if len(kept) == 0:
            raise ValueError(
                f"on-policy sampling kept no correct answer from {config.dataset_size} prompts x "
                f"{config.onpolicy_samples} samples: the starting model {config.model_name_or_path!r} solves none. "
                "Fix: start from a model that solves some prompts, or raise onpolicy_samples")
        return to_prompt_completion(kept)
    return to_prompt_completion(data.sft(config))
