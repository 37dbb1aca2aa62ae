"""Each arm trains a few real TRL steps on the shipped micro base: weights move, the loss is finite,
an interrupted run resumes from its checkpoint, and a finished run is reused."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import TrainerCallback

from mathxfer.models import micro_base_dir
from mathxfer.train import load, train

SMALL = {"max_steps": 2, "dataset_size": 32, "logging_steps": 1, "save_steps": 1000}
ARMS = {
    "sft-think": {"per_device_train_batch_size": 8},
    "sft-nothink": {"per_device_train_batch_size": 8},
    "onpolicy-sft": {"per_device_train_batch_size": 8, "onpolicy_samples": 4},
    "grpo": {"per_device_train_batch_size": 64},  # 8 prompts x 8 samples: enough groups with signal
    "offpolicy-rl": {"per_device_train_batch_size": 64},
    "online-sft": {"per_device_train_batch_size": 64, "steps_per_generation": 2},  # one sample, two steps
}


@pytest.fixture(autouse=True)
def results_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("MATHXFER_RESULTS", str(tmp_path / "results"))


def weights(path) -> dict[str, torch.Tensor]:
    return load_file(str(path / "model.safetensors"))


@pytest.mark.parametrize("arm", list(ARMS))
def test_arm_changes_the_weights_and_logs_a_finite_loss(arm):
    record = train(load("micro", arm, **SMALL, **ARMS[arm]))
    before, after = weights(micro_base_dir()), weights(record.model_dir)
    moved = [name for name in before if not torch.equal(before[name], after[name])]
    assert moved, f"{arm}: no weight changed"
    losses = [row["loss"] for row in record.metrics() if "loss" in row]
    assert losses and all(math.isfinite(v) for v in losses)
    info = record.info()
    assert info["provenance"]["seed"] == 0 and info["provenance"]["git_sha"]
    assert info["recipe"]["method"] in ("sft", "grpo", "onpolicy_sft", "offpolicy_grpo", "online_sft")


def test_grpo_logs_reward_grad_norm_and_length():
    record = train(load("micro", "grpo", **SMALL, **ARMS["grpo"]))
    logged = [row for row in record.metrics() if "reward" in row]
    assert logged and all(0.0 <= row["reward"] <= 1.0 for row in logged)
    assert all("grad_norm" in row and "completions/mean_length" in row for row in logged)


def test_offpolicy_rl_trains_on_the_teachers_samples_not_the_policys():
    """Its completions are the teacher's no-think solutions, a share of them with a slip: about half are
    rewarded (teacher_error_rate 0.5), where the untrained micro base's own samples rarely are, and their
    length is the teacher's."""
    record = train(load("micro", "offpolicy-rl", **SMALL, **ARMS["offpolicy-rl"]))
    logged = [row for row in record.metrics() if "reward" in row]
    assert record.info()["recipe"]["method"] == "offpolicy_grpo" and len(logged) == 2
    assert all(0.3 < row["reward"] < 0.7 and row["reward_std"] > 0.3 for row in logged)
    assert all(row["frac_reward_zero_std"] < 0.5 for row in logged)  # groups with a mix: advantages to learn from
    # importance weights (the default): the ratio is the policy's probability, so PPO's clip acts on some tokens;
    # without them the ratio is 1 and nothing is clipped
    assert all(row["clip_ratio/low_mean"] > 0 for row in logged)
    plain = train(load("micro", "offpolicy-rl", **SMALL, **ARMS["offpolicy-rl"], teacher_importance_weights=False))
    assert plain.output_dir != record.output_dir  # another run: the weights are part of its key
    assert all(row["clip_ratio/low_mean"] == 0 for row in plain.metrics() if "reward" in row)


@pytest.mark.parametrize(("rewards", "kept"), [
    ([0, 1, 1, 0], [0, 1, 0, 0]),  # the first correct answer of a group, as the one-shot arm keeps
    ([1, 1, 0, 0], [1, 0, 0, 0]),
    ([0, 0, 0, 0], [0, 0, 0, 0]),  # a prompt the policy fails adds nothing
    ([0, 1, 1, 1, 1, 0, 0, 1], [0, 1, 0, 0, 1, 0, 0, 0]),  # two groups of 4
    ([0.5, 1, 0, 0], [0, 1, 0, 0]),  # only a full reward counts as correct
])
def test_online_sft_keeps_the_first_correct_answer_of_each_prompt(rewards, kept):
    from mathxfer.train.online_sft import first_correct

    assert first_correct(torch.tensor(rewards, dtype=torch.float32), 4).tolist() == kept


