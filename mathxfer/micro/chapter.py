"""What the micro-world chapter shows: the task families with examples, the teacher's styles, and the
shipped base's held-out accuracy per family against the bands the design asks for."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from IPython.display import Markdown

from mathxfer.groups import GROUP_LABELS
from mathxfer.micro import posttrain_data, world
from mathxfer.models import micro_base_dir

# the design's target bands for the base, in percent (issue: mid math, weak-to-mid other, strong non)
BANDS = {"math": (20.0, 50.0), "other": (10.0, 60.0), "non": (90.0, 100.0)}


def profile_note(profile: str) -> Markdown | None:
    """Under another profile this page still describes the micro world: say so, and where that profile's
    model and data are described (nothing to say in the micro book)."""
    if profile == "micro":
        return None
    return Markdown(f"This book was built for the **{profile}** profile. This chapter describes the micro world, "
                    "the model organism of the `micro` profile, and shows no result of this book's study; the "
                    f"{profile} study's model, data and numbers are in the controlled, latent and token chapters.")


def families_table(n_examples: int = 1, seed: int = 0) -> pd.DataFrame:
    """Every task family: group, what it asks, and held-out examples with their gold answers."""
    rows = []
    for fam in world.FAMILIES.values():
        for item in world.sample_family(fam.name, n_examples, seed, "heldout"):
            rows.append({"group": GROUP_LABELS[fam.group], "family": fam.name, "task": fam.description,
                         "share in group": f"{100 * fam.weight:.0f}%", "question": item.question,
                         "gold answer": item.answer})
    return pd.DataFrame(rows).set_index(["group", "family"])


def teacher_examples(n: int = 3, seed: int = 0) -> pd.DataFrame:
    """The same math prompts under each SFT target: the base's own style, teacher think and no-think."""
    items = posttrain_data.math_prompts(n, seed=seed)
    return pd.DataFrame([{"question": it.question, "base style (gold)": posttrain_data.target(it, "gold"),
                          "teacher, no-think": posttrain_data.target(it, "no_think"),
                          "teacher, think": posttrain_data.target(it, "think")} for it in items])


def base_record() -> dict[str, object]:
    return json.loads((micro_base_dir() / "training.json").read_text())


def training_summary() -> Markdown:
    """How the shipped base was made: the exact command, steps, seed and wall time (from training.json)."""
    record = base_record()
    commands = "\n".join(record.get("reproduce", [record["command"]]))
    return Markdown(
        f"The shipped base (`data/micro/base`, {record['n_params']:,} parameters) was pretrained from scratch by "
        f"`mathxfer` code in {record.get('total_train_wall_s', record['train_wall_s']) / 60:.0f} minutes of "
        f"one CPU thread (torch {record['torch']}). Reproduce it with:\n\n```bash\n{commands}\n```\n\n"
        f"{record.get('note', '')}")


def accuracy_table(base: dict[str, Any] | None) -> pd.DataFrame | Markdown:
    """The base's held-out accuracy (%) per family and group (``base``: the micro study record's base entry),
    with the design band and whether the base is inside it."""
    if base is None:
        return Markdown("This book was built for another profile; the micro base's accuracy is in the micro "
                        "book (`mathxfer book`).")
    rows = []
    families = base["scores"]
    for group in world.GROUPS:
        for fam in world.families_of(group):
            if fam.name in families:
                rows.append({"group": GROUP_LABELS[group], "family": fam.name,
                             "accuracy": families[fam.name], "band": "", "in band": ""})
        lo, hi = BANDS[group]
        acc = base["group_scores"][group]
        rows.append({"group": GROUP_LABELS[group], "family": "(group)", "accuracy": acc,
                     "band": f"{lo:.0f}-{hi:.0f}", "in band": "yes" if lo <= acc <= hi else "no"})
    return pd.DataFrame(rows).set_index(["group", "family"])
