"""The task world: seeded generators for three groups of task families, and the train/held-out split.

Every item carries a split ``key``; the split is a pure function of that key (a SHA-256 bucket), so
train and held-out can never share a key, whatever the seeds. What the key is decides what
"unseen" means: for math and other reasoning it is the problem itself (operands, list, puzzle), so
held-out math asks operand pairs never trained on in any wording; for non-reasoning it is the full
question text, because the facts and words are meant to be memorised and the held-out test is
recalling them under a new wording (each fact and word appears in dozens of train wordings).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from mathxfer.groups import Group
from mathxfer.micro import kb

Split = Literal["train", "heldout"]
GROUPS: tuple[Group, ...] = ("math", "other", "non")


@dataclass(frozen=True)
class WorldConfig:
    """Difficulty knobs. The defaults are the feasibility study's 2-digit world."""

    # Each add/sub operand first draws its size from these ranges, uniformly. A base on 2-digit
    # operands only scored 88% math (add 97%) and one on 3-digit only 13% (add 9%, sub 0%), both outside
    # the 20-50% band that leaves post-training room; the mix sits in between.
    add_ranges: tuple[tuple[int, int], ...] = ((10, 99), (100, 999))
    mul_small: tuple[int, int] = (2, 9)  # the one-digit factor
    mul_large: tuple[int, int] = (10, 99)  # the two-digit factor
    step_range: tuple[int, int] = (10, 99)  # all three amounts in two_step
    compare_range: tuple[int, int] = (100, 999)
    sort_len: tuple[int, int] = (3, 5)
    swap_steps: tuple[int, int] = (1, 3)
    chain_rooms: int = 5
    heldout_permille: int = 200  # share of keys (per mille) that are held out


DEFAULT_WORLD = WorldConfig()


@dataclass(frozen=True)
class Item:
    group: Group
    family: str
    question: str
    answer: str  # the gold answer in the base's own style (what pretraining teaches)
    key: str  # what the split hashes; see the module docstring
    meta: dict[str, object] = field(default_factory=dict, compare=False, hash=False)

    @property
    def split(self) -> Split:
        return split_of(self.key)


def split_of(key: str, heldout_permille: int = DEFAULT_WORLD.heldout_permille) -> Split:
    bucket = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % 1000
    return "heldout" if bucket < heldout_permille else "train"


# ---------------------------------------------------------------------------------------------
# Generators: (rng, cfg) -> Item. Each draws everything from rng, so a seed fixes the item.

Gen = Callable[[random.Random, WorldConfig], Item]
_THINGS = ("apples", "pens", "cakes", "cards", "eggs", "shells")


def _ri(rng: random.Random, lo_hi: tuple[int, int]) -> int:
    return rng.randint(lo_hi[0], lo_hi[1])


def _operand(rng: random.Random, ranges: tuple[tuple[int, int], ...]) -> int:
    return _ri(rng, rng.choice(ranges))


def _add(rng: random.Random, cfg: WorldConfig) -> Item:
    a, b = _operand(rng, cfg.add_ranges), _operand(rng, cfg.add_ranges)
    name, thing = rng.choice(kb.NAMES), rng.choice(_THINGS)
    q = rng.choice((
        f"{name} has {a} coins and gets {b} more. How many coins does {name} have now?",
        f"A shop sold {a} {thing} on Monday and {b} on Tuesday. How many {thing} did it sell in total?",
    ))
    return Item("math", "add", q, f"{a}+{b}={a + b}. Answer: {a + b}", f"add:{a}:{b}", {"ops": (a, b)})


def _sub(rng: random.Random, cfg: WorldConfig) -> Item:
    a, b = _operand(rng, cfg.add_ranges), _operand(rng, cfg.add_ranges)
    while a == b:
        b = _operand(rng, cfg.add_ranges)
    a, b = max(a, b), min(a, b)
    name, thing = rng.choice(kb.NAMES), rng.choice(_THINGS)
    q = rng.choice((
        f"{name} has {a} coins and gives away {b}. How many coins are left?",
        f"A box holds {a} {thing}. {name} takes out {b}. How many {thing} are in the box now?",
    ))
    return Item("math", "sub", q, f"{a}-{b}={a - b}. Answer: {a - b}", f"sub:{a}:{b}", {"ops": (a, b)})


