"""One declarative spec per paper benchmark: where its data lives, how it is prompted, graded and sampled.

The protocol follows the paper (spec README, "Evaluation"): AIME averaged over 10 samples and
MATH500 / GPQA / LiveCodeBench over 3, all at temperature 0.6 / top-p 0.95; every other benchmark
greedy with one sample; up to 32,768 new tokens. Prompts are the ones in the authors' repository
(its patched lm-eval tasks and EvalChemy). Bump ``version`` whenever a prompt, grader or source
changes: it is part of every record file name and of the scores-file provenance, so old results
are never mixed with new ones.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from mathxfer.groups import ADDED_BENCHMARKS, BENCHMARK_GROUPS, BENCHMARKS, KNOWN_BENCHMARKS, Group, group_of

from mathxfer.mathdata import word_problems  # noqa: E402  (a generator of rows, no heavy imports)

PAPER_MAX_NEW_TOKENS = 32768

MATH_PROMPT = ("Solve the following math problem. Present the final answer in the format: "
               "Final Answer: \\boxed{{your_answer}}.\nProblem: {question}\nAnswer:")
# The authors' GPQA prompt, read off their released UniReason responses (paper_model_outputs/).
GPQA_PROMPT = ("What is the correct answer to this question:{question}\nChoices:\n{choices}\n"
               "Finish your answer with the format: Final Answer: \\boxed{{X}}, where X is the correct "
               "letter choice.\nLet's think step by step: ")
ACP_PROMPT = "**Question**: {context}  {question} **Thoughts**:"
LCB_PROMPT = ("You will be given a question (problem specification) and will generate a correct Python "
              "program that matches the specification and passes all tests.\n\nQuestion: {question}\n\n"
              "{format_hint}")


@dataclass(frozen=True)
class Sampling:
    temperature: float = 0.0     # 0 means greedy
    top_p: float = 1.0
    max_new_tokens: int = PAPER_MAX_NEW_TOKENS
    n: int = 1                   # samples per item; the item's score is their mean

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0


@dataclass(frozen=True)
class HubSource:
    path: str
    name: str | None = None      # dataset config(s); several are loaded and concatenated
    split: str = "test"
    names: tuple[str, ...] = ()
    data_files: tuple[str, ...] = ()   # for hub repos without a loading script (LiveCodeBench)


@dataclass(frozen=True)
class LatentText:
    """What the latent analysis reads of a benchmark: the raw rows' columns that the authors' PCA-shift script
    lists for it (its DATASET_CFG), those present joined with ``sep``, not the prompt the model is asked."""
    fields: tuple[str, ...]
    sep: str = "  "
    source: int | None = None      # one file of several (the script's single subset, e.g. HaluEval qa), else all

    def text(self, row: dict[str, object]) -> str:
        return self.sep.join(str(row[f]) for f in self.fields if row.get(f) is not None)


PAPER_SAMPLED = Sampling(temperature=0.6, top_p=0.95, n=3)
GREEDY = Sampling()


@dataclass(frozen=True)
class BenchmarkSpec:
    name: str
    version: int
    kind: Literal["generate", "loglik"]   # loglik: pick the choice the model scores highest (lm-eval acc)
    hub: HubSource
    local: tuple[str, ...]                # file(s) under the data dir, in /work/shared/benchmarks' layout
    prompt: str                           # str.format template over the item's fields
    grader: str                           # key into mathxfer.eval.grading.GRADERS
    metric: str                           # what the score means, in words
    sampling: Sampling = GREEDY
    stop: tuple[str, ...] = ()
    aggregate: Literal["mean", "micro", "subset_mean"] = "mean"
    notes: str = ""
    generated: bool = False               # rows made by mathxfer code (mathxfer.eval.data.GENERATED), not read
    latent: LatentText = LatentText(())   # every spec below names its own

    @property
    def added(self) -> bool:
        """Not one of the paper's 12: a study's labelled addition (``mathxfer.groups.ADDED_BENCHMARKS``)."""
        return self.name in ADDED_BENCHMARKS

    @property
    def group(self) -> Group:
        return group_of(self.name)


SPECS: dict[str, BenchmarkSpec] = {s.name: s for s in (
    BenchmarkSpec("AIME24", 1, "generate", HubSource("Maxwell-Jia/AIME_2024", split="train"),
                  ("aime24/aime24.jsonl",), MATH_PROMPT, "math", "accuracy, mean over 10 samples",
                  replace(PAPER_SAMPLED, n=10),
                  latent=LatentText(("problem", "Problem", "solution", "Solution", "reference_solution"))),
    BenchmarkSpec("AIME25", 1, "generate", HubSource("math-ai/aime25"),
                  ("aime25/aime25.jsonl",), MATH_PROMPT, "math", "accuracy, mean over 10 samples",
                  replace(PAPER_SAMPLED, n=10), latent=LatentText(("problem", "answer"))),
    BenchmarkSpec("MATH500", 1, "generate", HubSource("HuggingFaceH4/MATH-500"),
                  ("math500/math500.jsonl",), MATH_PROMPT, "math", "accuracy, mean over 3 samples",
                  PAPER_SAMPLED, stop=("Problem:",), latent=LatentText(("problem", "solution", "answer"))),
    BenchmarkSpec("OlympiadBench", 1, "generate",
                  HubSource("Hothan/OlympiadBench", name="OE_TO_maths_en_COMP", split="train"),
                  ("olympiadbench/test.jsonl",), MATH_PROMPT, "math", "accuracy (greedy)",
                  stop=("Problem:",), latent=LatentText(("question", "solution", "final_answer"), sep=" ")),
    BenchmarkSpec("GPQA-Diamond", 1, "generate",
                  HubSource("Idavidrein/gpqa", name="gpqa_diamond", split="train"),
                  ("gpqa_diamond/gpqa_diamond.zip",), GPQA_PROMPT, "letter",
                  "accuracy, mean over 3 samples; options shuffled per item with the run's seed",
                  PAPER_SAMPLED, notes="hub dataset is gated: accept its terms and log in first",
                  latent=LatentText(tuple(f"Pre-Revision {c}" for c in (
                      "Question", "Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2",
                      "Incorrect Answer 3", "Explanation")))),
    BenchmarkSpec("LiveCodeBench-v2", 1, "generate",
                  HubSource("livecodebench/code_generation_lite", split="train", data_files=(
                      "hf://datasets/livecodebench/code_generation_lite/test.jsonl",
                      "hf://datasets/livecodebench/code_generation_lite/test2.jsonl")),
                  ("livecodebench/test.jsonl",), LCB_PROMPT, "code",
                  "pass@1 over public+private tests, mean over 3 samples", PAPER_SAMPLED,
                  notes="absent offline; the local file uses the hub rows' schema",
                  latent=LatentText(("question_content", "public_test_cases"))),
    BenchmarkSpec("ACPBench", 1, "generate",
                  HubSource("ibm-research/acp_bench", split="test", names=tuple(
                      f"acp_{t}_mcq" for t in ("app", "areach", "just", "land", "prog", "reach", "val"))),
                  tuple(f"acpbench/test/{t}.mcq.json" for t in
                        ("app", "areach", "just", "land", "prog", "reach", "val")),
                  ACP_PROMPT, "letter", "accuracy on the 7 multiple-choice tasks",
                  stop=("**Question**:", "**Question:**", "Q:"),
                  notes="UNCERTAIN: the paper ran lm-eval mcq_cot_2shot; the 2 shots come from dev files "
                        "that are not offline, so this is zero-shot",
                  latent=LatentText(("context", "question", "answer"), source=0)),  # the script's acp_app
    BenchmarkSpec("HeadQA", 1, "loglik", HubSource("EleutherAI/headqa", name="en"),
                  ("headqa/test_HEAD_EN.json",), "Question: {question}\nAnswer:", "choice",
                  "accuracy: the answer with the highest log-likelihood (lm-eval headqa_en acc)",
                  latent=LatentText(("qtext", "ra", "answers"))),
    BenchmarkSpec("CoQA", 1, "generate", HubSource("EleutherAI/coqa", split="validation"),
                  ("coqa/coqa-dev-v1.0.json",), "{question}", "coqa",
                  "F1 of the first response line against the last turn's answers (lm-eval coqa)",
                  stop=("\nQ:",), notes="absent offline; UNCERTAIN whether the paper reports F1 or EM "
                                        "(both are recorded)",
                  latent=LatentText(("story", "questions", "answers"))),
    BenchmarkSpec("MC-TACO", 1, "loglik", HubSource("CogComp/mc_taco"),
                  ("mc_taco/test_9442.tsv",),
                  "{sentence}\nQuestion: {question}\nAnswer: {answer}\nPlausible:", "choice",
                  "accuracy over (question, candidate) rows: yes/no by log-likelihood (lm-eval mc_taco acc)",
                  latent=LatentText(("question", "answer"))),
    BenchmarkSpec("IFEval", 1, "generate", HubSource("google/IFEval", split="train"),
                  ("ifeval/input_data.jsonl",), "{question}", "ifeval",
                  "instruction-level strict accuracy (official checkers via lm-eval)", aggregate="micro",
                  latent=LatentText(("prompt",))),
    BenchmarkSpec("HaluEval", 1, "generate",
                  HubSource("pminervini/HaluEval", split="data",
                            names=("qa_samples", "dialogue_samples", "summarization_samples")),
                  ("halueval/qa_samples.jsonl", "halueval/dialogue_samples.jsonl",
                   "halueval/summarization_samples.jsonl"),
                  "{question}", "yesno", "Yes/No judge accuracy, mean over qa, dialogue and summarization",
                  aggregate="subset_mean",
                  notes="absent offline: halueval/qa_generation_sample_one-turn.jsonl is a proxy, not HaluEval",
                  latent=LatentText(("knowledge", "dialogue_history", "right_response", "hallucinated_response"),
                                    source=0)),  # the script reads the qa subset
    BenchmarkSpec("WordProblems", int(word_problems.VERSION), "generate", HubSource(""), (), "{question}", "math",
                  "accuracy (greedy) on 500 held-out one- and two-step word problems (mathxfer.mathdata.word_problems)",
                  stop=("Problem:",), generated=True,
                  notes="added (not in the paper): the smol study's in-distribution math evaluation, prompted "
                        "as its training problems are",
                  latent=LatentText(("question", "answer"))),  # not in the script: problem + worked solution
)}

assert set(SPECS) == set(KNOWN_BENCHMARKS), "every paper benchmark (and every addition) needs a spec"
assert all(s.latent.fields for s in SPECS.values()), "every spec names its latent-analysis columns"

SUITES: dict[str, tuple[str, ...]] = {"paper": BENCHMARKS, **{g: tuple(b) for g, b in BENCHMARK_GROUPS.items()}}


def resolve_suite(text: str) -> tuple[str, ...]:
    """'paper' / 'math' / 'other' / 'non', or a comma-separated list of benchmark names."""
    if text in SUITES:
        return SUITES[text]
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in SPECS]
    if unknown or not names:
        raise ValueError(f"unknown benchmark(s) {', '.join(unknown) or repr(text)}; use a suite "
                         f"({', '.join(SUITES)}) or names from: {', '.join(KNOWN_BENCHMARKS)}")
    return names


def spec(name: str) -> BenchmarkSpec:
    try:
        return SPECS[name]
    except KeyError:
        raise ValueError(f"unknown benchmark {name!r}; use one of {', '.join(KNOWN_BENCHMARKS)}") from None
