"""Extraction and grading tables; the TRL reward wrapper."""

from __future__ import annotations

import pytest

from mathxfer.eval.grading import extract_letter, grade_coqa, grade_ifeval, grade_math, grade_yesno
from mathxfer.eval.reward import build_reward

MATH = [  # response, gold, correct
    (r"Final Answer: \boxed{\frac{1}{2}}", "0.5", True),
    (r"Final Answer: \boxed{\dfrac{3}{4}}", r"\frac34", True),
    (r"so \boxed{(3, \frac{\pi}{2})}", r"\left( 3, \frac{\pi}{2} \right)", True),
    (r"\boxed{2\sqrt{2}}", r"\sqrt{8}", True),
    (r"\boxed{x^2+2x+1}", r"(x+1)^2", True),
    (r"\boxed{10\%}", "10", True),
    (r"\boxed{7}", "8", False),
    ("I am not sure, let me think more", "3", False),
]
LETTERS = [
    (r"Final Answer: \boxed{C}", "C"), (r"... Final Answer: \boxed{\text{B}}", "B"),
    ("The answer is (D).", "D"), ("Final Answer: A", "A"), ("B", "B"),
    (r"first \boxed{A} then corrected \boxed{D}", "D"), ("no letter here at all", None),
]


@pytest.mark.parametrize("response,gold,correct", MATH)
def test_math_verify(response, gold, correct):
    assert grade_math(response, {"answer": gold}).correct is correct


@pytest.mark.parametrize("response,letter", LETTERS)
def test_letters(response, letter):
    assert extract_letter(response) == letter


@pytest.mark.parametrize("response,instructions,kwargs,expected", [
    ("hello world", ["punctuation:no_comma"], [{}], [True]),
    ("hello, world", ["punctuation:no_comma"], [{}], [False]),
    ("ALL CAPS HERE", ["change_case:english_capital"], [{}], [True]),
    ("One. Two. Three. Four.", ["length_constraints:number_sentences"],
     [{"relation": "less than", "num_sentences": 3}], [False]),
    ("Dr. Smith came. He left.", ["length_constraints:number_sentences"],  # punkt knows "Dr."
     [{"relation": "less than", "num_sentences": 3}], [True]),
    ("word " * 50, ["length_constraints:number_words"], [{"relation": "at least", "num_words": 40}], [True]),
    ('{"a": 1}', ["detectable_format:json_format"], [{}], [True]),
])
def test_ifeval_official_checkers(response, instructions, kwargs, expected):
    g = grade_ifeval(response, {"instruction_id_list": instructions, "kwargs": kwargs})
    assert g.detail["followed"] == expected and g.weight == len(instructions)


@pytest.mark.parametrize("response,answers,f1,em", [
    ("white", ["white"], 1.0, True), ("The white one.\nQ: next", ["white"], 2 / 3, False),
    ("in a barn", ["in a barn", "a barn"], 5 / 6, False),  # leave-one-out over golds, as CoQA
        ("in a barn", ["in a barn"], 1.0, True), ("black", ["white"], 0.0, False),
])
def test_coqa_f1(response, answers, f1, em):
    g = grade_coqa(response, {"answers": answers})
    assert g.score == pytest.approx(f1, abs=0.01) and g.correct is em


@pytest.mark.parametrize("response,gold,correct", [
    ("Yes", "yes", True), (" No.\nbecause", "no", True), ("Yes and No", "yes", False),
    ("maybe", "no", False), ("No", "yes", False),
])
def test_halueval_yes_no(response, gold, correct):
    assert grade_yesno(response, {"answer": gold}).correct is correct


def test_trl_reward_signature():
    reward = build_reward("MATH500")
    out = reward(prompts=["p", "p"], completions=[r"\boxed{3}", [{"role": "assistant", "content": r"\boxed{4}"}]],
                 answer=["3", "3"])
    assert out == [1.0, 0.0] and reward.__name__ == "math500_reward"
    with pytest.raises(ValueError, match="gold"):
        reward(prompts=["p"], completions=["x"])
