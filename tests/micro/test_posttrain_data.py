from __future__ import annotations

import re

import pytest

from mathxfer.micro import grading, posttrain_data, teacher, world
from mathxfer.micro.posttrain_data import math_prompts, rl_dataset, sft_dataset, target


@pytest.mark.parametrize("style", ["think", "no_think", "gold"])
def test_teacher_solutions_are_correct_and_end_with_the_answer(style: str) -> None:
    for it in math_prompts(400, seed=0):
        sol = target(it, style)
        assert grading.is_correct(it, sol), sol
        if style == "think":
            assert sol.startswith(teacher.THINK_OPEN) and teacher.THINK_CLOSE in sol
        else:
            assert teacher.THINK_OPEN not in sol


def test_teacher_refuses_non_math_and_wrong_gold() -> None:
    with pytest.raises(ValueError, match="math items only"):
        teacher.solve(world.sample_family("sort", 1, 0, "train")[0])
    it = world.sample_family("add", 1, 0, "train")[0]
    bad = world.Item(it.group, it.family, it.question, "Answer: -1", it.key, it.meta)
    with pytest.raises(AssertionError, match="teacher computed"):
        teacher.solve(bad)


def test_prompts_are_train_split_math_and_seeded() -> None:
    a = math_prompts(100, seed=1)
    assert a == math_prompts(100, seed=1) and a != math_prompts(100, seed=2)
    assert all(it.group == "math" and it.split == "train" for it in a)


def test_rl_dataset_columns_and_reward_agree_with_grader() -> None:
    items = math_prompts(64, seed=0)
    ds = rl_dataset(items)
    assert ds.column_names == ["prompt", "answer", "task"]
    assert ds[0]["prompt"] == [{"role": "user", "content": items[0].question}]
    responses = [teacher.solve(it, "no_think") if i % 2 else "Answer: 1" for i, it in enumerate(items)]
    got = grading.reward([[{"role": "assistant", "content": r}] for r in responses], answer=ds["answer"], task=ds["task"])
    assert got == [float(grading.is_correct(it, r)) for it, r in zip(items, responses)]


def test_sft_dataset_is_conversational(small_tokenizer) -> None:
    ds = sft_dataset(math_prompts(4), "think")
    msgs = ds[0]["messages"]
    assert [m["role"] for m in msgs] == ["user", "assistant"]
    out = small_tokenizer.apply_chat_template(msgs, return_dict=True, return_assistant_tokens_mask=True)
    assert sum(out["assistant_masks"]) > 20
    assert posttrain_data.PROMPT_SEED_BASE == 5000


def test_think_adds_a_reasoning_block_to_the_no_think_solution() -> None:
    for it in math_prompts(50, seed=3):
        think, plain = teacher.solve(it, "think"), teacher.solve(it, "no_think")
        block, _, rest = think.partition(teacher.THINK_CLOSE)
        assert rest.strip() == plain and block.startswith(teacher.THINK_OPEN)
        numbers = {int(n) for n in re.findall(r"\d+", block)}
        assert numbers <= set(it.meta["ops"]), (block, it.meta["ops"])  # the block restates, never computes


@pytest.mark.parametrize(("family", "ops", "delta", "no_think"), [
    ("add", (57, 83), 1, "57+83=141. Answer: 141"),
    ("sub", (77, 22), -3, "77-22=52. Answer: 52"),
    ("mul", (4, 96), 9, "4*96=393. Answer: 393"),
    ("two_step", (40, 65, 83), 2, "40+65=105. 105-83=24. Answer: 24"),
])
def test_a_teachers_slip_changes_only_the_result(family, ops, delta, no_think) -> None:
    item = _item(family, ops)
    assert teacher.solve(item, "no_think") != no_think
    assert teacher.slip(item, "no_think", delta) == no_think
    think = teacher.slip(item, "think", delta)
    assert think.startswith(teacher.THINK_OPEN) and think.endswith(no_think)
    assert not grading.is_correct(item, think) and grading.is_correct(item, teacher.solve(item, "think"))


def _item(family: str, ops: tuple[int, ...]) -> world.Item:
    """A math item with these operands, its gold answer written as the world writes it."""
    import dataclasses

    a, b, *rest = ops
    lines = {"add": f"{a}+{b}={a + b}", "sub": f"{a}-{b}={a - b}", "mul": f"{a}*{b}={a * b}",
             "two_step": f"{a}+{b}={a + b}. {a + b}-{rest[0]}={a + b - rest[0]}" if rest else ""}[family]
    gold = lines.rsplit("=", 1)[1]
    return dataclasses.replace(world.sample_family(family, 1, 0, "train")[0], answer=f"{lines}. Answer: {gold}",
                               meta={"ops": ops})


def test_a_teacher_that_errs_slips_at_its_rate() -> None:
    import random

    items = posttrain_data.math_prompts(50, seed=3)
    rng = random.Random(0)
    right = [grading.is_correct(it, teacher.sample(it, "no_think", 0.3, rng)) for it in items for _ in range(8)]
    assert 0.6 < sum(right) / len(right) < 0.8
    assert all(grading.is_correct(it, teacher.sample(it, "no_think", 0.0, rng)) for it in items)
    with pytest.raises(ValueError, match="not a probability"):
        teacher.sample(items[0], "no_think", 1.5, rng)
