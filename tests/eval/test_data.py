"""Loaders on the real offline files, the missing-benchmark message, and constructed items for absent ones."""

from __future__ import annotations

import json

import pytest

from mathxfer.eval.data import BenchmarkMissing, items_from_rows, load_items
from mathxfer.eval.halueval import proxy_rows
from mathxfer.eval.specs import SPECS, resolve_suite
from mathxfer.groups import BENCHMARKS

OFFLINE = [  # benchmark, items, a field the prompt needs
    ("AIME24", 30, "question"), ("AIME25", 30, "question"), ("MATH500", 500, "question"),
    ("OlympiadBench", 675, "question"), ("GPQA-Diamond", 198, "choices"), ("ACPBench", 900, "context"),
    ("HeadQA", 2742, "question"), ("MC-TACO", 9442, "answer"), ("IFEval", 541, "question"),
]


def test_every_benchmark_has_a_versioned_spec():
    assert set(SPECS) == set(BENCHMARKS) | {"WordProblems"}  # the paper's 12 and the one labelled addition
    assert SPECS["WordProblems"].added and SPECS["WordProblems"].generated and not SPECS["MATH500"].added
    assert SPECS["AIME24"].sampling.n == 10 and SPECS["AIME24"].sampling.temperature == 0.6
    assert {SPECS[b].sampling.n for b in ("MATH500", "GPQA-Diamond", "LiveCodeBench-v2")} == {3}
    assert all(SPECS[b].sampling.greedy for b in ("OlympiadBench", "IFEval", "CoQA", "HaluEval", "ACPBench"))
    assert resolve_suite("math") == ("AIME24", "AIME25", "MATH500", "OlympiadBench")
    with pytest.raises(ValueError, match="unknown benchmark"):
        resolve_suite("MATH500,NoSuch")


@pytest.mark.parametrize("name,count,field", OFFLINE)
def test_local_loader(bench_dir, name, count, field):
    items, sources = load_items(name, bench_dir)
    assert len(items) == count and len({it.id for it in items}) == count
    assert all(field in it.fields for it in items)
    SPECS[name].prompt.format(**items[0].fields)  # the template fits the fields


def test_gpqa_shuffle_is_seeded_and_gold_tracks_the_correct_option(bench_dir):
    a, _ = load_items("GPQA-Diamond", bench_dir, seed=1, limit=20)
    b, _ = load_items("GPQA-Diamond", bench_dir, seed=1, limit=20)
    c, _ = load_items("GPQA-Diamond", bench_dir, seed=2, limit=20)
    assert [i.gold for i in a] == [i.gold for i in b]
    assert [i.gold["letter"] for i in a] != [i.gold["letter"] for i in c]
    assert len({i.gold["letter"] for i in a}) > 1  # not always A


def test_missing_benchmark_says_where_and_how(tmp_path):
    with pytest.raises(BenchmarkMissing, match=r"coqa/coqa-dev-v1.0.json.*EleutherAI/coqa"):
        load_items("CoQA", tmp_path)


def test_coqa_items_from_constructed_rows(tmp_path):
    doc = {"data": [{"id": "s1", "story": "Cotton was a white kitten.",
                     "questions": [{"input_text": "What color?", "turn_id": 1},
                                   {"input_text": "What was she?", "turn_id": 2}],
                     "answers": [{"input_text": "white"}, {"input_text": "a kitten"}],
                     "additional_answers": {"0": [{"input_text": "White"}, {"input_text": "kitten"}]}}]}
    (tmp_path / "coqa").mkdir()
    (tmp_path / "coqa" / "coqa-dev-v1.0.json").write_text(json.dumps(doc))
    [item], _ = load_items("CoQA", tmp_path)
    assert item.fields["question"].endswith("Q: What was she?\n\nA:")
    assert "A: white" in item.fields["question"]
    assert item.gold["answers"] == ["a kitten", "kitten"]


def test_halueval_subsets_and_proxy(bench_dir):
    rows = [json.loads(line) for line in (bench_dir / "halueval" / "qa_generation_sample_one-turn.jsonl")
            .read_text().splitlines()[:3]]
    qa = items_from_rows("HaluEval", proxy_rows(rows))
    assert [i.gold["answer"] for i in qa] == ["no", "yes"] * 3
    assert qa[0].fields["question"].endswith("#Your Judgement#:") and "#Knowledge: " in qa[0].fields["question"]
    dia = items_from_rows("HaluEval", [{"knowledge": "k", "dialogue_history": "[Human]: hi", "response": "r",
                                        "hallucination": "no"}])
    assert dia[0].subset == "dialogue" and "#Dialogue History#: [Human]: hi" in dia[0].fields["question"]


def test_livecodebench_items_from_hub_schema():
    row = {"question_id": "q1", "question_content": "Add two numbers.", "starter_code": "",
           "public_test_cases": json.dumps([{"input": "1 2\n", "output": "3\n", "testtype": "stdin"}]),
           "private_test_cases": "[]", "metadata": "{}"}
    [item] = items_from_rows("LiveCodeBench-v2", [row])
    assert item.gold["tests"][0]["output"] == "3\n" and "stdin" in item.fields["format_hint"]
