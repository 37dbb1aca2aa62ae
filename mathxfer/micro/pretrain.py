"""Pretrain the micro base from scratch on the world mix (loss on answer tokens only).

Reproducible: the tokenizer, the initial weights and every batch come from fixed seeds, and torch
runs on one thread. The recipe is the feasibility study's (AdamW betas 0.9/0.95, no weight decay,
clip 1.0, batch 64, a 2e-3 phase then a 1.5e-3 phase on fresh data, each warmup + cosine to 10%),
plus a third 1.5e-3 phase: 1200 + 1000 + 1600 steps, stopped after step 3200 where math sits mid-band
(``PretrainConfig.stop_after``); one command, ~25 min on one thread.

    python -m mathxfer.micro.pretrain --out /tmp/base && cp -r /tmp/base/. data/micro/base/

(data/micro/base/TRAINING.md holds the shipped base's record; ``--init-from`` continues a saved model).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from transformers import LlamaForCausalLM, PreTrainedTokenizerFast

from mathxfer.groups import Group
from mathxfer.micro import world
from mathxfer.micro.grading import render
from mathxfer.micro.model import ModelConfig, build_model, n_params
from mathxfer.micro.tokenizer import TOKENIZER_SEED, train_tokenizer, corpus

IGNORE = -100


@dataclass(frozen=True)
class Phase:
    steps: int
    lr: float
    warmup: int
    data_seed: int  # each phase reads a fresh stream of train items
    final_lr_ratio: float = 0.1


@dataclass(frozen=True)
class PretrainConfig:
    out_dir: str = "data/micro/base"
    seed: int = 0  # model initialisation
    batch_size: int = 64
    phases: tuple[Phase, ...] = (Phase(1200, 2e-3, 50, 1000), Phase(1000, 1.5e-3, 20, 2000),
                                 Phase(1600, 1.5e-3, 20, 3000))
    model: ModelConfig = field(default_factory=ModelConfig)
    mix: tuple[tuple[Group, float], ...] = (("math", 0.4), ("other", 0.3), ("non", 0.3))
    betas: tuple[float, float] = (0.9, 0.95)
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    tokenizer_items: int = 20_000
    eval_per_group: int = 200  # held-out items per group evaluated at the end (0 skips)
    log_every: int = 50
    snapshot_every: int = 0  # save + quickly evaluate every N steps (0: never), to see the trajectory
    snapshot_dir: str | None = None  # where snapshots go (default: <out_dir>/snapshots)
    snapshot_eval: int = 100  # held-out items per group for a snapshot's quick evaluation
    threads: int = 1
    init_from: str | None = None  # continue from a saved micro model (its tokenizer is reused)
    # Stop here, mid-schedule (None: run every phase to its end). The full 3800-step schedule overshoots
    # the 20-50% math band (58.5% held-out); at step 3200 the base sits mid-band (35%).
    stop_after: int | None = 3200


def encode_sft(tokenizer: PreTrainedTokenizerFast, pairs: list[tuple[str, str]]) -> dict[str, torch.Tensor]:
    """Right-padded input ids and labels for (question, answer) pairs; labels cover the answer + end only."""
    prompts = tokenizer([render(q) for q, _ in pairs], add_special_tokens=False)["input_ids"]
    fulls = tokenizer([render(q, a) for q, a in pairs], add_special_tokens=False)["input_ids"]
    width = max(len(f) for f in fulls)
    ids = torch.full((len(pairs), width), tokenizer.pad_token_id, dtype=torch.long)
    labels = torch.full((len(pairs), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(pairs), width), dtype=torch.long)
    for i, (p, f) in enumerate(zip(prompts, fulls)):
        if f[:len(p)] != p:  # the prompt must tokenize as a prefix, or the mask would be wrong
            raise ValueError(f"prompt is not a token prefix of the full text for item {i}")
        ids[i, :len(f)] = torch.tensor(f)
        labels[i, len(p):len(f)] = torch.tensor(f[len(p):])
        mask[i, :len(f)] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


def lr_at(step: int, phase: Phase) -> float:
    if step < phase.warmup:
        return phase.lr * (step + 1) / phase.warmup
    progress = (step - phase.warmup) / max(1, phase.steps - phase.warmup)
    return phase.lr * (phase.final_lr_ratio + (1 - phase.final_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def batches(tokenizer: PreTrainedTokenizerFast, seed: int, batch_size: int,
            mix: dict[Group, float]) -> Iterator[dict[str, torch.Tensor]]:
    stream = world.iter_items(seed, "train", mix)
    while True:
        items = [next(stream) for _ in range(batch_size)]
        yield encode_sft(tokenizer, [(it.question, it.answer) for it in items])


def train_steps(model: LlamaForCausalLM, opt: torch.optim.Optimizer, data: Iterator[dict[str, torch.Tensor]],
                phase: Phase, grad_clip: float, log: Callable[[int, float], None], until: int | None = None) -> list[float]:
    """The phase's steps (or its first ``until``), each at its scheduled lr."""
    model.train()
    losses: list[float] = []
    for step in range(phase.steps if until is None else min(until, phase.steps)):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, phase)
        loss = model(**next(data)).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        opt.step()
        losses.append(loss.item())
        log(step, loss.item())
    return losses


