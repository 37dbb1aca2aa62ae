"""First math-only post-training runs from the micro base with TRL: teacher SFT (think, no-think),
on-policy SFT (rejection-sampled), and GRPO; each evaluated on all three groups.

Every arm shares the base, the math prompts (``math_prompts(steps * prompts_per_step, seed)``, in
order), AdamW at a constant lr and the step count, as in the feasibility study's final protocol.

    python -m mathxfer.micro.first_runs --out results/micro/first_runs --steps 200
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Literal

import torch
from datasets import Dataset
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from mathxfer import models
from mathxfer.micro.evaluate import EvalResult, evaluate
from mathxfer.micro.grading import messages, reward
from mathxfer.micro.posttrain_data import math_prompts, rejection_sample, rl_dataset, sft_dataset

Arm = Literal["sft_think", "sft_no_think", "rft", "grpo"]
ARMS: tuple[Arm, ...] = ("sft_think", "sft_no_think", "rft", "grpo")


@dataclass(frozen=True)
class RunConfig:
    base: str = str(models.micro_base_dir())
    out_dir: str = "results/micro/first_runs"
    seed: int = 0
    steps: int = 200
    prompts_per_step: int = 16
    lr: float = 1e-4
    num_generations: int = 8  # GRPO group size and rejection-sampling k
    temperature: float = 0.7
    max_completion_length: int = 40  # GRPO; the base answers math in 15-30 tokens
    eval_per_group: int = 200


def _common(cfg: RunConfig, out: Path) -> dict[str, object]:
    # A constant lr, AdamW betas (0.9, 0.95), clip 1.0: the study's setting; CPU, no checkpoints.
    return dict(output_dir=str(out), max_steps=cfg.steps, learning_rate=cfg.lr, lr_scheduler_type="constant",
                warmup_steps=0, adam_beta2=0.95, weight_decay=0.0, max_grad_norm=1.0, use_cpu=True, bf16=False,
                report_to="none", save_strategy="no", logging_steps=max(1, cfg.steps // 10), seed=cfg.seed,
                dataloader_num_workers=0, disable_tqdm=True)


def train_sft(model: PreTrainedModel, tok: PreTrainedTokenizerBase, ds: Dataset, cfg: RunConfig, out: Path) -> list[dict]:
    from trl import SFTConfig, SFTTrainer

    args = SFTConfig(per_device_train_batch_size=cfg.prompts_per_step, assistant_only_loss=True, max_length=256,
                     packing=False, shuffle_dataset=False, **_common(cfg, out))  # type: ignore[arg-type]
    trainer = SFTTrainer(model=model, args=args, train_dataset=ds.remove_columns("task"), processing_class=tok)
    trainer.train()
    return trainer.state.log_history


def train_grpo(model: PreTrainedModel, tok: PreTrainedTokenizerBase, ds: Dataset, cfg: RunConfig, out: Path) -> list[dict]:
    from trl import GRPOConfig, GRPOTrainer

    args = GRPOConfig(
        per_device_train_batch_size=cfg.prompts_per_step * cfg.num_generations, num_generations=cfg.num_generations,
        max_completion_length=cfg.max_completion_length, temperature=cfg.temperature, top_k=0, top_p=1.0,
        loss_type="dapo", beta=0.0, shuffle_dataset=False, **_common(cfg, out),  # type: ignore[arg-type]
    )
    trainer = GRPOTrainer(model=model, reward_funcs=reward, args=args, train_dataset=ds, processing_class=tok)
    trainer.train()
    return trainer.state.log_history


def _summary(result: EvalResult) -> dict[str, object]:
    non_math = [r for r in result.records if r.group != "math"]
    return {
        "group": {k: round(v, 4) for k, v in result.accuracy("group").items()},
        "family": {k: round(v, 4) for k, v in result.accuracy("family").items()},
        # how far the teacher's style leaked into non-math answers (a forgetting symptom)
        "teacher_style_in_non_math": round(sum("<think>" in r.response or "We " in r.response
                                               for r in non_math) / max(1, len(non_math)), 4),
        "examples": [{"family": r.family, "q": r.question, "response": r.response, "correct": r.correct}
                     for r in result.records[::50]],
    }


def run_arm(arm: Arm, cfg: RunConfig) -> dict[str, object]:
    torch.manual_seed(cfg.seed)
    model, tok = models.load(cfg.base)
    prompts = math_prompts(cfg.steps * cfg.prompts_per_step, cfg.seed)
    out = Path(cfg.out_dir) / arm
    t0 = time.time()
    extra: dict[str, object] = {}
    if arm in ("sft_think", "sft_no_think"):
        logs = train_sft(model, tok, sft_dataset(prompts, "think" if arm == "sft_think" else "no_think"), cfg, out)
    elif arm == "rft":
        rs = rejection_sample(model, tok, prompts, k=cfg.num_generations, temperature=cfg.temperature, seed=cfg.seed)
        extra = {"prompts_solved": rs.prompts_solved, "samples_correct": rs.samples_correct, "samples": rs.samples,
                 "sampling_s": round(time.time() - t0, 1)}
        if not rs.pairs:
            raise RuntimeError("rejection sampling found no correct sample; the base cannot seed on-policy SFT")
        # Fill to the shared budget by cycling the kept pairs (prompts without a correct sample drop out).
        pairs = list(itertools.islice(itertools.cycle(rs.pairs), len(prompts)))
        ds = Dataset.from_dict({"messages": [messages(it.question, r) for it, r in pairs],
                                "task": [it.family for it, _ in pairs]})
        logs = train_sft(model, tok, ds, cfg, out)
    elif arm == "grpo":
        logs = train_grpo(model, tok, rl_dataset(prompts), cfg, out)
    else:
        raise ValueError(f"unknown arm {arm!r}; use one of {ARMS}")
    train_s = time.time() - t0
    model.eval()
    result = evaluate(model, tok, cfg.eval_per_group)
    return {"arm": arm, "train_s": round(train_s, 1), **extra, **_summary(result),
            "log": [{k: v for k, v in e.items() if isinstance(v, (int, float))} for e in logs]}


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    torch.set_num_threads(1)
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=RunConfig.out_dir)
    p.add_argument("--base", default=RunConfig.base)
    p.add_argument("--steps", type=int, default=RunConfig.steps)
    p.add_argument("--seed", type=int, default=RunConfig.seed)
    p.add_argument("--eval-per-group", type=int, default=RunConfig.eval_per_group)
    p.add_argument("--arms", nargs="*", default=list(ARMS), choices=ARMS)
    a = p.parse_args(argv)
    cfg = RunConfig(base=a.base, out_dir=a.out, steps=a.steps, seed=a.seed, eval_per_group=a.eval_per_group)
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model, tok = models.load(cfg.base)
    results = {"config": asdict(cfg), "base": _summary(evaluate(model, tok, cfg.eval_per_group))}
    print("base", results["base"]["group"], flush=True)
    for arm in a.arms:
        results[arm] = run_arm(arm, replace(cfg))
        print(arm, results[arm]["train_s"], "s", results[arm]["group"], flush=True)
        (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
