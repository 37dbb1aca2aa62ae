"""One GRPO step and one SFT step on the micro model: TRL against a minimal plain-torch loop of the same
shape, measured in the same process; prints seconds per step, the ratio, and what dominates the step.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_train_step.py [--steps 6]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch
from transformers import TrainerCallback

from mathxfer.micro import grading, posttrain_data
from mathxfer.micro.evaluate import generate
from mathxfer.models import load_model, load_tokenizer, micro_base_dir
from mathxfer.train import load, train

PROMPTS, SAMPLES, NEW_TOKENS, SFT_BATCH = 16, 8, 32, 16


class StepTimer(TrainerCallback):
    def __init__(self) -> None:
        self.times: list[float] = []

    def on_step_begin(self, args, state, control, **kwargs):
        self._start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.times.append(time.perf_counter() - self._start)


def trl_step(recipe: str, steps: int, **extra: object) -> float:
    timer = StepTimer()
    with tempfile.TemporaryDirectory() as tmp:
        import os

        os.environ["MATHXFER_RESULTS"] = tmp
        train(load("micro", recipe, max_steps=steps, logging_steps=1000, save_steps=10_000, **extra),
              callbacks=[timer])
    return statistics.median(timer.times[1:] or timer.times)  # the first step pays warm-up costs


def minimal_grpo_step(model, tok, opt, items) -> dict[str, float]:
    t0 = time.perf_counter()
    questions = [it.question for it in items for _ in range(SAMPLES)]
    with torch.no_grad():
        responses = generate(model, tok, questions, NEW_TOKENS, batch_size=len(questions), do_sample=True,
                             temperature=0.7)
    t1 = time.perf_counter()
    rewards = torch.tensor([float(grading.is_correct(it, r)) for it, r in
                            zip([it for it in items for _ in range(SAMPLES)], responses)]).view(PROMPTS, SAMPLES)
    adv = ((rewards - rewards.mean(1, keepdim=True)) / (rewards.std(1, keepdim=True) + 1e-4)).flatten()
    t2 = time.perf_counter()
    texts = [grading.render(q, r) for q, r in zip(questions, responses)]
    enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    prompt_len = [len(tok(grading.render(q), add_special_tokens=False)["input_ids"]) for q in questions]
    logits = model(**enc).logits[:, :-1]
    logp = torch.log_softmax(logits, -1).gather(-1, enc["input_ids"][:, 1:, None]).squeeze(-1)
    mask = enc["attention_mask"][:, 1:].clone().float()
    pad = (enc["attention_mask"] == 0).sum(1)  # left padding
    for i, (p, n) in enumerate(zip(prompt_len, pad.tolist())):
        mask[i, : n + p - 1] = 0  # loss on response tokens only
    loss = -(logp * adv[:, None] * mask).sum() / mask.sum()  # token-mean policy gradient, ratio 1
    opt.zero_grad()
    loss.backward()
    opt.step()
    t3 = time.perf_counter()
    return {"total": t3 - t0, "generation": t1 - t0, "scoring": t2 - t1, "backward": t3 - t2}


def minimal_sft_step(model, tok, opt, items) -> float:
    t0 = time.perf_counter()
    texts = [grading.render(it.question, posttrain_data.target(it, "think")) for it in items]
    enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    labels = enc["input_ids"].masked_fill(enc["attention_mask"] == 0, -100)
    loss = model(**enc, labels=labels).loss
    opt.zero_grad()
    loss.backward()
    opt.step()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=6)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model, tok = load_model(str(micro_base_dir())), load_tokenizer(str(micro_base_dir()))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95))
    items = posttrain_data.math_prompts(PROMPTS * args.steps, seed=0)
    grpo = [minimal_grpo_step(model, tok, opt, items[i * PROMPTS:(i + 1) * PROMPTS]) for i in range(args.steps)]
    sft = [minimal_sft_step(model, tok, opt, items[i * SFT_BATCH:(i + 1) * SFT_BATCH]) for i in range(args.steps)]
    plain_grpo = statistics.median(g["total"] for g in grpo[1:])
    plain_sft = statistics.median(sft[1:])
    trl_grpo = trl_step("grpo", args.steps, per_device_train_batch_size=PROMPTS * SAMPLES,
                        max_completion_length=NEW_TOKENS, dataset_size=PROMPTS * args.steps)
    trl_sft = trl_step("sft-think", args.steps, per_device_train_batch_size=SFT_BATCH,
                       dataset_size=SFT_BATCH * args.steps)
    parts = {k: statistics.median(g[k] for g in grpo[1:]) for k in ("generation", "scoring", "backward")}
    print(f"GRPO step ({PROMPTS} prompts x {SAMPLES} samples, {NEW_TOKENS} new tokens): "
          f"TRL {trl_grpo:.3f}s, plain torch {plain_grpo:.3f}s, ratio {trl_grpo / plain_grpo:.2f}x")
    print("  plain-torch GRPO step split: " + ", ".join(f"{k} {v:.3f}s ({100 * v / plain_grpo:.0f}%)"
                                                         for k, v in parts.items()))
    print(f"SFT step (batch {SFT_BATCH}, teacher think targets): TRL {trl_sft:.3f}s, plain torch "
          f"{plain_sft:.3f}s, ratio {trl_sft / plain_sft:.2f}x")


if __name__ == "__main__":
    main()
