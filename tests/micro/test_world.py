from __future__ import annotations

from mathxfer.micro import kb, world


def test_same_seed_same_items_and_different_seed_differs() -> None:
    a = world.sample(300, 7, "train")
    assert a == world.sample(300, 7, "train")
    assert a != world.sample(300, 8, "train")
    assert world.heldout_set("math", 50) == world.heldout_set("math", 50)


def test_knowledge_base_is_fixed() -> None:
    kb.countries.cache_clear()
    first = kb.countries()
    kb.countries.cache_clear()
    assert kb.countries() == first and len(first) == kb.N_COUNTRIES
    assert len({c.name for c in first}) == kb.N_COUNTRIES


def test_every_group_has_three_families_and_weights_sum_to_one() -> None:
    for group in world.GROUPS:
        fams = world.families_of(group)
        assert len(fams) >= 3
        assert abs(sum(f.weight for f in fams) - 1) < 1e-9


def test_split_is_a_function_of_the_key_and_sets_never_overlap() -> None:
    train = world.sample(6000, 1, "train")
    held = [it for g in world.GROUPS for it in world.heldout_set(g, 200)]
    assert all(it.split == "train" for it in train) and all(it.split == "heldout" for it in held)
    assert not {it.key for it in train} & {it.key for it in held}
    assert not {it.question for it in train} & {it.question for it in held}
    # math keys are operands: a held-out operand pair never appears in train under any wording
    assert all(it.key.startswith(f"{it.family}:") for it in held if it.group == "math")
    share = sum(world.split_of(f"k{i}") == "heldout" for i in range(5000)) / 5000
    assert 0.17 < share < 0.23


def test_every_fact_and_instruction_word_is_trained_on() -> None:
    """Non-reasoning held-out items recall memorised content, so all of it must occur in train."""
    train = world.sample(20_000, 1000, "train")
    facts = {(it.meta["country"], it.meta["attribute"]) for it in train if it.family == "fact"}
    assert len(facts) == kb.N_COUNTRIES * len(kb.ATTRIBUTES)
    for fam in ("upper", "reverse", "repeat", "dash"):
        assert {it.meta["word"] for it in train if it.family == fam} == set(kb.WORDS)


def test_gold_answers_are_right() -> None:
    for it in world.sample(2000, 3, "train"):
        if it.group == "math":
            ops = it.meta["ops"]
            value = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
                     "two_step": lambda a, b, c: a + b - c}[it.family](*ops)
            assert it.answer.endswith(f"Answer: {value}")
        elif it.family == "upper":
            assert it.answer == it.meta["word"].upper()
        elif it.family == "sort":
            parts = it.answer.split(", ")
            assert parts == sorted(parts, key=lambda s: (len(s), s))


def test_difficulty_knob_changes_operand_range() -> None:
    cfg = world.WorldConfig(add_ranges=((1000, 1999),))
    items = world.sample_family("add", 50, 0, "train", cfg)
    assert all(all(1000 <= x <= 1999 for x in it.meta["ops"]) for it in items)


def test_default_add_operands_mix_two_and_three_digits() -> None:
    ops = [x for it in world.sample_family("add", 200, 0, "train") for x in it.meta["ops"]]
    two_digit = sum(x < 100 for x in ops) / len(ops)
    assert 0.4 < two_digit < 0.6 and min(ops) >= 10 and max(ops) <= 999


def test_examples_cover_every_family() -> None:
    rows = world.examples(2)
    assert len(rows) == 2 * len(world.FAMILIES)
    assert {r["family"] for r in rows} == set(world.FAMILIES)


def test_items_do_not_depend_on_the_process_hash_seed() -> None:
    import os
    import subprocess
    import sys

    code = ("import hashlib; from mathxfer.micro import world; "
            "print(hashlib.sha256(repr(world.sample(500, 3, 'train')).encode()).hexdigest())")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": s}).stdout for s in ("1", "2")}
    assert len(outs) == 1
