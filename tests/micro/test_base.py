"""The shipped base (data/micro/base) loads through the shared loader and sits in its bands."""

from __future__ import annotations

import json

import pytest

from mathxfer import models
from mathxfer.micro import world
from mathxfer.micro.evaluate import evaluate
from mathxfer.micro.posttrain_data import math_prompts, rejection_sample

BASE = models.micro_base_dir()
pytestmark = pytest.mark.skipif(not (BASE / "model.safetensors").exists(),
                                reason=f"no shipped base at {BASE}; run python -m mathxfer.micro.pretrain")


@pytest.fixture(scope="module")
def base():
    return models.load(BASE)


def test_shipped_base_is_a_1m_llama(base) -> None:
    model, tok = base
    assert model.config.model_type == "llama" and 0.8e6 < model.num_parameters() < 1.2e6
    assert tok.padding_side == "left" and tok.chat_template and "generation" in tok.chat_template


def test_base_accuracy_bands_and_record(base) -> None:
    model, tok = base
    result = evaluate(model, tok, n_per_group=200)
    acc = result.accuracy("group")
    assert 0.20 <= acc["math"] <= 0.50, acc  # the design's bands: mid math, weak-to-mid other, strong non
    assert 0.15 <= acc["other"] <= 0.60, acc
    assert acc["non"] >= 0.90, acc
    record = json.loads((BASE / "training.json").read_text())
    for group, value in record["heldout_accuracy_group"].items():
        assert abs(value - acc[group]) < 0.03, (group, value, acc[group])  # greedy: reproducible
    assert {r.family for r in result.records} == set(world.FAMILIES)


def test_rejection_sampling_keeps_only_correct_on_policy_samples(base) -> None:
    model, tok = base
    rs = rejection_sample(model, tok, math_prompts(16, seed=0), k=4, temperature=0.7, seed=0)
    assert rs.samples == 64 and 0 < rs.prompts_solved <= 16 and len(rs.pairs) == rs.prompts_solved
    assert all(it.answer.split("Answer: ")[1] in resp for it, resp in rs.pairs)
    assert len(rs.dataset()) == len(rs.pairs)


def test_base_was_trained_on_the_current_world() -> None:
    record = json.loads((BASE / "training.json").read_text())
    assert record["world_fingerprint"] == world.fingerprint(), (
        "the world's generators changed since the shipped base was trained; retrain it "
        "(python -m mathxfer.micro.pretrain, see data/micro/base/TRAINING.md)")


def test_the_tokenizer_corpus_still_rebuilds_the_shipped_tokenizer(base) -> None:
    from mathxfer.micro.tokenizer import corpus, train_tokenizer

    _, shipped = base
    rebuilt = train_tokenizer(corpus())
    merges = [json.loads(t.backend_tokenizer.to_str())["model"]["merges"] for t in (rebuilt, shipped)]
    assert rebuilt.get_vocab() == shipped.get_vocab() and merges[0] == merges[1], (
        "the tokenizer corpus changed since the base was trained (mathxfer.micro.tokenizer.corpus); "
        "restore it or retrain the base")
