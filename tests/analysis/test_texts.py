"""The latent analysis's texts: each benchmark's raw rows joined as the authors' analyse_PCA_Shift.py joins them
(its DATASET_CFG columns), read from the real offline files; the token analysis keeps the prompts."""

from __future__ import annotations

import json

import pytest

from mathxfer.analysis.texts import benchmark_prompts, benchmark_texts
from mathxfer.eval.testdata import benchmarks_dir

# benchmark, the local file's columns the text joins (in order), separator
JOINED = [
    ("MATH500", "math500/math500.jsonl", ("problem", "solution", "answer"), "  "),
    ("AIME25", "aime25/aime25.jsonl", ("problem", "answer"), "  "),
    ("AIME24", "aime24/aime24.jsonl", ("problem", "reference_solution"), "  "),
    ("OlympiadBench", "olympiadbench/test.jsonl", ("question", "solution", "final_answer"), " "),
    ("IFEval", "ifeval/input_data.jsonl", ("prompt",), "  "),
]


@pytest.fixture(scope="module")
def bench_dir():
    root = benchmarks_dir()
    if not (root / "math500").is_dir():
        pytest.skip(f"offline benchmark copies not found at {root}")
    return root


@pytest.mark.parametrize("name,file,columns,sep", JOINED)
def test_latent_texts_join_the_scripts_columns(bench_dir, name, file, columns, sep):
    rows = [json.loads(line) for line in (bench_dir / file).read_text(encoding="utf-8").splitlines() if line.strip()]
    expected = {sep.join(str(r[c]) for c in columns if r.get(c) is not None) for r in rows}
    texts = benchmark_texts([name], 8, seed=3, data_dir=bench_dir)[name]
    assert len(texts) == 8 and set(texts) <= expected
    assert texts == benchmark_texts([name], 8, seed=3, data_dir=bench_dir)[name]  # seeded
    assert texts != benchmark_texts([name], 8, seed=4, data_dir=bench_dir)[name]


def test_math_texts_carry_the_solution_and_answer_not_the_prompt(bench_dir):
    text = benchmark_texts(["MATH500"], 1, seed=0, data_dir=bench_dir, limit=1)["MATH500"][0]
    row = json.loads((bench_dir / "math500/math500.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert text.startswith(row["problem"]) and row["solution"] in text and text.endswith(row["answer"])
    prompt = benchmark_prompts(["MATH500"], 1, seed=0, data_dir=bench_dir, limit=1, first=True)["MATH500"][0]
    assert "Present the final answer" in prompt and "Present the final answer" not in text


def test_gpqa_reads_the_pre_revision_question_options_and_explanation(bench_dir):
    texts = benchmark_texts(["GPQA-Diamond"], 198, seed=0, data_dir=bench_dir)["GPQA-Diamond"]
    assert len(texts) == 198 and not any("What is the correct answer" in t for t in texts)
    from mathxfer.eval.data import load_rows
    from mathxfer.eval.specs import spec

    row = load_rows(spec("GPQA-Diamond"), bench_dir)[0].rows[0]
    joined = [t for t in texts if t.startswith(row["Pre-Revision Question"])]
    assert joined and row["Pre-Revision Correct Answer"] in joined[0] and row["Pre-Revision Explanation"] in joined[0]


def test_acpbench_reads_one_subset_as_the_script(bench_dir):
    app = json.loads((bench_dir / "acpbench/test/app.mcq.json").read_text(encoding="utf-8"))
    texts = benchmark_texts(["ACPBench"], 10_000, seed=0, data_dir=bench_dir)["ACPBench"]
    assert len(texts) == len(app)  # the first file (applicability) only, not all seven tasks
    assert set(texts) == {"  ".join((r["context"], r["question"], str(r["answer"]))) for r in app}


def test_generated_word_problems_join_problem_and_worked_solution():
    texts = benchmark_texts(["WordProblems"], 5, seed=0)["WordProblems"]
    assert len(texts) == 5 and all("####" in t for t in texts)  # GSM8K-style solution with its answer line