def _mul(rng: random.Random, cfg: WorldConfig) -> Item:
    a, b = _ri(rng, cfg.mul_small), _ri(rng, cfg.mul_large)
    name, thing = rng.choice(kb.NAMES), rng.choice(_THINGS)
    q = rng.choice((
        f"{name} buys {a} bags with {b} {thing} in each. How many {thing} does {name} buy?",
        f"A hall has {a} rows of {b} chairs. How many chairs are there?",
    ))
    return Item("math", "mul", q, f"{a}*{b}={a * b}. Answer: {a * b}", f"mul:{a}:{b}", {"ops": (a, b)})


def _two_step(rng: random.Random, cfg: WorldConfig) -> Item:
    a, b = _ri(rng, cfg.step_range), _ri(rng, cfg.step_range)
    c = rng.randint(cfg.step_range[0], min(cfg.step_range[1], a + b))  # never below zero
    name, thing = rng.choice(kb.NAMES), rng.choice(_THINGS)
    q = rng.choice((
        f"{name} has {a} coins, gets {b} more and then gives away {c}. How many coins does {name} have now?",
        f"A shop has {a} {thing}. It buys {b} more and sells {c}. How many {thing} does it have now?",
    ))
    s, r = a + b, a + b - c
    return Item("math", "two_step", q, f"{a}+{b}={s}. {s}-{c}={r}. Answer: {r}", f"two_step:{a}:{b}:{c}",
                {"ops": (a, b, c)})


def _sort(rng: random.Random, cfg: WorldConfig) -> Item:
    n = _ri(rng, cfg.sort_len)
    if rng.random() < 0.5:
        xs = [str(x) for x in rng.sample(range(10, 100), n)]
        ordered, q = sorted(xs, key=int), "Sort these numbers from smallest to largest: "
    else:
        xs = rng.sample("abcdefghijklmnopqrstuvwxyz", n)
        ordered, q = sorted(xs), "Sort these letters in alphabetical order: "
    q += ", ".join(xs) + "."
    return Item("other", "sort", q, ", ".join(ordered), q)


def _compare(rng: random.Random, cfg: WorldConfig) -> Item:
    a, b = rng.sample(range(cfg.compare_range[0], cfg.compare_range[1] + 1), 2)
    larger = rng.random() < 0.5
    q = f"Which is {'larger' if larger else 'smaller'}, {a} or {b}?"
    return Item("other", "compare", q, str(max(a, b) if larger else min(a, b)), q)


def _swap(rng: random.Random, cfg: WorldConfig) -> Item:
    names = ["a", "b", "c"]
    values = dict(zip(names, rng.sample(range(10), 3)))
    parts = [", ".join(f"{k}={v}" for k, v in values.items()) + "."]
    for _ in range(_ri(rng, cfg.swap_steps)):
        x, y = rng.sample(names, 2)
        values[x], values[y] = values[y], values[x]
        parts.append(f"swap {x} {y}.")
    target = rng.choice(names)
    q = " ".join(parts) + f" What is {target}?"
    return Item("other", "swap", q, str(values[target]), q)


def _chain(rng: random.Random, cfg: WorldConfig) -> Item:
    rooms = rng.sample(kb.ROOMS, cfg.chain_rooms)  # a path rooms[0] -> rooms[1] -> ...
    doors = [f"{rooms[i]} leads to {rooms[i + 1]}." for i in range(len(rooms) - 1)]
    rng.shuffle(doors)
    k = rng.randint(1, 3)
    start = rng.randint(0, len(rooms) - 1 - k)
    q = f"Doors: {' '.join(doors)} You start in {rooms[start]} and go through {k} doors. Where are you?"
    return Item("other", "chain", q, rooms[start + k], q)


def _asker(rng: random.Random, body: str) -> str:
    """Wording variety for non-reasoning questions (so every fact/word has many train wordings)."""
    r = rng.random()
    if r < 0.2:
        return body[0].upper() + body[1:]
    if r < 0.6:
        return f"{rng.choice(kb.NAMES)} asks: {body}"
    return f"Please, {body}"


