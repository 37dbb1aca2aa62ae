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


def group_of(benchmark: str) -> Group:
    for group, names in BENCHMARK_GROUPS.items():
        if benchmark in names:
            return group
    raise KeyError(f"unknown benchmark {benchmark!r}; the paper's benchmarks are: {', '.join(BENCHMARKS)}")
