"""The Table 4 ablation on the toy micro ablation study (conftest.py ``micro_ablation``): its rows follow the
arms' recipes, the runs it shares with the micro study are the same runs, the KL arm trains with a KL term."""

from __future__ import annotations

import pytest

from mathxfer.controlled import ablation
from mathxfer.study.spec import read_study

ROWS = {"sft-nothink": "Off-policy SFT", "onpolicy-sft": "On-policy SFT", "online-sft": "On-policy SFT",
        "offpolicy-rl": "Off-policy RL", "grpo": "On-policy RL (no KL)", "grpo-kl": "On-policy RL"}


@pytest.mark.parametrize(("recipe", "row"), [
    ({"method": "sft", "sft_target": "think"}, "Off-policy SFT"),
    ({"method": "sft", "sft_target": "no-think"}, "Off-policy SFT"),
    ({"method": "onpolicy_sft"}, "On-policy SFT"),
    ({"method": "online_sft", "steps_per_generation": 5}, "On-policy SFT"),
    ({"method": "grpo", "beta": 0.0}, "On-policy RL (no KL)"),
    ({"method": "grpo"}, "On-policy RL (no KL)"),
    ({"method": "grpo", "beta": 0.04}, "On-policy RL"),
    ({"method": "offpolicy_grpo", "beta": 0.0}, "Off-policy RL"),
    ({"method": "offpolicy_grpo", "beta": 0.04}, None),  # the paper's row has no KL term
    ({"method": "dpo"}, None),
])
def test_each_recipe_fills_its_row(recipe, row):
    assert ablation.setting(recipe) == row


@pytest.mark.parametrize(("recipe", "how"), [
    ({"method": "online_sft", "steps_per_generation": 5}, "re-sampled every 5 steps"),
    ({"method": "online_sft"}, "re-sampled every step"),  # TRL's default: its accumulation steps, 1
    ({"method": "onpolicy_sft"}, "sampled once from the base"),
    ({"method": "grpo"}, ""),
])
def test_on_policy_sft_arms_say_how_they_sampled(recipe, how):
    assert ablation.sampled(recipe) == how


def test_the_shipped_ablation_study_fills_every_row_it_can():
    spec = read_study(profile="micro", name="ablation")
    from mathxfer.train.recipes import read_recipe, recipe_path

    rows = {arm: ablation.setting(read_recipe(recipe_path("micro", arm))) for arm in spec.arms}
    assert rows == ROWS
    assert set(rows.values()) == {s.name for s in ablation.SETTINGS}  # every row of the paper's Table 4


TOY_ROWS = {arm: row for arm, row in ROWS.items() if row != "On-policy SFT"}  # conftest.py's ABLATION


def test_table4_has_every_row_ours_above_the_papers(micro_ablation, micro_study):
    record, _ = micro_ablation
    assert ablation.arm_settings(record) == TOY_ROWS
    table = ablation.table4(record)
    assert list(dict.fromkeys(table.index.get_level_values(0))) == ["base", *(s.name for s in ablation.SETTINGS)]
    assert table.loc[("Off-policy SFT", "paper: Qwen3-8B-Base"), "math"] == "41.9"
    assert table.loc[("On-policy RL", "paper: Qwen3-8B-Base"), "TI_non"] == "32.4"
    assert (table.loc[("On-policy SFT", "ours: not run")] == "").all()  # the note says why
    assert table.loc[("Off-policy RL", "paper: Qwen3-8B-Base"), "math"] == "45.5"
    assert ("Off-policy RL", "ours: offpolicy-rl (2 seeds)") in table.index
    acc = record.accuracy("group")
    kl_math = acc[(acc["arm"] == "grpo-kl") & (acc["name"] == "math")]["accuracy"]
    assert table.loc[("On-policy RL", "ours: grpo-kl (2 seeds)"), "math"] == \
        f"{kl_math.mean():.1f} ± {kl_math.std():.1f}"
    # the arms it shares with the micro study are that study's runs, not retrained
    main, _ = micro_study
    shared = {(r.arm, r.seed): r.model_path for r in main.runs if r.arm == "grpo" and r.variant == "main"}
    assert shared and shared == {(r.arm, r.seed): r.model_path for r in record.runs if r.arm == "grpo"}


def test_the_kl_arm_trains_with_a_kl_term(micro_ablation):
    record, _ = micro_ablation
    metrics = record.metrics()
    assert {r.recipe["beta"] for r in record.runs if r.arm == "grpo-kl"} == {0.04}
    kl = metrics[metrics["arm"] == "grpo-kl"]
    assert "kl" in metrics.columns and kl["kl"].notna().any()  # TRL logs the KL only when beta > 0
    assert metrics[metrics["arm"] == "grpo"]["kl"].isna().all()


def test_note_states_each_reading_and_what_is_missing(micro_ablation):
    record, _ = micro_ablation
    text = ablation.note(record).data
    for arm in ("grpo", "grpo-kl"):
        for off in ("sft-nothink", "offpolicy-rl"):  # each on-policy arm against each off-policy one
            assert f"{arm} ({ROWS[arm]}) keeps non-reasoning better than {off} ({ROWS[off]}):" in text
    assert "offpolicy-rl (Off-policy RL) keeps non-reasoning better than sft-nothink (Off-policy SFT), on the same" in text
    assert "the KL term (grpo-kl minus grpo: math " in text
    assert "Not run here, so not compared: On-policy SFT (no arm of this study has this setting)." in text
    assert text.count("**agrees**") + text.count("**does not agree**") + text.count("cannot be resolved") == 6
