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
