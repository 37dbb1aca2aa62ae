"""The smol study's training data on real rows: GSM8K's worked solutions as think / no-think targets, the
generated word problems in GSM8K's schema, and the on-policy sample of the real SmolLM2 model."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest

from mathxfer.eval.grading import grade_math
from mathxfer.eval.testdata import benchmarks_dir
from mathxfer.mathdata import word_problems
from mathxfer.mathdata import worked
from mathxfer.train.data import task_data

GSM8K_TRAIN = benchmarks_dir() / "gsm8k" / "train.jsonl"


def _gsm8k_rows(n: int) -> list[dict]:
    if not GSM8K_TRAIN.is_file():
        pytest.skip(f"the offline GSM8K copy is not at {GSM8K_TRAIN}")
    with GSM8K_TRAIN.open() as handle:
        return [json.loads(next(handle)) for _ in range(n)]


def test_parse_reads_the_answer_line_and_every_calculation():
    first = worked.parse(_gsm8k_rows(1)[0])  # Natalia's clips: 48/2 = 24, 48 + 24 = 72
    assert first.answer == "72" and first.steps == 2
    assert first.calculations == (("48/2", "24"), ("48+24", "72"))
    assert "<<" not in first.solution and "####" not in first.solution


@pytest.mark.parametrize("row", [{"question": "q", "answer": "no answer line"}, {"question": "q", "answer": "x ####  "}])
def test_parse_refuses_a_row_without_an_answer(row):
    with pytest.raises(ValueError, match="no '#### answer' line"):
        worked.parse(row)


def test_think_and_no_think_targets_differ_only_by_the_reasoning_block():
    for row in _gsm8k_rows(50):
        sol = worked.parse(row)
        think, no_think = worked.target(sol, "think"), worked.target(sol, "no-think")
        assert worked.THINK_OPEN not in no_think and think.startswith(worked.THINK_OPEN + "\n")
        block, _, after = think.partition(worked.THINK_CLOSE + "\n")
        assert after == no_think  # the same solution and answer after the block
        assert [f"Step {i}: {e} = {r}." for i, (e, r) in enumerate(sol.calculations, 1)] == \
            re.findall(r"Step \d+: .*\.", block)
        for target in (think, no_think):  # the shared grader (the RL reward's) accepts both targets
            assert grade_math(target, {"answer": sol.answer}).score == 1.0, target


def test_an_unknown_target_names_the_choices():
    with pytest.raises(ValueError, match="think, no-think"):
        worked.target(worked.parse(_gsm8k_rows(1)[0]), "human")


def _evaluate(expression: str) -> float:
    if not re.fullmatch(r"[\d+\-*/. ]+", expression):
        raise AssertionError(f"not plain arithmetic: {expression!r}")
    return eval(expression)  # noqa: S307 (digits and operators only, checked above)


def test_word_problems_are_worked_gsm8k_rows_with_correct_arithmetic():
    rows = word_problems.rows(400, seed=0)
    assert rows == word_problems.rows(400, seed=0)  # a pure function of the seed
    assert {r["kind"] for r in rows} == set(word_problems.KINDS)
    for row in rows:
        sol = worked.parse(row)
        assert 1 <= sol.steps <= 2
        for expression, result in sol.calculations:
            assert _evaluate(expression) == float(result), row
        assert sol.calculations[-1][1] == sol.answer
        assert grade_math(worked.target(sol, "think"), {"answer": sol.answer}).score == 1.0


def test_word_problem_splits_never_share_a_question():
    train = {r["question"] for r in word_problems.rows(2000, seed=0, split="train")}
    heldout = word_problems.heldout_rows()
    assert len(heldout) == word_problems.HELDOUT_SIZE == len({r["question"] for r in heldout})
    assert not train & {r["question"] for r in heldout}
    assert all(word_problems.split_of(r["question"]) == "heldout" for r in heldout)


def _config(name: str, **fields) -> SimpleNamespace:
    return SimpleNamespace(**{"dataset_size": 6, "dataset_seed": 5000, "seed": 0, "data_dir": str(benchmarks_dir()),
                              "sft_target": "think", **fields}, dataset_name=name)


@pytest.mark.parametrize("name", ["word-problems", "gsm8k", "gsm8k-easy"])
def test_every_arm_sees_the_same_prompts(name):
    if name != "word-problems":
        _gsm8k_rows(1)
    data = task_data(name)
    rl = data.rl(_config(name))
    for target in ("think", "no-think"):
        sft = data.sft(_config(name, sft_target=target))
        assert [m[0] for m in sft["messages"]] == [p[0] for p in rl["prompt"]]
    if name == "gsm8k-easy":  # the headroom filter: one or two calculations, so at most two checked steps
        blocks = [m[1]["content"].partition(worked.THINK_CLOSE)[0] for m in data.sft(_config(name))["messages"]]
        assert all(1 <= len(re.findall(r"^Step \d+:", b, re.M)) <= 2 for b in blocks)


def test_onpolicy_sample_of_the_real_model_keeps_only_graded_correct_answers(smol_gguf):
    """SmolLM2-135M's own samples on four word problems: every kept answer is one the shared grader marks
    correct for its prompt, and the prompts are the RL arm's."""
    from mathxfer.models import load_model, load_tokenizer

    model, tok = load_model(smol_gguf), load_tokenizer(smol_gguf)
    config = _config("word-problems", dataset_size=4, onpolicy_samples=4, onpolicy_temperature=0.7,
                     onpolicy_max_new_tokens=48, onpolicy_batch_size=4)
    data = task_data("word-problems")
    kept = data.onpolicy(config, model, tok)
    gold = {p[0]["content"]: a for p, a in zip(data.rl(config)["prompt"], data.rl(config)["answer"])}
    for messages in kept["messages"]:
        question, answer = messages[0]["content"], messages[1]["content"]
        assert question in gold
        assert grade_math(answer, {"answer": gold[question]}).score == 1.0
