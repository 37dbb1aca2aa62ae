"""Greedy batched evaluation of a micro model on the held-out sets, graded by the shared grader."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from mathxfer.groups import Group
from mathxfer.micro import world
from mathxfer.micro.grading import is_correct, render
from mathxfer.micro.world import Item

# Room for the teacher's think-style answers (<= ~64 tokens); other groups answer in a few tokens.
MAX_NEW_TOKENS: dict[Group, int] = {"math": 96, "other": 32, "non": 32}


@dataclass(frozen=True)
class Record:
    group: str
    family: str
    question: str
    answer: str
    response: str
    correct: bool
    correct_lenient: bool


@dataclass(frozen=True)
class EvalResult:
    records: tuple[Record, ...]

    def accuracy(self, by: str = "group", lenient: bool = False) -> dict[str, float]:
        """Accuracy per ``group`` or per ``family``."""
        hits: dict[str, list[bool]] = defaultdict(list)
        for r in self.records:
            hits[getattr(r, by)].append(r.correct_lenient if lenient else r.correct)
        return {k: sum(v) / len(v) for k, v in hits.items()}

    def to_rows(self) -> list[dict[str, object]]:
        return [asdict(r) for r in self.records]


@torch.no_grad()
def generate(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, questions: Sequence[str],
             max_new_tokens: int, batch_size: int = 128, do_sample: bool = False,
             temperature: float = 1.0) -> list[str]:
    """Responses (decoded, special tokens dropped) to ``questions``; left padding, greedy by default."""
    if tokenizer.padding_side != "left":
        raise ValueError("batched generation needs tokenizer.padding_side == 'left'; set it before calling")
    model.eval()
    out: list[str] = []
    for start in range(0, len(questions), batch_size):
        prompts = [render(q) for q in questions[start:start + batch_size]]
        enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        kwargs = {"do_sample": True, "temperature": temperature, "top_k": 0, "top_p": 1.0} if do_sample else {"do_sample": False}
        gen = model.generate(**enc, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id,
                             eos_token_id=tokenizer.eos_token_id, **kwargs)
        out += tokenizer.batch_decode(gen[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
    return out


def evaluate_items(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, items: Sequence[Item],
                   batch_size: int = 128) -> EvalResult:
    records: list[Record] = []
    for group in world.GROUPS:
        subset = [it for it in items if it.group == group]
        if not subset:
            continue
        responses = generate(model, tokenizer, [it.question for it in subset], MAX_NEW_TOKENS[group], batch_size)
        records += [Record(it.group, it.family, it.question, it.answer, resp, is_correct(it, resp),
                           is_correct(it, resp, lenient=True)) for it, resp in zip(subset, responses)]
    return EvalResult(tuple(records))


def heldout_items(n_per_group: int = 200) -> list[Item]:
    """The fixed held-out evaluation set: ``n_per_group`` items per group, fixed eval seeds."""
    return [it for g in world.GROUPS for it in world.heldout_set(g, n_per_group)]


def evaluate(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, n_per_group: int = 200,
             batch_size: int = 128) -> EvalResult:
    return evaluate_items(model, tokenizer, heldout_items(n_per_group), batch_size)
