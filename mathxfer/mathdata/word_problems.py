"""Easy arithmetic word problems in GSM8K's schema: the smol study's math data, chosen for headroom.

SmolLM2-135M-Instruct solves almost no GSM8K problem (measured on the base, greedy and 8 samples at T 0.7:
0/16 and 1/16 even on one-step items; MATH level 1 the same), so GRPO would see no reward and on-policy SFT
no sample. One- and two-step problems with two-digit numbers are within its reach. Each row is written like
a GSM8K row (``question``, ``answer`` = a worked solution with ``<<a+b=c>>`` calculator annotations and a
``#### c`` line), so ``mathxfer.mathdata.worked`` builds the same think / no-think targets from both.

Rows are a pure function of (seed, split): train and held-out problems never share a key (a hash split),
and the held-out rows are the ``WordProblems`` benchmark (``mathxfer.eval.specs``), the in-distribution math
evaluation the study adds to the paper's math group.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterator
from typing import Any, Literal

Split = Literal["train", "heldout"]
VERSION = "1"  # part of every run key and the benchmark's version: bump when a template or range changes
HELDOUT_PERMILLE = 200
HELDOUT_SEED = 7  # the benchmark's rows: the first N held-out rows of this stream
HELDOUT_SIZE = 500

NAMES = ("Ana", "Ben", "Carla", "David", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jamal", "Kenji", "Lena",
         "Maya", "Noah", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tara")
THINGS = ("apples", "coins", "stickers", "marbles", "books", "pencils", "cookies", "stamps", "cards", "shells")
CONTAINERS = ("boxes", "bags", "jars", "baskets", "packs")


def _add(rng: random.Random, name: str, thing: str) -> tuple[str, str]:
    a, b = rng.randint(2, 20), rng.randint(2, 20)
    return (f"{name} has {a} {thing}. {name} gets {b} more {thing}. How many {thing} does {name} have now?",
            f"{name} has {a} + {b} = <<{a}+{b}={a + b}>>{a + b} {thing} now.\n#### {a + b}")


def _sub(rng: random.Random, name: str, thing: str) -> tuple[str, str]:
    a = rng.randint(8, 30)
    b = rng.randint(2, a - 2)
    return (f"{name} had {a} {thing} and gave {b} of them to a friend. How many {thing} does {name} have left?",
            f"{name} has {a} - {b} = <<{a}-{b}={a - b}>>{a - b} {thing} left.\n#### {a - b}")


def _mul(rng: random.Random, name: str, thing: str) -> tuple[str, str]:
    a, b = rng.randint(2, 5), rng.randint(2, 10)
    box = rng.choice(CONTAINERS)
    return (f"{name} buys {a} {box} of {thing}. Each of the {box} holds {b} {thing}. How many {thing} does "
            f"{name} buy in total?",
            f"{name} buys {a} * {b} = <<{a}*{b}={a * b}>>{a * b} {thing}.\n#### {a * b}")


def _add_sub(rng: random.Random, name: str, thing: str) -> tuple[str, str]:
    a, b = rng.randint(2, 15), rng.randint(2, 15)
    c = rng.randint(1, a + b - 1)
    return (f"{name} has {a} {thing}. {name} finds {b} more and then gives {c} away. How many {thing} does "
            f"{name} have now?",
            f"After finding more, {name} has {a} + {b} = <<{a}+{b}={a + b}>>{a + b} {thing}.\n"
            f"After giving some away, {name} has {a + b} - {c} = <<{a + b}-{c}={a + b - c}>>{a + b - c} {thing}."
            f"\n#### {a + b - c}")


KINDS: dict[str, Callable[[random.Random, str, str], tuple[str, str]]] = {
    "add": _add, "sub": _sub, "mul": _mul, "add_sub": _add_sub}


def split_of(question: str) -> Split:
    digest = int(hashlib.sha256(question.encode()).hexdigest()[:8], 16)
    return "heldout" if digest % 1000 < HELDOUT_PERMILLE else "train"


def _stream(seed: int, split: Split) -> Iterator[dict[str, Any]]:
    rng = random.Random(f"word-problems-{VERSION}-{seed}")
    seen: set[str] = set()
    while True:
        kind = rng.choice(list(KINDS))
        question, answer = KINDS[kind](rng, rng.choice(NAMES), rng.choice(THINGS))
        if question in seen or split_of(question) != split:
            continue
        seen.add(question)
        yield {"question": question, "answer": answer, "kind": kind}


def rows(n: int, seed: int, split: Split = "train") -> list[dict[str, Any]]:
    """``n`` distinct problems of ``split`` in GSM8K's schema (plus their ``kind``)."""
    stream = _stream(seed, split)
    return [next(stream) for _ in range(n)]


def heldout_rows(n: int = HELDOUT_SIZE) -> list[dict[str, Any]]:
    """The WordProblems benchmark's rows (a fixed stream: every model sees the same problems)."""
    return [{**r, "id": f"wp{i}"} for i, r in enumerate(rows(n, HELDOUT_SEED, "heldout"))]
