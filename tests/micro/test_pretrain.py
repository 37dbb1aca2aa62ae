from __future__ import annotations

from pathlib import Path

import torch

from mathxfer import models
from mathxfer.micro import world
from mathxfer.micro.model import ModelConfig, build_model
from mathxfer.micro.pretrain import IGNORE, Phase, PretrainConfig, batches, encode_sft, pretrain, train_steps

TINY = ModelConfig(hidden=64, layers=2, heads=2, ffn=128)


def test_labels_cover_only_the_answer_and_end(small_tokenizer) -> None:
    it = world.sample(1, 0, "train")[0]
    enc = encode_sft(small_tokenizer, [(it.question, it.answer), ("short?", "x")])
    row = enc["labels"][0]
    assert small_tokenizer.decode(row[row != IGNORE]) == it.answer + "<|end|>"
    assert (enc["labels"][1][enc["attention_mask"][1] == 0] == IGNORE).all()


def test_thirty_steps_lower_the_loss(small_tokenizer) -> None:
    model = build_model(TINY, small_tokenizer, seed=0)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.95))
    data = batches(small_tokenizer, seed=11, batch_size=16, mix={"math": 0.4, "other": 0.3, "non": 0.3})
    losses = train_steps(model, opt, data, Phase(30, 3e-3, 5, 11), 1.0, lambda *_: None)
    assert sum(losses[-5:]) / 5 < 0.7 * sum(losses[:5]) / 5


def test_pretrain_is_seeded_and_saves_a_loadable_model(tmp_path: Path) -> None:
    def run(out: Path, snapshot_every: int) -> dict:
        cfg = PretrainConfig(out_dir=str(out), phases=(Phase(4, 2e-3, 2, 1), Phase(3, 1e-3, 1, 2)),
                             batch_size=8, model=TINY, tokenizer_items=1500, eval_per_group=0, log_every=2,
                             snapshot_every=snapshot_every, snapshot_eval=3)
        return pretrain(cfg)

    # same seed, same losses; and mid-run snapshots (save + greedy eval) do not perturb training
    a, b = run(tmp_path / "a", 0), run(tmp_path / "b", 5)
    assert a["final_loss_per_phase"] == b["final_loss_per_phase"]
    assert (tmp_path / "b" / "snapshots" / "step_5" / "quick_eval.json").exists()
    model, tok = models.load(tmp_path / "a")
    assert model.config.model_type == "llama" and tok.eos_token == "<|end|>"
    assert (tmp_path / "a" / "training.json").exists()


def test_stopping_mid_schedule_equals_the_full_runs_snapshot(tmp_path: Path) -> None:
    """The shipped base is the recipe stopped at step 3200: the same weights the full run snapshots there."""
    from safetensors.torch import load_file

    def run(out: Path, **kw: object) -> dict:
        cfg = PretrainConfig(out_dir=str(out), phases=(Phase(4, 2e-3, 2, 1), Phase(3, 1e-3, 1, 2)), batch_size=8,
                             model=TINY, tokenizer_items=1500, eval_per_group=0, log_every=2, snapshot_eval=3, **kw)
        return pretrain(cfg)

    full, stopped = run(tmp_path / "full", snapshot_every=5, stop_after=None), run(tmp_path / "stop", stop_after=5)
    assert full["steps_trained"] == 7 and stopped["steps_trained"] == 5
    snap = load_file(tmp_path / "full" / "snapshots" / "step_5" / "model.safetensors")
    ours = load_file(tmp_path / "stop" / "model.safetensors")
    assert snap.keys() == ours.keys() and all(torch.equal(snap[k], ours[k]) for k in snap)
    end = load_file(tmp_path / "full" / "model.safetensors")
    assert not all(torch.equal(end[k], ours[k]) for k in end)  # two more steps do change the weights
