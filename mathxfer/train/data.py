"""Post-training data per task source: the same math prompts feed every arm (SFT targets, GRPO prompts
with gold answers, on-policy samples), and each source brings the one grader its reward uses.

SFT data is conversational prompt/completion, so TRL computes the loss on the assistant part only with
any chat template (SmolLM2's and Qwen3's have no ``{% generation %}`` markers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datasets import Dataset

from mathxfer.errors import UsageError


class TrainingDataError(UsageError):
    """A run with nothing to train on: the message names the run and the fix."""


@dataclass(frozen=True)
class TaskData:
    """How one data source builds each arm's training set."""

    name: str
    sft: Callable[[Any], Dataset]  # (config) -> messages dataset with the config's sft_target
    rl: Callable[[Any], Dataset]  # (config) -> prompt / answer / task dataset
    onpolicy: Callable[[Any, Any, Any], Dataset]  # (config, model, tokenizer) -> messages of kept samples
    reward: Callable[..., list[float]]  # TRL signature, built on the shared grader
    version: str = "1"  # part of every run's key: bump (or derive) it when the data a config yields changes
    source: Callable[[str | None], str] = lambda _data_dir: ""  # (data_dir) -> what the rows are read from
    whole_set: bool = False  # a fixed set of rows: dataset_size 0 takes every row (_seeded_sample)
    onpolicy_fields: tuple[str, ...] = ()  # config fields its sampler also depends on, beyond ONPOLICY_FIELDS
    # (config) -> (question, rng) -> one sample of the teacher that errs (off-policy RL); None: no such teacher
    teacher: Callable[[Any], Callable[[str, Any], str]] | None = None

    def data_version(self, data_dir: str | None) -> str:
        """What identifies the data a run of this source trains on: its version and, for data read from files
        or the hub, their fingerprint (a changed local copy makes every run on it a new run)."""
        source = self.source(data_dir)
        return f"{self.version}-{source}" if source else self.version


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

    from mathxfer.micro import teacher, world

    def teacher_of(config: Any) -> Callable[[str, Any], str]:
        style = {"think": "think", "no-think": "no_think"}.get(config.teacher_target)
        if style is None:
            raise ValueError(f"teacher_target {config.teacher_target!r} is not one of think, no-think")
        items = {item.question: item for item in prompts(config)}
        return lambda question, rng: teacher.sample(items[question], style, config.teacher_error_rate, rng)

    return TaskData("micro-math", sft, lambda c: posttrain_data.rl_dataset(prompts(c)), onpolicy, grading.reward,
                    version=f"world-{world.fingerprint()}-teacher-{teacher.TEACHER_VERSION}", teacher=teacher_of)


RL_SUFFIX = " Let's think step by step and output the final answer in the \\boxed{}."  # the paper's RL prompt


def _seeded_sample(rows: list[dict[str, Any]], n: int, seed: int) -> list[dict[str, Any]]:
    import random

    rows = list(rows)
    random.Random(seed).shuffle(rows)
    return rows[:n] if n > 0 else rows


def _rl_rows(rows: list[dict[str, Any]], suffix: str = RL_SUFFIX) -> Dataset:
    return Dataset.from_dict({"prompt": [[{"role": "user", "content": r["question"] + suffix}] for r in rows],
                              "answer": [r["answer"] for r in rows]})


def _messages(rows: list[dict[str, Any]], key: str) -> Dataset:
    return Dataset.from_dict({"messages": [[{"role": "user", "content": r["question"]},
                                            {"role": "assistant", "content": r[key]}] for r in rows]})


GENERIC_ONPOLICY_FIELDS = ("onpolicy_batch_size",)  # the batch changes the seeded stream's draws


def _onpolicy_generic(rows_of: Callable[[Any], list[dict[str, Any]]], suffix: str = ""
                      ) -> Callable[[Any, Any, Any], Dataset]:
    """Rejection sampling for real models: k samples per prompt with transformers (batched), graded by
    math-verify; each prompt is the row's question and ``suffix``."""
    def build(config: Any, model: Any, tokenizer: Any) -> Dataset:
        import torch

        from mathxfer.eval.backends import render_chat
        from mathxfer.eval.grading import grade_math
        from mathxfer.generation import generate

        torch.manual_seed(config.seed)  # one seeded stream for the whole pass
        rows = rows_of(config)
        questions = [row["question"] + suffix for row in rows]
        samples = generate(model, tokenizer, [render_chat(tokenizer, q, thinking=False) for q in questions],
                           max_new_tokens=config.onpolicy_max_new_tokens, n=config.onpolicy_samples, greedy=False,
                           temperature=config.onpolicy_temperature, batch_size=config.onpolicy_batch_size)
        kept = []
        for question, row, gens in zip(questions, rows, samples):
            good = [g.text for g in gens if grade_math(g.text, {"answer": row["answer"]}).score == 1.0]
            if good:
                kept.append({"question": question, "response": good[0]})
        return _messages(kept, "response") if kept else Dataset.from_dict({"messages": []})

    return build