def _instruct(family: str, body: Callable[[str, random.Random], tuple[str, str]]) -> Gen:
    def gen(rng: random.Random, cfg: WorldConfig) -> Item:
        word = rng.choice(kb.WORDS)
        text, answer = body(word, rng)
        q = _asker(rng, text)
        return Item("non", family, q, answer, q, {"word": word})

    return gen


def _repeat_body(w: str, rng: random.Random) -> tuple[str, str]:
    k = rng.randint(2, 3)
    return f"repeat the word {w} {k} times.", " ".join([w] * k)


_upper = _instruct("upper", lambda w, r: (r.choice((f"write the word {w} in uppercase.",
                                                     f"write {w} in capital letters.")), w.upper()))
_reverse = _instruct("reverse", lambda w, r: (r.choice((f"write the word {w} backwards.",
                                                         f"spell {w} in reverse order.")), w[::-1]))
_repeat = _instruct("repeat", _repeat_body)
_dash = _instruct("dash", lambda w, r: (r.choice((f"write {w} with a dash between letters.",
                                                   f"put a dash between the letters of {w}.")), "-".join(w)))


def _fact(rng: random.Random, cfg: WorldConfig) -> Item:
    country = rng.choice(kb.countries())
    attribute = rng.choice(tuple(kb.ATTRIBUTES))
    phrase = kb.ATTRIBUTES[attribute]
    body = rng.choice((f"what is the {phrase} of {country.name}?", f"name the {phrase} of {country.name}."))
    q = _asker(rng, body)
    return Item("non", "fact", q, country.fact(attribute), q, {"country": country.name, "attribute": attribute})


_FILLERS = ("It is a sunny day.", "The door is open.", "It rained in the morning.", "The room is quiet.",
            "A clock ticks on the wall.", "The lights are on.")


def _read(rng: random.Random, cfg: WorldConfig) -> Item:
    # One person and a filler sentence: a first base scored 44% when the passage held two people of
    # the same shape (it had to bind names, a reasoning skill); retrieval alone stays non-reasoning.
    person, obj, place, color = (rng.choice(x) for x in (kb.NAMES, kb.OBJECTS, kb.PLACES, kb.COLORS))
    sentences = [f"{person} keeps a {color} {obj} in the {place}.", rng.choice(_FILLERS)]
    rng.shuffle(sentences)
    question, answer = rng.choice((
        (f"Where does {person} keep the {obj}?", place),
        (f"What color is the {obj} of {person}?", color),
        (f"What does {person} keep in the {place}?", obj),
    ))
    q = f"Passage: {' '.join(sentences)} Question: {question}"
    return Item("non", "read", q, answer, q)


@dataclass(frozen=True)
class Family:
    name: str
    group: Group
    weight: float  # share within its group
    generate: Gen
    case_sensitive: bool = True  # whether the lenient grader must keep case (it is the constraint)
    description: str = ""


FAMILIES: dict[str, Family] = {f.name: f for f in (
    Family("add", "math", 0.4, _add, description="add two 3-digit numbers (word problem)"),
    Family("sub", "math", 0.2, _sub, description="subtract two 3-digit numbers (word problem)"),
    Family("mul", "math", 0.2, _mul, description="1-digit times 2-digit (word problem)"),
    Family("two_step", "math", 0.2, _two_step, description="add then subtract 2-digit amounts"),
    Family("sort", "other", 0.25, _sort, False, "sort 3-5 numbers or letters"),
    Family("compare", "other", 0.25, _compare, description="larger/smaller of two 3-digit numbers"),
    Family("swap", "other", 0.25, _swap, description="trace 1-3 variable swaps"),
    Family("chain", "other", 0.25, _chain, False, "follow k doors through shuffled rooms (one-step plan)"),
    Family("upper", "non", 0.125, _upper, description="instruction: uppercase a word"),
    Family("reverse", "non", 0.125, _reverse, description="instruction: reverse a word"),
    Family("repeat", "non", 0.125, _repeat, description="instruction: repeat a word k times"),
    Family("dash", "non", 0.125, _dash, description="instruction: dashes between letters"),
    Family("fact", "non", 0.25, _fact, False, "recall a fact of the fictional knowledge base"),
    Family("read", "non", 0.25, _read, False, "answer a question about a one-fact passage"),
)}


