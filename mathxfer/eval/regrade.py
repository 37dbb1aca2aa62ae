"""Regrade responses with our graders; check against the authors' released UniReason-Qwen3-14B-RL outputs.

The released files (paper_model_outputs/) hold the full chat prompt and one response per item. We match
each prompt back to its benchmark item (by the problem / question / instruction text), grade the
response, and count responses with no final answer (MATH500: no \\boxed; GPQA: no option letter), so
the gap to the reported score can be attributed rather than tuned away.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mathxfer.errors import UsageError, damaged, read_json_lines
from mathxfer.eval.data import Item, default_data_dir, load_items
from mathxfer.eval.grading import extract_letter, grader_for, has_boxed

RELEASED = {  # benchmark -> (file, reported score in Table 1 / survey_scores.csv for UniReason-14B-RL)
    "MATH500": ("UniReason-RL_hendrycks_math_500.jsonl", 87.8),
    "GPQA-Diamond": ("UniReason-RL_gpqa_diamond_cot_zeroshot.jsonl", 57.7),
    "IFEval": ("UniReason-RL_ifeval.jsonl", 70.0),
}


@dataclass(frozen=True)
class RegradeResult:
    benchmark: str
    n: int
    n_correct: int
    score: float                  # % over all n (IFEval: instruction-level strict)
    n_incomplete: int             # responses without a final answer
    score_complete: float         # % over responses that do give one
    n_unmatched: int              # released prompts we could not match to an item (not graded)
    reported: float = math.nan


def user_text(chat_prompt: str) -> str:
    """The user turn of a Qwen chat-formatted prompt (the released files store the rendered prompt)."""
    start = chat_prompt.find("<|im_start|>user\n")
    text = chat_prompt[start + len("<|im_start|>user\n"):] if start >= 0 else chat_prompt
    return text.split("<|im_end|>")[0]


def _key(benchmark: str, text: str) -> str:
    if benchmark in ("MATH500", "AIME24", "AIME25", "OlympiadBench"):
        text = text.split("Problem: ", 1)[-1].rsplit("\nAnswer:", 1)[0]
    elif benchmark == "GPQA-Diamond":
        text = text.split("What is the correct answer to this question:", 1)[-1].split("\nChoices:\n")[0]
    return _norm(text)


def _norm(text: str) -> str:
    # The released GPQA prompts lost every [...] span (e.g. "triphenyleno[1,2-c:...]trifuran"); drop them
    # on both sides so those items still match.
    return " ".join(re.sub(r"\[[^\]]*\]", "", text).split())


def _gold_for(benchmark: str, item: Item, text: str) -> dict[str, Any]:
    if benchmark != "GPQA-Diamond":
        return item.gold
    # The released prompt has its own option order: find the letter of the correct option in it.
    correct = _norm(item.gold["options"][ord(item.gold["letter"]) - 65])
    block = text.split("\nChoices:\n", 1)[1].split("\nFinish your answer")[0]
    parts = re.split(r"(?m)^([A-D])\. ", block)  # options may span several lines
    for letter, option in zip(parts[1::2], parts[2::2]):
        if _norm(option) == correct:
            return {"letter": letter}
    raise KeyError("correct option not among the released choices")


RESPONSES_FIX = 'each line must be a JSON object {"input": the chat prompt, "output": the response}'


class NothingToGrade(UsageError):
    """A responses file with no response to grade: empty, or no prompt matches the benchmark."""


def read_responses(path: str | Path) -> list[dict[str, str]]:
    """The {input, output} rows of a responses file (JSON Lines), or an error naming the file and the line."""
    path = Path(path)
    if not path.is_file():
        raise NothingToGrade(f"{path}: no such responses file; pass a JSONL of input/output rows")
    text = path.read_text(encoding="utf-8", errors="replace")
    numbers = [n for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    rows = read_json_lines(path, RESPONSES_FIX)
    if not rows:
        raise NothingToGrade(f"{path}: holds no responses (the file is empty); {RESPONSES_FIX}")
    for number, row in zip(numbers, rows):
        if not isinstance(row, dict):
            raise damaged(path, f"a JSON {type(row).__name__}, not an object", RESPONSES_FIX, number)
        for field in ("input", "output"):
            if not isinstance(row.get(field), str):
                problem = f"no '{field}'" if field not in row else f"'{field}' is not a string"
                raise damaged(path, problem, RESPONSES_FIX, number)
    return rows


def regrade_file(benchmark: str, responses: str | Path, data_dir: str | Path | None = None) -> RegradeResult:
    """Grade a JSONL of {input, output} against the benchmark's items (matched by prompt text)."""
    rows = read_responses(responses)  # a bad file fails before the benchmark loads
    items, _ = load_items(benchmark, data_dir)
    by_text = {_key(benchmark, str(next(iter(it.fields.values())) if benchmark != "GPQA-Diamond"
                                   else it.fields["question"])): it for it in items}
    grade = grader_for(benchmark)
    num = den = 0.0
    n_correct = n_incomplete = unmatched = 0
    complete_num = complete_den = 0.0
    for row in rows:
        text = user_text(row["input"])
        item = by_text.get(_key(benchmark, text))
        if item is None:
            unmatched += 1
            continue
        try:
            gold = _gold_for(benchmark, item, text)
        except KeyError:
            unmatched += 1
            continue
        g = grade(row["output"], gold)
        num, den = num + g.score * g.weight, den + g.weight
        n_correct += g.correct
        incomplete = _incomplete(benchmark, row["output"])
        n_incomplete += incomplete
        if not incomplete:
            complete_num, complete_den = complete_num + g.score * g.weight, complete_den + g.weight
    n = len(rows) - unmatched
    if n == 0:
        raise NothingToGrade(f"{responses}: none of its {len(rows)} response(s) matches a {benchmark} prompt, so "
                             f"nothing was graded; is it the responses file of another benchmark (--benchmark)?")
    return RegradeResult(benchmark, n, n_correct, 100 * num / den if den else math.nan, n_incomplete,
                         100 * complete_num / complete_den if complete_den else math.nan, unmatched)


def _incomplete(benchmark: str, response: str) -> bool:
    if benchmark == "GPQA-Diamond":
        return extract_letter(response) is None
    if benchmark == "IFEval":
        return not response.strip()
    return not has_boxed(response)


def released_dir(data_dir: str | Path | None = None) -> Path:
    from mathxfer.eval.testdata import benchmarks_dir

    root = default_data_dir(data_dir) or benchmarks_dir()
    return Path(root) / "paper_model_outputs"


def regrade_released(data_dir: str | Path | None = None):
    """One row per released benchmark: n, our score, reported, incomplete count, score on complete ones."""
    import pandas as pd

    root = default_data_dir(data_dir) or released_dir().parent
    rows = []
    for bench, (fname, reported) in RELEASED.items():
        result = regrade_file(bench, Path(root) / "paper_model_outputs" / fname, root)
        rows.append(asdict(result) | {"reported": reported})
    return pd.DataFrame(rows)[["benchmark", "n", "n_correct", "score", "reported", "n_incomplete",
                               "score_complete", "n_unmatched"]]