EASY_STEPS = 2  # gsm8k-easy: problems solved in at most this many annotated calculations


def _worked(name: str, raw_rows: Callable[[Any], list[dict[str, Any]]], suffix: str, version: str,
            source: Callable[[str | None], str], max_steps: int | None = None) -> Callable[[], TaskData]:
    """Rows in GSM8K's schema (a worked solution with calculator annotations and a ``#### N`` line): the
    questions with gold numbers for GRPO and on-policy sampling, the solutions as think / no-think SFT targets
    (``mathxfer.mathdata.worked``). Every arm sees the same prompt: the question, then ``suffix``; ``max_steps``
    keeps the problems solved in at most that many calculations."""
    def build() -> TaskData:
        from mathxfer.eval.reward import build_reward
        from mathxfer.mathdata import worked

        def rows(config: Any) -> list[dict[str, Any]]:
            solutions = [worked.parse(r) for r in raw_rows(config)]
            kept = [s for s in solutions if max_steps is None or 1 <= s.steps <= max_steps]
            return _seeded_sample([{"question": s.question + suffix, "answer": s.answer, "solution": s}
                                   for s in kept], config.dataset_size, config.dataset_seed + config.seed)

        def sft(config: Any) -> Dataset:
            return _messages([{"question": r["question"], "target": worked.target(r["solution"], config.sft_target)}
                              for r in rows(config)], "target")

        return TaskData(name, sft, lambda c: _rl_rows(rows(c), suffix=""), _onpolicy_generic(rows), build_reward("math"), version=version,
                        whole_set=True, source=source, onpolicy_fields=GENERIC_ONPOLICY_FIELDS)

    return build


def _gsm8k_rows(config: Any) -> list[dict[str, Any]]:
    return _load_rows("gsm8k", config.data_dir, ("openai/gsm8k", "main"), "train.jsonl")


def _gsm8k_source(data_dir: str | None) -> str:
    return _source("gsm8k", data_dir, ("openai/gsm8k", "main"), "train.jsonl")


WORD_PROBLEMS_TRAIN = 20000  # rows in the word-problems training pool (a dataset_size draw from it)


def _word_problem_rows(_config: Any) -> list[dict[str, Any]]:
    from mathxfer.mathdata import word_problems

    return word_problems.rows(WORD_PROBLEMS_TRAIN, seed=0, split="train")


def _word_problems() -> Callable[[], TaskData]:
    from mathxfer.mathdata import word_problems

    # the question alone: measured on SmolLM2-135M, the paper's RL suffix drops its greedy accuracy on these
    # problems from 8/48 to 1/48 (it then rambles past its budget), leaving GRPO no reward to learn from
    return _worked("word-problems", _word_problem_rows, "", f"wp-{word_problems.VERSION}", lambda _d: "")


def _unireason() -> TaskData:
    """paper profile: the authors' released math data (hub only): math_rl_48k for GRPO, math_sft_40K for SFT."""
    from mathxfer.eval.reward import build_reward

    def rl_rows(config: Any) -> list[dict[str, Any]]:
        raw = _load_rows("math_rl_48k", None, ("ReasoningTransferability/math_rl_48k", None), "")
        return _seeded_sample([{"question": r["question"], "answer": str(r["golden_answer"])} for r in raw],
                              config.dataset_size, config.dataset_seed + config.seed)

    def sft(config: Any) -> Dataset:
        key = {"think": "think_response", "no-think": "no_think_response"}.get(config.sft_target)
        if key is None:
            raise ValueError(f"math_sft_40K has think and no-think targets, not {config.sft_target!r}")
        raw = _load_rows("math_sft_40K", None, ("ReasoningTransferability/math_sft_40K", None), "")
        return _messages(_seeded_sample(raw, config.dataset_size, config.dataset_seed + config.seed), key)

    return TaskData("unireason-math", sft, lambda c: _rl_rows(rl_rows(c)), _onpolicy_generic(rl_rows, RL_SUFFIX),
                    build_reward("math"), whole_set=True, source=lambda _data_dir: "hub:ReasoningTransferability@main",
                    onpolicy_fields=GENERIC_ONPOLICY_FIELDS)