def test_online_sft_is_nll_on_the_current_policys_correct_samples():
    """Re-sampled every 2 steps from the policy being trained (its own accuracy, well below the teacher's),
    with the ratio fixed at 1 (nothing clipped) and the loss a mean over the kept tokens only: the logged
    surrogate of each step is minus its share of the kept tokens, so each sample's two steps average -1
    (a mean over all the sampled tokens would give minus the kept fraction, about -0.2)."""
    record = train(load("micro", "online-sft", **{**SMALL, "max_steps": 4}, **ARMS["online-sft"]))
    assert record.info()["recipe"]["method"] == "online_sft"
    rows = [row for row in record.metrics() if "loss" in row]
    sampled = [row for row in rows if "reward" in row]
    assert [row["step"] for row in sampled] == [1, 3]  # a new sample every steps_per_generation steps
    assert all(0.0 < row["reward"] < 0.6 for row in sampled)
    assert all(row["clip_ratio/low_mean"] == 0 and row["clip_ratio/high_mean"] == 0 for row in rows)
    losses = [row["loss"] for row in rows]
    assert losses[0] != losses[1]
    assert losses[0] + losses[1] == pytest.approx(-2.0, abs=1e-4)
    assert losses[2] + losses[3] == pytest.approx(-2.0, abs=1e-4)


def test_teacher_rollouts_are_the_teachers_text_seeded_by_step_and_position():
    from types import SimpleNamespace

    from mathxfer.micro import grading, posttrain_data
    from mathxfer.models import load_tokenizer
    from mathxfer.train.offpolicy import teacher_rollouts

    config = load("micro", "offpolicy-rl", **SMALL)
    tokenizer = load_tokenizer(micro_base_dir())
    rollout = teacher_rollouts(config, tokenizer)
    items = posttrain_data.math_prompts(4, seed=0)
    prompts = [grading.messages(it.question) for it in items for _ in range(8)]  # TRL repeats each prompt
    at = lambda step: rollout(prompts, SimpleNamespace(state=SimpleNamespace(global_step=step)))  # noqa: E731
    out = at(0)
    assert out == at(0) and out["completion_ids"] != at(1)["completion_ids"]  # a resumed step sees the same
    texts = [tokenizer.decode(ids, skip_special_tokens=True) for ids in out["completion_ids"]]
    correct = [grading.is_correct(items[i // 8], text) for i, text in enumerate(texts)]
    assert 8 <= sum(correct) <= 24 and all(t.endswith(t.split("Answer: ")[-1]) for t in texts)
    assert all(ids[-1] == tokenizer.eos_token_id for ids in out["completion_ids"])
    assert out["prompt_ids"][0] == tokenizer.apply_chat_template(prompts[0], add_generation_prompt=True,
                                                                 tokenize=True, return_dict=True)["input_ids"]
    assert [len(lp) for lp in out["logprobs"]] == [len(ids) for ids in out["completion_ids"]]


class Interrupt(TrainerCallback):
    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == 3:
            raise KeyboardInterrupt("simulated interruption")


class CountSteps(TrainerCallback):
    def __init__(self) -> None:
        self.steps: list[int] = []

    def on_step_end(self, args, state, control, **kwargs):
        self.steps.append(state.global_step)


def test_interrupted_run_resumes_from_its_checkpoint():
    config = load("micro", "sft-think", max_steps=4, save_steps=2, dataset_size=32, logging_steps=1,
                  per_device_train_batch_size=4)
    with pytest.raises(KeyboardInterrupt):
        train(config, callbacks=[Interrupt()])
    out = config.output_dir
    assert (Path(out) / "checkpoint-2").is_dir() and not (Path(out) / "run.json").exists()
    counter = CountSteps()
    record = train(load("micro", "sft-think", max_steps=4, save_steps=2, dataset_size=32, logging_steps=1,
                        per_device_train_batch_size=4), callbacks=[counter])
    assert counter.steps == [3, 4]  # only the steps after the checkpoint ran again
    assert not record.reused and json.loads((record.output_dir / "run.json").read_text())["method"] == "sft"
    again = train(load("micro", "sft-think", max_steps=4, save_steps=2, dataset_size=32, logging_steps=1,
                       per_device_train_batch_size=4))
    assert again.reused and again.output_dir == record.output_dir


def test_onpolicy_sample_is_drawn_once_for_runs_that_differ_in_training(monkeypatch):
    """The learning-rate control trains on the very sample its main run drew: the second run reads it
    from the cache (sampling is forbidden) and gets the same rows; a changed sampling field draws anew."""
    from mathxfer.micro import posttrain_data
    from mathxfer.train.data import dataset_for

    first = train(load("micro", "onpolicy-sft", **SMALL, **ARMS["onpolicy-sft"]))
    drawn = first.info()["train_examples"]

    def forbid(*_args, **_kwargs):
        raise AssertionError("sampled again although the sample is cached")

    monkeypatch.setattr(posttrain_data, "rejection_sample", forbid)
    control = train(load("micro", "onpolicy-sft", **SMALL, **ARMS["onpolicy-sft"], learning_rate=1.0e-4))
    assert not control.reused and control.info()["train_examples"] == drawn
    with pytest.raises(AssertionError, match="sampled again"):
        config = load("micro", "onpolicy-sft", **SMALL, **{**ARMS["onpolicy-sft"], "onpolicy_samples": 2})
        dataset_for(config, None, None)
