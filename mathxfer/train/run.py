"""Run one post-training arm with TRL: the folder is keyed by the recipe, a finished run is reused,
an interrupted one resumes from its last checkpoint.

Folder layout (``config.output_dir``)::

    checkpoint-N/     TRL/transformers checkpoints while training (resume points)
    model/            the final model and tokenizer (what evaluation and the analyses load)
    metrics.jsonl     every logged step: loss, grad_norm, reward, completion length, kl ...
    run.json          written last, atomically: recipe, provenance, wall time, summary
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mathxfer.provenance import provenance, write_atomic, write_json_atomic
from mathxfer.train.config import GRPORunConfig, OnPolicySFTConfig, SFTRunConfig
from mathxfer.train.data import dataset_for, task_data


@dataclass(frozen=True)
class RunRecord:
    method: str
    output_dir: Path
    seconds: float
    reused: bool

    @property
    def model_dir(self) -> Path:
        return self.output_dir / "model"

    def metrics(self) -> list[dict[str, Any]]:
        path = self.output_dir / "metrics.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def info(self) -> dict[str, Any]:
        return json.loads((self.output_dir / "run.json").read_text())


def method_of(config: Any) -> str:
    if isinstance(config, GRPORunConfig):
        return "grpo"
    if isinstance(config, OnPolicySFTConfig):
        return "onpolicy_sft"
    if isinstance(config, SFTRunConfig):
        return "sft"
    raise TypeError(f"{type(config).__name__} is not a mathxfer run config")


def _last_checkpoint(out: Path) -> str | None:
    points = sorted(out.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]))
    return str(points[-1]) if points else None


def _trainer(config: Any, model: Any, tokenizer: Any, train_set: Any, callbacks: list[Any]) -> Any:
    import trl

    if isinstance(config, GRPORunConfig):
        data = task_data(config.dataset_name)
        return trl.GRPOTrainer(model=model, reward_funcs=[data.reward], args=config, train_dataset=train_set,
                               processing_class=tokenizer, callbacks=callbacks)
    return trl.SFTTrainer(model=model, args=config, train_dataset=train_set, processing_class=tokenizer,
                          callbacks=callbacks)


def train(config: Any, recipe: dict[str, Any] | None = None, callbacks: list[Any] | None = None) -> RunRecord:
    """Train the arm ``config`` describes (see ``mathxfer.train.recipes.load``), or reuse a finished run."""
    from mathxfer.models import load_model, load_tokenizer

    method = method_of(config)
    out = Path(config.output_dir)
    if (out / "run.json").exists():
        return RunRecord(method, out, 0.0, reused=True)
    start = time.perf_counter()
    tokenizer = load_tokenizer(config.model_name_or_path, gguf_file=config.gguf_file)
    model = load_model(config.model_name_or_path, gguf_file=config.gguf_file)
    train_set = dataset_for(config, model, tokenizer)
    trainer = _trainer(config, model, tokenizer, train_set, list(callbacks or []))
    trainer.train(resume_from_checkpoint=_last_checkpoint(out))
    trainer.save_model(str(out / "model"))
    tokenizer.save_pretrained(str(out / "model"))
    history = trainer.state.log_history
    write_atomic(out / "metrics.jsonl", "".join(json.dumps(row) + "\n" for row in history))
    seconds = time.perf_counter() - start
    final = next((row for row in reversed(history) if "train_loss" in row), {})
    write_json_atomic(out / "run.json", {
        "method": method, "recipe": recipe or {}, "train_examples": len(train_set),
        "wall_seconds": round(seconds, 1), "final": final,
        "provenance": provenance({"method": method, **(recipe or {})}, seed=config.seed),
    })
    return RunRecord(method, out, seconds, reused=False)
