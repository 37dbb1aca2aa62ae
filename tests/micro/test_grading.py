from __future__ import annotations

import pytest

from mathxfer.micro import grading, world
from mathxfer.micro.grading import grade, reward

CASES = [  # family, gold, response, exact, lenient
    ("add", "57+83=140. Answer: 140", "57+83=140. Answer: 140", True, True),
    ("add", "57+83=140. Answer: 140", "Answer: 140.", True, True),
    ("add", "57+83=140. Answer: 140", "<think>50+80=130</think> We add. Answer: 140", True, True),
    ("add", "57+83=140. Answer: 140", "57+83=141. Answer: 141", False, False),
    ("add", "57+83=140. Answer: 140", "Answer: 140 and more text", False, True),
    ("add", "57+83=140. Answer: 140", "so the answer is 140", False, True),
    ("add", "57+83=140. Answer: 140", "57+83=140", False, True),
    ("add", "57+83=140. Answer: 140", "Answer: 1,40", False, True),
    ("add", "57+83=140. Answer: 140", "", False, False),
    ("mul", "140", "Answer: 140", True, True),  # an RL dataset's bare gold number
    ("compare", "417", "417", True, True),
    ("compare", "417", " 417 ", True, True),
    ("compare", "417", "417.", False, True),
    ("compare", "417", "389", False, False),
    ("sort", "37, 62, 90", "37,62,90", False, True),
    ("sort", "a, d, q", "A, D, Q", False, True),
    ("upper", "TIGER", "tiger", False, False),  # case is the constraint: lenient keeps it
    ("upper", "TIGER", "TIGER.", False, True),
    ("fact", "Badu", "badu", False, True),
    ("reverse", "regit", "regit", True, True),
    ("reverse", "regit", "tiger", False, False),
    ("chain", "green", "Green", False, True),
    ("repeat", "tiger tiger", "tiger  tiger", False, True),
]


@pytest.mark.parametrize(("family", "gold", "response", "exact", "lenient"), CASES)
def test_grade_table(family: str, gold: str, response: str, exact: bool, lenient: bool) -> None:
    assert grade(family, gold, response) is exact
    assert grade(family, gold, response, lenient=True) is lenient


def test_unknown_family_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="unknown family"):
        grade("algebra", "1", "1")


def test_gold_answers_grade_correct_and_render_matches_chat_format() -> None:
    for it in world.sample(500, 4, "heldout"):
        assert grading.is_correct(it, it.answer) and grading.is_correct(it, it.answer, lenient=True)
    assert grading.render("q", "a") == "<|user|>q<|assistant|>a<|end|>"


def test_reward_agrees_with_grader_for_strings_and_messages() -> None:
    items = world.sample(300, 5, "train")
    responses = [it.answer if i % 3 else "Answer: 0" for i, it in enumerate(items)]
    want = [float(grading.is_correct(it, r)) for it, r in zip(items, responses)]
    answers, tasks = [it.answer for it in items], [it.family for it in items]
    assert reward(responses, answer=answers, task=tasks) == want
    as_messages = [[{"role": "assistant", "content": r}] for r in responses]
    assert reward(as_messages, answer=answers, task=tasks, trainer_state=None) == want
    assert 0 < sum(want) < len(want)
