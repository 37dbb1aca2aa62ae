"""LiveCodeBench (release v2) items and pass@1 grading through the sandbox.

Rows follow the hub schema of livecodebench/code_generation_lite: question_content, starter_code,
public_test_cases (JSON), private_test_cases (JSON, or base64 of zlib of a pickled JSON string, as
the dataset stores them), metadata (JSON with func_name). Prompts follow LiveCodeBench's own
zero-shot format; a response passes when every test passes.
"""

from __future__ import annotations

import base64
import json
import pickle
import re
import zlib
from typing import Any

from mathxfer.eval.items import Item
from mathxfer.eval.sandbox import Limits, run_python

STDIN_HINT = ("Read the inputs from stdin solve the problem and write the answer to stdout (do not directly "
              "test on the sample inputs). Enclose your code within delimiters as follows. Ensure that when "
              "the python program runs, it reads the inputs, runs the algorithm and writes output to STDOUT."
              "\n```python\n# YOUR CODE HERE\n```")
FUNCTIONAL_HINT = ("You will use the following starter code to write the solution to the problem and enclose "
                   "your code within delimiters.\n```python\n{starter}\n```")
TEST_LIMITS = Limits(wall_s=10, cpu_s=6, memory_mb=1024)
_CODE_BLOCK = re.compile(r"```(?:python|py|Python)?[^\n]*\n(.*?)```", re.S)


def _tests(value: Any) -> list[dict[str, Any]]:
    if not value:
        return []
    if isinstance(value, list):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        # The dataset's own packing of large private test sets (trusted source, not model output).
        return json.loads(pickle.loads(zlib.decompress(base64.b64decode(value.encode()))))


def lcb_item(row: dict[str, Any]) -> Item:
    meta = row.get("metadata") or {}
    meta = json.loads(meta) if isinstance(meta, str) else meta
    tests = _tests(row.get("public_test_cases")) + _tests(row.get("private_test_cases"))
    starter = row.get("starter_code") or ""
    hint = FUNCTIONAL_HINT.format(starter=starter) if starter else STDIN_HINT
    return Item(f"lcb:{row.get('question_id', row.get('question_title', ''))}",
                {"question": row["question_content"], "format_hint": hint},
                {"tests": tests, "func_name": meta.get("func_name")})


def extract_code(response: str) -> str | None:
    blocks = _CODE_BLOCK.findall(response)
    return blocks[-1] if blocks else None


def _functional_script(code: str, func_name: str, test_input: str) -> str:
    args = [json.loads(line) for line in test_input.split("\n") if line.strip()]
    return (code + "\n\nimport json as _json\n"
            "_f = Solution()." + func_name + " if 'Solution' in globals() else globals()[" + repr(func_name) + "]\n"
            f"print(_json.dumps(_f(*{args!r})))\n")


def _same_stdout(got: str, expected: str) -> bool:
    norm = lambda s: [line.strip() for line in s.strip().splitlines()]  # noqa: E731
    return norm(got) == norm(expected)


def run_tests(code: str, tests: list[dict[str, Any]], func_name: str | None,
              limits: Limits = TEST_LIMITS) -> tuple[int, int, str]:
    """(passed, total, first failure reason); stops at the first failing test like pass@1 needs."""
    for i, test in enumerate(tests):
        if test.get("testtype") == "functional":
            result = run_python(_functional_script(code, func_name or "", test["input"]), limits=limits)
            ok = result.ok and _json_equal(result.stdout, test["output"])
        else:
            result = run_python(code, stdin=test["input"], limits=limits)
            ok = result.ok and _same_stdout(result.stdout, test["output"])
        if not ok:
            return i, len(tests), f"test {i}: {result.status} {result.stderr.strip()[-200:]}"
    return len(tests), len(tests), ""


def _json_equal(got: str, expected: str) -> bool:
    try:
        return json.loads(got.strip().splitlines()[-1]) == json.loads(expected)
    except (json.JSONDecodeError, IndexError):
        return False
