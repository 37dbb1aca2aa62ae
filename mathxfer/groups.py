"""The paper's fixed benchmark groups (its Section 2): math, other reasoning, non-reasoning."""

from __future__ import annotations

from typing import Literal

Group = Literal["math", "other", "non"]
GROUPS: tuple[Group, ...] = ("math", "other", "non")

BENCHMARK_GROUPS: dict[Group, tuple[str, ...]] = {
    "math": ("AIME24", "AIME25", "MATH500", "OlympiadBench"),
    "other": ("GPQA-Diamond", "LiveCodeBench-v2", "ACPBench", "HeadQA"),
    "non": ("CoQA", "MC-TACO", "IFEval", "HaluEval"),
}
GROUP_LABELS: dict[Group, str] = {
    "math": "Math reasoning",
    "other": "Other reasoning",
    "non": "Non-reasoning",
}
BENCHMARKS: tuple[str, ...] = tuple(b for group in BENCHMARK_GROUPS.values() for b in group)
# Benchmarks a study may add to a group beyond the paper's 12, always shown labelled as additions: the smol
# study's in-distribution math evaluation (the paper's math benchmarks sit near 0 for a 135M model).
ADDED_BENCHMARKS: dict[str, Group] = {"WordProblems": "math"}
KNOWN_BENCHMARKS: tuple[str, ...] = (*BENCHMARKS, *ADDED_BENCHMARKS)


def group_of(benchmark: str) -> Group:
    for group, names in BENCHMARK_GROUPS.items():
        if benchmark in names:
            return group
    if benchmark in ADDED_BENCHMARKS:
        return ADDED_BENCHMARKS[benchmark]
    raise KeyError(f"unknown benchmark {benchmark!r}; the paper's benchmarks are: {', '.join(BENCHMARKS)}"
                   f" (added: {', '.join(ADDED_BENCHMARKS)})")
