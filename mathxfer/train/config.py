"""Run configs: TRL's own config classes, extended with what a mathxfer run needs (open-r1 style).

A recipe is a flat YAML file of these fields plus ``method``; ``mathxfer.train.recipes`` reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import trl


@dataclass
class RunFields:
    """Fields every post-training arm shares (kept first in the YAML files)."""

    model_name_or_path: str = field(default="", metadata={"help": "hub id, local HF dir (e.g. data/micro/base) or GGUF folder"})
    gguf_file: str | None = field(default=None, metadata={"help": "GGUF file inside model_name_or_path"})
    dataset_name: str = field(default="micro-math", metadata={"help": "a name in mathxfer.train.data.DATASETS"})
    dataset_size: int = field(default=3200, metadata={"help": "prompts drawn (all the same across arms)"})
    dataset_seed: int = field(default=5000, metadata={"help": "seed of the prompt draw (plus the run seed)"})
    data_dir: str | None = field(default=None, metadata={"help": "local benchmark folder instead of the hub"})
    profile: str = field(default="micro", metadata={"help": "micro | smol | paper"})


@dataclass
class SFTRunConfig(RunFields, trl.SFTConfig):
    """Off-policy SFT on teacher (distilled) or human solutions; loss on the assistant part only."""

    sft_target: str = field(default="think", metadata={"help": "think | no-think | gold | human: which solutions"})


@dataclass
class OnPolicySFTConfig(RunFields, trl.SFTConfig):
    """Rejection-sampled SFT: sample from the starting policy, keep correct answers, train with NLL."""

    sft_target: str = field(default="on-policy", metadata={"help": "fixed: the policy's own correct samples"})
    onpolicy_samples: int = field(default=8, metadata={"help": "samples per prompt"})
    onpolicy_temperature: float = field(default=0.7, metadata={"help": "sampling temperature"})
    onpolicy_max_new_tokens: int = field(default=48, metadata={"help": "longest sampled answer"})
    onpolicy_batch_size: int = field(default=4, metadata={"help": "prompts per generate call (x onpolicy_samples "
                                                                  "sequences; real models only)"})


@dataclass
class GRPORunConfig(RunFields, trl.GRPOConfig):
    """GRPO with the shared grader as a 0/1 reward."""


@dataclass
class OffPolicyGRPOConfig(GRPORunConfig):
    """Off-policy RL (the paper's Table 4): GRPO's advantage-weighted loss on samples of a teacher, not of the
    policy (``mathxfer.train.offpolicy``)."""

    teacher_target: str = field(default="no-think", metadata={"help": "think | no-think: the teacher's solutions"})
    teacher_error_rate: float = field(default=0.5, metadata={"help": "chance that a teacher sample has a slip "
                                                                        "(an always-right teacher has no advantage)"})
    teacher_importance_weights: bool = field(default=True, metadata={
        "help": "weigh each token by pi/q, clipped as PPO clips (false: the unweighted surrogate, ratio 1)"})


@dataclass
class OnlineSFTConfig(GRPORunConfig):
    """On-policy SFT re-sampled from the current policy every ``steps_per_generation`` steps
    (``mathxfer.train.online_sft``): GRPO's sampling, the first correct answer per prompt, plain NLL."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.beta:
            raise ValueError(f"beta is {self.beta}, but on-policy SFT has no KL term: set beta: 0.0")
        if self.loss_type != "dapo":
            raise ValueError(f"loss_type is {self.loss_type!r}, but on-policy SFT averages the NLL over the kept "
                             "tokens, which is TRL's 'dapo' normalisation: set loss_type: dapo")


METHODS: dict[str, type] = {"sft": SFTRunConfig, "onpolicy_sft": OnPolicySFTConfig, "online_sft": OnlineSFTConfig,
                            "grpo": GRPORunConfig, "offpolicy_grpo": OffPolicyGRPOConfig}
