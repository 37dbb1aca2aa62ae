"""Off-policy RL on TRL: ``GRPOTrainer`` with its rollouts taken from a teacher (TRL's ``rollout_func``).

The paper's Table 4 writes every arm as one surrogate loss, L = -E_x E_{y~q}[w(x, y) log pi(y|x)]: off-policy RL
is q = the teacher, w = the advantage. GRPO's loss with one optimisation pass per generated batch (TRL's
probability ratio is then 1) is exactly that once its completions come from the teacher. The group-relative
advantage needs a teacher whose samples differ in reward, so the teacher errs at a set rate
(``mathxfer.micro.teacher.sample``); each sample is drawn from a seed of (run seed, step, position, question), so
a resumed run sees the samples an uninterrupted one would.

With ``teacher_importance_weights`` the ratio is the importance weight pi(y_t)/q(y_t) instead: the "old"
log-probabilities TRL divides by are the teacher's, 0 for every token (it writes the text it chose; the chance
of the slip itself is left out), so each token weighs by the policy's own probability and PPO's clip applies
(a negative advantage then moves only tokens the policy already gives more than 1 - epsilon), as TRL does for
vLLM's samples. ``OffPolicyGRPOTrainer`` sets them (TRL 1.16's ``_generate_and_score_completions`` output).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import torch
import trl

from mathxfer.train.data import TrainingDataError, task_data

Rollout = Callable[[list[Any], Any], dict[str, list[Any]]]


def teacher_rollouts(config: Any, tokenizer: Any) -> Rollout:
    """TRL's ``rollout_func`` for an off-policy RL run: one teacher sample per prompt TRL passes (its sampler
    already repeats each prompt ``num_generations`` times)."""
    data = task_data(config.dataset_name)
    if data.teacher is None:
        raise TrainingDataError(f"dataset {config.dataset_name!r} has no teacher to sample from, so off-policy RL "
                                "(method offpolicy_grpo) cannot run on it; use micro-math, or method grpo")
    sample = data.teacher(config)

    def rollout(prompts: list[Any], trainer: Any) -> dict[str, list[Any]]:
        step = trainer.state.global_step
        prompt_ids, completion_ids = [], []
        for position, prompt in enumerate(prompts):
            question = prompt[-1]["content"]
            text = sample(question, random.Random(f"{config.seed}-{step}-{position}-{question}"))
            prompt_ids.append(list(tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True,
                                                                 return_dict=True)["input_ids"]))
            ids = tokenizer(text, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
            completion_ids.append(ids[: config.max_completion_length])  # as a generation would be cut
        # the sampler's log-probabilities: TRL reads them only for vLLM's importance correction, unused here
        return {"prompt_ids": prompt_ids, "completion_ids": completion_ids,
                "logprobs": [[0.0] * len(ids) for ids in completion_ids]}

    return rollout


class OffPolicyGRPOTrainer(trl.GRPOTrainer):
    """``trl.GRPOTrainer`` with the teacher's log-probabilities as the old ones when the run asks for importance
    weights."""

    def _generate_and_score_completions(self, inputs: Any) -> dict[str, Any]:
        output = super()._generate_and_score_completions(inputs)
        if self.args.teacher_importance_weights:
            mask = output["completion_mask"]
            output["old_per_token_logps"] = torch.zeros(mask.shape, dtype=torch.float32, device=mask.device)
        return output