def snapshot(model: LlamaForCausalLM, tokenizer: PreTrainedTokenizerFast, cfg: PretrainConfig, step: int,
             say: Callable[[str], None]) -> None:
    """Save the model mid-run and log a quick held-out score (greedy: no RNG is consumed)."""
    from mathxfer.micro.evaluate import evaluate

    where = Path(cfg.snapshot_dir or Path(cfg.out_dir) / "snapshots") / f"step_{step}"
    model.save_pretrained(where)
    tokenizer.save_pretrained(where)
    acc = evaluate(model, tokenizer, cfg.snapshot_eval).accuracy("group")
    (where / "quick_eval.json").write_text(json.dumps({"step": step, "accuracy": acc}) + "\n")
    say(f"snapshot step {step}: {where} quick accuracy {({k: round(v, 3) for k, v in acc.items()})}")
    model.train()


def pretrain(cfg: PretrainConfig, log_file: Path | None = None, command: str | None = None) -> dict[str, object]:
    """Train the base, save it (HF dir + tokenizer + training.json) to ``cfg.out_dir``, return the record."""
    torch.set_num_threads(cfg.threads)
    t0 = time.time()
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    logf = open(log_file, "a") if log_file else None

    def say(msg: str) -> None:
        line = f"[{time.time() - t0:7.1f}s] {msg}"
        print(line, flush=True)
        if logf:
            logf.write(line + "\n")
            logf.flush()

    if cfg.init_from:
        from mathxfer.models import load

        model, tokenizer = load(cfg.init_from)
        torch.manual_seed(cfg.seed)
        say(f"continuing from {cfg.init_from}")
    else:
        tokenizer = train_tokenizer(corpus(cfg.tokenizer_items, TOKENIZER_SEED))
        model = build_model(cfg.model, tokenizer, cfg.seed)
    say(f"model {n_params(model):,} parameters, vocab {len(tokenizer)}")
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.phases[0].lr, betas=cfg.betas, weight_decay=cfg.weight_decay)
    mix = dict(cfg.mix)
    phase_losses: list[float] = []
    done = 0  # steps finished in earlier phases
    for k, phase in enumerate(cfg.phases):
        until = None if cfg.stop_after is None else cfg.stop_after - done
        if until is not None and until <= 0:
            break
        window: list[float] = []

        def log(step: int, loss: float, k: int = k, window: list[float] = window, done: int = done) -> None:
            window.append(loss)
            if (step + 1) % cfg.log_every == 0:
                say(f"phase {k} step {step + 1}/{cfg.phases[k].steps} loss {sum(window) / len(window):.4f}")
                window.clear()
            if cfg.snapshot_every and (done + step + 1) % cfg.snapshot_every == 0:
                snapshot(model, tokenizer, cfg, done + step + 1, say)

        losses = train_steps(model, opt, batches(tokenizer, phase.data_seed, cfg.batch_size, mix), phase, cfg.grad_clip,
                             log, until)
        phase_losses.append(sum(losses[-50:]) / len(losses[-50:]))
        done += len(losses)
    train_s = time.time() - t0
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    record: dict[str, object] = {
        "command": command,
        "config": asdict(cfg), "world": asdict(world.DEFAULT_WORLD),
        "world_fingerprint": world.fingerprint(), "n_params": n_params(model), "train_wall_s": round(train_s, 1),
        "steps_trained": done, "final_loss_per_phase": [round(x, 4) for x in phase_losses], "torch": torch.__version__,
    }
    if cfg.eval_per_group:
        from mathxfer.micro.evaluate import evaluate

        result = evaluate(model, tokenizer, cfg.eval_per_group)
        record["heldout_accuracy_group"] = {k: round(v, 4) for k, v in result.accuracy("group").items()}
        record["heldout_accuracy_family"] = {k: round(v, 4) for k, v in result.accuracy("family").items()}
        say(f"held-out accuracy by group {record['heldout_accuracy_group']}")
        say(f"held-out accuracy by family {record['heldout_accuracy_family']}")
    record["total_wall_s"] = round(time.time() - t0, 1)
    (out / "training.json").write_text(json.dumps(record, indent=2) + "\n")
    (out / "TRAINING.md").write_text(training_md(record))
    say(f"saved to {out}")
    if logf:
        logf.close()
    return record