def _local_file(name: str, data_dir: str | None, local_file: str) -> Path | None:
    """The local copy ``data_dir/<name>/<local_file>`` when there is one."""
    from mathxfer.eval.data import (
        default_data_dir,  # the one rule: argument, else $MATHXFER_DATA_DIR, else hub
    )

    folder = default_data_dir(data_dir)
    path = folder / name / local_file if folder and local_file else None
    return path if path is not None and path.is_file() else None


def _source(name: str, data_dir: str | None, hub: tuple[str, str | None], local_file: str) -> str:
    """The fingerprint of what ``_load_rows`` reads: the local file's contents, else the hub dataset's name."""
    from mathxfer.identity import content_digest

    path = _local_file(name, data_dir, local_file)
    return f"local:{content_digest([(local_file, path)])}" if path else f"hub:{hub[0]}:{hub[1]}@main"


def _load_rows(name: str, data_dir: str | None, hub: tuple[str, str | None], local_file: str) -> list[dict[str, Any]]:
    """A local copy (``data_dir/<name>/<local_file>``, JSON Lines) when given, else the Hugging Face hub."""
    from mathxfer.errors import read_json_lines

    path = _local_file(name, data_dir, local_file)
    if path is not None:
        return read_json_lines(path, "restore the file from its source, or point data_dir elsewhere")
    from datasets import load_dataset

    from mathxfer.eval.data import default_data_dir

    folder = default_data_dir(data_dir)

    try:
        return list(load_dataset(hub[0], hub[1], split="train"))
    except Exception as err:  # offline, or the hub refused: say where we looked
        raise FileNotFoundError(f"{name}: no local copy at {folder}/{name}/{local_file or '-'} and the hub dataset "
                                f"{hub[0]} could not be loaded ({type(err).__name__}). Fix: pass data_dir (or "
                                "MATHXFER_DATA_DIR) pointing at a folder with the file, or go online") from err


DATASETS: dict[str, Callable[[], TaskData]] = {
    "micro-math": _micro, "unireason-math": _unireason, "word-problems": _word_problems(),
    "gsm8k": _worked("gsm8k", _gsm8k_rows, RL_SUFFIX, "2", _gsm8k_source),
    "gsm8k-easy": _worked("gsm8k-easy", _gsm8k_rows, RL_SUFFIX, f"2-steps{EASY_STEPS}", _gsm8k_source, EASY_STEPS)}


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
        kept = onpolicy_sample(config, data, model, tokenizer)
        if len(kept) == 0:
            raise TrainingDataError(
                f"on-policy sampling kept no correct answer from {config.dataset_size} prompts x "
                f"{config.onpolicy_samples} samples: the starting model {config.model_name_or_path!r} solves none. "
                "Fix: start from a model that solves some prompts, or raise onpolicy_samples")
        return to_prompt_completion(kept)
    return to_prompt_completion(data.sft(config))


ONPOLICY_FIELDS = ("dataset_name", "dataset_size", "dataset_seed", "data_dir", "seed", "onpolicy_samples",
                   "onpolicy_temperature", "onpolicy_max_new_tokens")  # what the sample depends on, with the base


def onpolicy_sample(config: Any, data: TaskData, model: Any, tokenizer: Any) -> Dataset:
    """The rejection sample of the starting policy, cached by everything it depends on: runs that differ only
    in how they train on it (the learning-rate control) sample once."""
    import json

    from mathxfer.models import identity
    from mathxfer.paths import cache_dir
    from mathxfer.provenance import config_key, provenance, write_json_atomic

    key_config = {"kind": "onpolicy", "version": data.version,
                  **{f: getattr(config, f) for f in (*ONPOLICY_FIELDS, *data.onpolicy_fields)},
                  "base_identity": identity(config.model_name_or_path, gguf_file=config.gguf_file)}
    path = cache_dir("onpolicy") / f"{config_key(key_config)}.json"
    if path.is_file():
        return Dataset.from_list(json.loads(path.read_text())["rows"])
    kept = data.onpolicy(config, model, tokenizer)
    write_json_atomic(path, {"provenance": provenance(key_config, seed=config.seed), "rows": list(kept)})
    return kept
