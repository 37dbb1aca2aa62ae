"""Table 4: the paper's on- and off-policy ablation, our arms beside its rows.

The paper writes SFT and RL as one surrogate loss, -E_x E_{y~q}[w(x, y) log pi(y|x)] + beta KL(pi || pi_ref):
SFT draws y from a teacher (off-policy) or from the policy's own correct samples (on-policy) with w = 1, RL
weights by the advantage. Its Table 4 (Qwen3-8B-Base) varies where y comes from, the weight and the KL term.
Each of our arms fills the row its recipe matches (``setting``); a row no arm matches says why it is empty.
"""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd
from IPython.display import Markdown

from mathxfer.controlled.report import gains_apart, group_gain, mean_sd, verdict
from mathxfer.controlled.tables import gains, transfer_summary
from mathxfer.groups import GROUPS
from mathxfer.paths import paper_dir
from mathxfer.study.record import StudyRecord


class Setting(NamedTuple):
    name: str  # the row's name in the paper's Table 4
    sampling: str  # where the training completions come from
    weight: str  # w in the surrogate loss
    on_policy: bool


SETTINGS = (
    Setting("Off-policy SFT", "teacher", "1", False),
    Setting("On-policy SFT", "policy (rejection-sampled)", "1", True),
    Setting("Off-policy RL", "teacher", "advantage", False),
    Setting("On-policy RL (no KL)", "policy", "advantage", True),
    Setting("On-policy RL", "policy", "advantage, + KL", True),
)
# why a row has no arm of ours (the page's note says it; the table leaves the row's cells empty)
NOT_RUN: dict[str, str] = {}
PAPER_BASE = "Qwen3-8B-Base"
_COLUMNS = ["math", "other", "non", "TI_other", "TI_non"]


def setting(recipe: dict[str, object]) -> str | None:
    """The Table 4 row an arm's recipe stands for (None: none does)."""
    method = recipe.get("method")
    if method == "sft":
        return "Off-policy SFT"
    if method in ("onpolicy_sft", "online_sft"):  # sampled once from the base, or re-sampled as it trains
        return "On-policy SFT"
    if method == "grpo":
        return "On-policy RL" if float(recipe.get("beta") or 0.0) > 0 else "On-policy RL (no KL)"
    if method == "offpolicy_grpo":  # the paper's off-policy RL row has no KL term
        return "Off-policy RL" if not float(recipe.get("beta") or 0.0) else None
    return None


def sampled(recipe: dict[str, object]) -> str:
    """How an on-policy SFT arm's samples were drawn ('' for every other arm): the paper's variant re-samples
    the current policy, the one-shot arm samples the base once (the offline control)."""
    if recipe.get("method") == "online_sft":  # TRL's default k is the accumulation steps, 1 in our recipes
        k = int(recipe.get("steps_per_generation") or 1)  # type: ignore[call-overload]
        return f"re-sampled every {k} steps" if k > 1 else "re-sampled every step"
    if recipe.get("method") == "onpolicy_sft":
        return "sampled once from the base"
    return ""


def arm_settings(record: StudyRecord) -> dict[str, str]:
    """Each arm with a Table 4 row, by its recipe: arm -> the row's name."""
    out: dict[str, str] = {}
    for run in record.select("main"):
        if (name := setting(run.recipe)) is not None:
            out.setdefault(run.arm, name)
    return out


def paper_table4() -> pd.DataFrame:
    return pd.read_csv(paper_dir() / "onpolicy_ablation.csv").set_index("setting")


def table4(record: StudyRecord) -> pd.DataFrame:
    """Group accuracy (%, mean ± sd over seeds) and TI of each Table 4 row: our arm(s) first, then the
    paper's row (Qwen3-8B-Base, its accuracies and TIs as printed); a row with no arm says why."""
    acc = record.accuracy("group")
    ti = transfer_summary(record, "pooled")
    paper = paper_table4()
    settings = arm_settings(record)

    def ours(arm: str) -> dict[str, str]:
        row = {g: mean_sd(acc[(acc["arm"] == arm) & (acc["name"] == g)]["accuracy"]).lstrip("+") for g in GROUPS}
        for col in ("TI_other", "TI_non"):  # the base has no TI
            value = ti[col].get(arm, float("nan"))
            row[col] = "" if arm == "base" else "undefined" if pd.isna(value) else f"{value:.1f}"
        return row

    def theirs(name: str) -> dict[str, str]:
        return {c: "" if pd.isna(paper.at[name, c]) else f"{paper.at[name, c]:.1f}" for c in _COLUMNS}

    rows = [("base", f"ours: base ({record.spec.base_model})", ours("base")),
            ("base", f"paper: {PAPER_BASE}", theirs(PAPER_BASE))]
    for s in SETTINGS:
        arms = [a for a in record.arms if settings.get(a) == s.name]
        rows += [(s.name, f"ours: {a} ({len(acc[acc['arm'] == a]['seed'].unique())} seeds)", ours(a)) for a in arms]
        if not arms:  # the note says why
            rows.append((s.name, "ours: not run", dict.fromkeys(_COLUMNS, "")))
        rows.append((s.name, f"paper: {PAPER_BASE}", theirs(s.name)))
    out = pd.DataFrame([r for _, _, r in rows], index=pd.MultiIndex.from_tuples(
        [(n, src) for n, src, _ in rows], names=["Table 4 row", "source"]))
    return out[_COLUMNS]


