from __future__ import annotations

import pytest

from mathxfer.micro import world
from mathxfer.micro.evaluate import EvalResult, Record, evaluate_items, generate
from mathxfer.micro.model import ModelConfig, build_model


def test_generation_needs_left_padding(small_tokenizer) -> None:
    model = build_model(ModelConfig(hidden=32, layers=1, heads=2, ffn=64), small_tokenizer, seed=0)
    small_tokenizer.padding_side = "right"
    try:
        with pytest.raises(ValueError, match="padding_side"):
            generate(model, small_tokenizer, ["q"], max_new_tokens=2)
    finally:
        small_tokenizer.padding_side = "left"


def test_evaluate_items_returns_one_record_per_item(small_tokenizer) -> None:
    model = build_model(ModelConfig(hidden=32, layers=1, heads=2, ffn=64), small_tokenizer, seed=0)
    items = world.sample(12, 0, "heldout")
    result = evaluate_items(model, small_tokenizer, items, batch_size=5)
    assert sorted(r.question for r in result.records) == sorted(it.question for it in items)
    assert set(result.accuracy("group")) == {it.group for it in items}


def test_accuracy_aggregates_by_group_and_family() -> None:
    rec = [Record("math", "add", "q", "a", "r", True, True), Record("math", "sub", "q", "a", "r", False, True)]
    res = EvalResult(tuple(rec))
    assert res.accuracy("group") == {"math": 0.5}
    assert res.accuracy("family") == {"add": 1.0, "sub": 0.0}
    assert res.accuracy("group", lenient=True) == {"math": 1.0}