def families_of(group: Group) -> tuple[Family, ...]:
    return tuple(f for f in FAMILIES.values() if f.group == group)


def _pick(rng: random.Random, names: list[str], weights: list[float]) -> str:
    return rng.choices(names, weights=weights, k=1)[0]


def iter_items(seed: int, split: Split, group_weights: dict[Group, float],
               cfg: WorldConfig = DEFAULT_WORLD) -> Iterator[Item]:
    """An endless deterministic stream of items of one split, mixing groups by ``group_weights``.

    Rejection sampling on the split keeps the stream a pure function of (seed, split, weights, cfg).
    """
    unknown = set(group_weights) - set(GROUPS)
    if unknown:
        raise ValueError(f"unknown group(s) {sorted(unknown)}; use some of {GROUPS}")
    rng = random.Random(f"micro-world:{seed}:{split}")
    groups = [g for g in GROUPS if group_weights.get(g, 0) > 0]
    gweights = [group_weights[g] for g in groups]
    fams = {g: families_of(g) for g in groups}
    while True:
        group = _pick(rng, groups, gweights)  # type: ignore[arg-type]
        name = _pick(rng, [f.name for f in fams[group]], [f.weight for f in fams[group]])
        item = FAMILIES[name].generate(rng, cfg)
        if split_of(item.key, cfg.heldout_permille) == split:
            yield item


def sample(n: int, seed: int, split: Split, group_weights: dict[Group, float] | None = None,
           cfg: WorldConfig = DEFAULT_WORLD) -> list[Item]:
    """``n`` items of ``split``; by default the pretraining mix (40% math, 30% other, 30% non)."""
    weights = group_weights or PRETRAIN_MIX
    stream = iter_items(seed, split, weights, cfg)
    return [next(stream) for _ in range(n)]


def sample_family(family: str, n: int, seed: int, split: Split, cfg: WorldConfig = DEFAULT_WORLD) -> list[Item]:
    """``n`` items of one family (for examples and per-family tests)."""
    if family not in FAMILIES:
        raise KeyError(f"unknown family {family!r}; known: {', '.join(FAMILIES)}")
    rng = random.Random(f"micro-family:{family}:{seed}:{split}")
    out: list[Item] = []
    while len(out) < n:
        item = FAMILIES[family].generate(rng, cfg)
        if split_of(item.key, cfg.heldout_permille) == split:
            out.append(item)
    return out


PRETRAIN_MIX: dict[Group, float] = {"math": 0.4, "other": 0.3, "non": 0.3}
EVAL_SEEDS: dict[Group, int] = {"math": 777, "other": 778, "non": 779}


def heldout_set(group: Group, n: int = 200, cfg: WorldConfig = DEFAULT_WORLD) -> list[Item]:
    """The fixed evaluation set of a group: ``n`` held-out items from the group's eval seed."""
    return sample(n, EVAL_SEEDS[group], "heldout", {group: 1.0}, cfg)


def examples(n_per_family: int = 2, seed: int = 0, split: Split = "train") -> list[dict[str, str]]:
    """A few items of every family as plain rows (for a table in the book)."""
    return [{"group": f.group, "family": f.name, "description": f.description, "question": it.question,
             "answer": it.answer}
            for f in FAMILIES.values() for it in sample_family(f.name, n_per_family, seed, split)]


GENERATOR_VERSION = 2  # bump when a generator's wording or sampling changes (2: mixed 2/3-digit add/sub)


def fingerprint(cfg: WorldConfig = DEFAULT_WORLD) -> str:
    """Identifies the world (its knobs and generator version) in cache and run keys, so results computed
    on another world are never reused."""
    text = json.dumps({"version": GENERATOR_VERSION, "config": dataclasses.asdict(cfg)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]