def _knobs(world_config: dict[str, object]) -> str:
    return ", ".join(f"{k}={v}" for k, v in world_config.items())


def training_md(record: dict[str, object]) -> str:
    """A human-readable summary of ``training.json`` (which stays the source of truth)."""
    cfg = record["config"]
    lines = ["# Micro base model", "",
             "A ~1M-parameter `LlamaForCausalLM` pretrained from scratch by `mathxfer.micro.pretrain` on the",
             "micro world (40% math, 30% other reasoning, 30% non-reasoning; loss on answer tokens).", "",
             f"- command: `{record['command']}`",
             f"- parameters: {record['n_params']:,}; seed {cfg['seed']}; batch {cfg['batch_size']}",
             *([f"- world (`mathxfer.micro.world.WorldConfig`): {_knobs(record['world'])}"] if "world" in record else []),
             "- phases: " + "; ".join(f"{p['steps']} steps at lr {p['lr']} (warmup {p['warmup']}, cosine to "
                                       f"{p['final_lr_ratio']:.0%}, data seed {p['data_seed']})" for p in cfg["phases"]),
             *([f"- stopped after step {record['steps_trained']} of the schedule (`stop_after`)"]
               if cfg.get("stop_after") else []),
             f"- training wall time: {record['train_wall_s']} s (1 thread, torch {record['torch']})",
             f"- final loss per phase (mean of the last 50 steps): {record['final_loss_per_phase']}", ""]
    if "heldout_accuracy_group" in record:
        lines += ["Held-out accuracy (greedy, exact grader, "
                  f"{cfg['eval_per_group']} items per group, eval seeds 777/778/779):", "",
                  "| group | accuracy |", "|---|---|"]
        lines += [f"| {g} | {a:.3f} |" for g, a in record["heldout_accuracy_group"].items()]
        lines += ["", "| family | accuracy |", "|---|---|"]
        lines += [f"| {f} | {a:.3f} |" for f, a in record["heldout_accuracy_family"].items()]
    lines += ["", "Full record: `training.json`. Reproduce with the command above (seeded, one thread)."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=PretrainConfig.out_dir)
    p.add_argument("--seed", type=int, default=PretrainConfig.seed)
    p.add_argument("--steps", type=int, nargs="*",
                   help="steps per phase; fewer numbers than phases run only the first ones (default: 1200 1000 1600)")
    p.add_argument("--eval-per-group", type=int, default=PretrainConfig.eval_per_group)
    p.add_argument("--log", type=Path, help="also append progress lines to this file")
    p.add_argument("--init-from", help="continue training a saved micro model (one extra phase)")
    p.add_argument("--lr", type=float, default=1.5e-3, help="with --init-from: the phase's peak lr")
    p.add_argument("--data-seed", type=int, default=3000, help="with --init-from: a fresh data stream")
    p.add_argument("--snapshot-every", type=int, default=0, help="save + quick-evaluate every N steps")
    p.add_argument("--snapshot-dir", help="where snapshots go (default: <out>/snapshots)")
    p.add_argument("--stop-after", type=int,
                   help=f"stop after this many steps of the schedule (0: run it to the end; default "
                        f"{PretrainConfig.stop_after}, or the end with --init-from)")
    a = p.parse_args(argv)
    phases = PretrainConfig.phases
    if a.init_from:
        if not a.steps or len(a.steps) != 1:
            p.error("--init-from needs --steps N (one continuation phase)")
        phases = (Phase(a.steps[0], a.lr, min(20, a.steps[0]), a.data_seed),)
    elif a.steps:
        if len(a.steps) > len(phases):
            p.error(f"--steps takes at most {len(phases)} numbers, one per phase")
        phases = tuple(Phase(s, ph.lr, min(ph.warmup, s), ph.data_seed) for s, ph in zip(a.steps, phases))
    stop = a.stop_after if a.stop_after is not None else (None if a.init_from else PretrainConfig.stop_after)
    command = " ".join(["python", "-m", "mathxfer.micro.pretrain", *(argv if argv is not None else sys.argv[1:])])
    pretrain(PretrainConfig(out_dir=a.out, seed=a.seed, phases=phases, eval_per_group=a.eval_per_group,
                            init_from=a.init_from, snapshot_every=a.snapshot_every, snapshot_dir=a.snapshot_dir,
                            stop_after=stop or None), a.log, command)


if __name__ == "__main__":
    main()
