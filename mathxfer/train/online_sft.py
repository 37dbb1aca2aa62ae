"""On-policy SFT re-sampled as it trains (the paper's Table 4 variant), on TRL's ``GRPOTrainer``.

The one-shot arm (method ``onpolicy_sft``) samples once from the base and then runs SFT: every later step
learns from the base's answers, not its own. Here the samples come from the current policy: TRL generates
``num_generations`` answers per prompt every ``steps_per_generation`` steps (its generation batch), the shared
grader scores them, and the first correct answer of each prompt is kept, as the one-shot arm keeps it. The
loss is GRPO's with weight w = 1 on the kept answers and 0 on the rest, the ratio fixed at 1 (no "old"
log-probabilities), and the token-mean over the kept tokens (``loss_type: dapo``): plain NLL on the policy's
own correct answers, the surrogate loss of the paper's Table 4 with q = the policy and w = 1.
"""

from __future__ import annotations

from typing import Any

import torch
import trl


def first_correct(rewards: torch.Tensor, group: int) -> torch.Tensor:
    """1.0 for the first completion of each group of ``group`` consecutive ones whose reward is 1 (correct),
    0.0 elsewhere; a group with no correct completion keeps nothing."""
    correct = (rewards >= 1.0).view(-1, group)
    first = correct & (correct.cumsum(dim=1) == 1)
    return first.view(-1).float()


class OnlineSFTTrainer(trl.GRPOTrainer):
    """``trl.GRPOTrainer`` whose advantages are 1 on each prompt's first correct sample and 0 elsewhere."""

    def _calculate_rewards(self, inputs: Any, prompts: Any, completions: Any, completion_ids_list: Any) -> Any:
        rewards = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        self._gathered_rewards = rewards  # every process's completions, in TRL's group order
        return rewards

    def _generate_and_score_completions(self, inputs: Any) -> dict[str, Any]:
        output = super()._generate_and_score_completions(inputs)
        rewards = (self._gathered_rewards * self.reward_weights.to(self._gathered_rewards.device)).nansum(dim=1)
        keep = first_correct(rewards, self.num_generations)
        n = len(output["advantages"])
        local = keep[self.accelerator.process_index * n:(self.accelerator.process_index + 1) * n]
        local = local.to(output["advantages"].device)
        output["advantages"] = local
        output.pop("old_per_token_logps", None)  # ratio 1: the gradient is the NLL's, never clipped
        kept_tokens = (output["completion_mask"] * local.unsqueeze(1)).sum()
        output["num_items_in_batch"] = self.accelerator.gather(kept_tokens).sum()  # the mean over kept tokens
        return output
