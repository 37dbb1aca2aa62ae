"""Math-only post-training data: teacher SFT sets, RL prompts with gold answers, and on-policy
rejection-sampled SFT data. All prompts come from the train split (the held-out sets stay unseen)
and from their own seed stream, so every arm of an experiment can share the same prompts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from datasets import Dataset
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from mathxfer.micro import teacher, world
from mathxfer.micro.evaluate import MAX_NEW_TOKENS, generate
from mathxfer.micro.grading import is_correct, messages
from mathxfer.micro.world import Item

SFTStyle = Literal["think", "no_think", "gold"]
PROMPT_SEED_BASE = 5000


def math_prompts(n: int, seed: int = 0) -> list[Item]:
    """``n`` train-split math items from the post-training stream of ``seed`` (distinct from pretraining's)."""
    return world.sample(n, PROMPT_SEED_BASE + seed, "train", {"math": 1.0})


def target(item: Item, style: SFTStyle) -> str:
    """The SFT target: the teacher's think / no-think solution, or the base's own gold style."""
    return item.answer if style == "gold" else teacher.solve(item, style)


def sft_dataset(items: list[Item], style: SFTStyle = "think") -> Dataset:
    """Conversational SFT data (``messages``) for TRL's SFTTrainer with ``assistant_only_loss=True``."""
    return Dataset.from_dict({
        "messages": [messages(it.question, target(it, style)) for it in items],
        "task": [it.family for it in items],
    })


def rl_dataset(items: list[Item]) -> Dataset:
    """GRPO prompts: ``prompt`` (conversational, the user turn), ``answer`` (gold integer), ``task``."""
    return Dataset.from_dict({
        "prompt": [messages(it.question) for it in items],
        "answer": [it.answer.rsplit("Answer:", 1)[1].strip() for it in items],
        "task": [it.family for it in items],
    })


@dataclass(frozen=True)
class RejectionSample:
    pairs: tuple[tuple[Item, str], ...]  # (prompt item, a correct sampled response)
    prompts: int
    prompts_solved: int  # prompts with at least one correct sample
    samples: int
    samples_correct: int

    def dataset(self) -> Dataset:
        return Dataset.from_dict({
            "messages": [messages(it.question, resp) for it, resp in self.pairs],
            "task": [it.family for it, _ in self.pairs],
        })


def rejection_sample(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, items: list[Item], k: int = 8,
                     temperature: float = 0.7, seed: int = 0, keep: Literal["first", "all"] = "first",
                     max_new_tokens: int = MAX_NEW_TOKENS["math"], batch_size: int = 128) -> RejectionSample:
    """On-policy SFT data: sample ``k`` completions per prompt at ``temperature``, keep correct ones
    (the shared grader decides), the first per prompt or all of them."""
    torch.manual_seed(seed)
    questions = [it.question for it in items for _ in range(k)]
    responses = generate(model, tokenizer, questions, max_new_tokens, batch_size, do_sample=True, temperature=temperature)
    pairs: list[tuple[Item, str]] = []
    solved = correct = 0
    for i, item in enumerate(items):
        good = [r for r in responses[i * k:(i + 1) * k] if is_correct(item, r)]
        correct += len(good)
        solved += bool(good)
        pairs += [(item, r) for r in (good[:1] if keep == "first" else good)]
    return RejectionSample(tuple(pairs), len(items), solved, len(questions), correct)