def note(record: StudyRecord) -> Markdown:
    """The paper's readings of Table 4, checked on our group gains: the data's source matters most (each
    on-policy row keeps non-reasoning better than each off-policy one), the loss matters too (on the teacher's
    data, RL keeps it better than SFT: its -1.9 against -7.0), and the KL term matters little."""
    g = gains(record, "group")
    settings = arm_settings(record)
    by_row = {s.name: [a for a in record.arms if settings.get(a) == s.name] for s in SETTINGS}
    on = [a for s in SETTINGS if s.on_policy for a in by_row[s.name]]
    off = [a for s in SETTINGS if not s.on_policy for a in by_row[s.name]]
    paper = paper_table4()
    how = {run.arm: sampled(run.recipe) for run in record.select("main")}  # said here: the table's labels stay short
    lines = [f"- **{a}** ({settings[a]}{', ' + how[a] if how.get(a) else ''}): math "
             f"{mean_sd(group_gain(g, a, 'math'))}, other "
             f"{mean_sd(group_gain(g, a, 'other'))}, non-reasoning {mean_sd(group_gain(g, a, 'non'))} points"
             for a in record.arms if a in settings]
    claims = []
    for a in on:  # the data's source: every on-policy row against every off-policy one
        for b in off:
            gap = group_gain(g, a, "non").mean() - group_gain(g, b, "non").mean()
            claims.append((f"{a} ({settings[a]}) keeps non-reasoning better than {b} ({settings[b]})", gap > 0,
                           gains_apart(record, g, a, b, "non")))
    for a in by_row["Off-policy RL"]:  # the loss, on the same teacher data (the paper: -1.9 against -7.0)
        for b in by_row["Off-policy SFT"]:
            gap = group_gain(g, a, "non").mean() - group_gain(g, b, "non").mean()
            claims.append((f"{a} ({settings[a]}) keeps non-reasoning better than {b} ({settings[b]}), on the "
                           "same teacher's data", gap > 0, gains_apart(record, g, a, b, "non")))
    beyond = []  # not the paper's claims (it runs one on-policy SFT): whether they hold, not whether they agree
    for a in by_row["On-policy SFT"]:  # the policy's current samples against the base's, once
        for b in by_row["On-policy SFT"]:
            if how[a].startswith("re-sampled") and how[b].startswith("sampled once"):
                gap = group_gain(g, a, "non").mean() - group_gain(g, b, "non").mean()
                beyond.append((f"{a} ({how[a]}) keeps non-reasoning better than {b} ({how[b]})", gap > 0,
                               gains_apart(record, g, a, b, "non")))
    for kl in by_row["On-policy RL"]:
        for plain in by_row["On-policy RL (no KL)"]:
            diffs = {grp: group_gain(g, kl, grp).mean() - group_gain(g, plain, grp).mean() for grp in GROUPS}
            within = not any(gains_apart(record, g, kl, plain, grp) for grp in GROUPS)
            shown = ", ".join(f"{grp} {d:+.1f}" for grp, d in diffs.items())
            claims.append((f"the KL term ({kl} minus {plain}: {shown}) changes no group by more than the spread",
                           within, True))
    missing = [s.name for s in SETTINGS if not by_row[s.name]]
    base_non = paper.at[PAPER_BASE, "non"]
    ref = ", ".join(f"{s.name} {paper.at[s.name, 'non'] - base_non:+.1f}" for s in SETTINGS)
    text = ("Group gains over the base (mean ± sd over seeds; the spread is the sd):\n\n" + "\n".join(lines)
            + f"\n\nThe paper's non-reasoning gains over {PAPER_BASE} (Table 4): {ref}. Its reading: where the "
            "training data comes from matters most, the KL term little.\n\n"
            + "\n".join(f"- {text}: {verdict(ok, resolved)}" for text, ok, resolved in claims))
    if beyond:
        text += ("\n\nBeyond the paper, which runs one on-policy SFT:\n\n" + "\n".join(
            f"- {claim}: " + (("**holds**" if ok else "**does not hold**") if resolved
                              else "cannot be resolved here (the change is within the spread)")
            for claim, ok, resolved in beyond))
    if missing:
        text += "\n\nNot run here, so not compared: " + "; ".join(
            f"{name} ({NOT_RUN.get(name, 'no arm of this study has this setting')})" for name in missing) + "."
    return Markdown(text)
