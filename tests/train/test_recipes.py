"""Recipes are checked before anything trains: unknown method, missing field, wrong type, unknown field."""

from __future__ import annotations

import pytest
import yaml

from mathxfer.train import RecipeError, load
from mathxfer.train.recipes import RECIPES_DIR, available_recipes, build_config, read_recipe

GOOD = {"method": "grpo", "model_name_or_path": "data/micro/base", "dataset_name": "micro-math"}
BAD = [
    ({**GOOD, "method": "dpo"}, "unknown method 'dpo'; choose one of sft, onpolicy_sft, online_sft, grpo, offpolicy_grpo"),
    ({k: v for k, v in GOOD.items() if k != "model_name_or_path"}, "missing field(s) model_name_or_path"),
    ({**GOOD, "learning_rate": "fast"}, "learning_rate must be float or int, not str 'fast'"),
    ({**GOOD, "max_steps": 2.5}, "max_steps must be int, not float 2.5"),
    ({**GOOD, "num_generations": True}, "num_generations must be int, not True"),
    ({**GOOD, "max_seq_length": 128}, "unknown field(s) max_seq_length"),
    ({**GOOD, "sft_target": "think"}, "unknown field(s) sft_target for method 'grpo'"),
    ({**GOOD, "dataset_name": "mmlu"}, "unknown dataset_name 'mmlu'"),
    ({**GOOD, "output_dir": "/tmp/x"}, "output_dir is derived"),
]


@pytest.mark.parametrize(("recipe", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_recipe_fails_with_a_clear_message(tmp_path, recipe, message):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(recipe))
    with pytest.raises(RecipeError) as err:
        read_recipe(path)
    assert message in str(err.value) and str(path) in str(err.value)


def test_missing_recipe_names_where_recipes_live(tmp_path):
    with pytest.raises(RecipeError, match="recipes live in"):
        read_recipe(tmp_path / "nope.yaml")


@pytest.mark.parametrize("name", available_recipes("micro"))
def test_every_shipped_recipe_builds_a_cpu_config(name):
    config = load("micro", name)
    assert config.use_cpu and not config.bf16
    assert config.report_to == [] or config.report_to == "none" or config.report_to == ["none"]


def test_output_folder_is_keyed_by_recipe_and_seed(tmp_path):
    a = build_config({**GOOD, "seed": 0}, tmp_path)
    b = build_config({**GOOD, "seed": 0}, tmp_path)
    c = build_config({**GOOD, "seed": 1}, tmp_path)
    assert a.output_dir == b.output_dir != c.output_dir


def test_micro_arms_share_prompts_and_optimiser():
    names = ("grpo", "sft-think", "sft-nothink", "onpolicy-sft", "online-sft")
    configs = {name: load("micro", name) for name in names}
    for attr in ("max_steps", "dataset_size", "dataset_seed", "adam_beta2", "max_grad_norm"):
        assert len({getattr(c, attr) for c in configs.values()}) == 1, attr
    # SFT's learning rate sits above RL's, as in the paper's recipe (5e-5 vs 1e-6); the SFT arms share one
    assert len({configs[n].learning_rate for n in ("sft-think", "sft-nothink", "onpolicy-sft", "online-sft")}) == 1
    # both on-policy SFT arms sample as GRPO does: 8 answers per prompt at T 0.7, 32 tokens at most
    one_shot, online, grpo = configs["onpolicy-sft"], configs["online-sft"], configs["grpo"]
    assert (one_shot.onpolicy_samples, one_shot.onpolicy_temperature, one_shot.onpolicy_max_new_tokens) == (
        online.num_generations, online.temperature, online.max_completion_length) == (
        grpo.num_generations, grpo.temperature, grpo.max_completion_length)
    assert online.steps_per_generation > 1 and online.per_device_train_batch_size == grpo.per_device_train_batch_size
    assert configs["sft-think"].learning_rate > configs["grpo"].learning_rate
    assert (RECIPES_DIR / "micro").is_dir()


@pytest.mark.parametrize(("override", "message"), [
    ({"beta": 0.04}, "on-policy SFT has no KL term: set beta: 0.0"),
    ({"loss_type": "grpo"}, "set loss_type: dapo"),
])
def test_online_sft_refuses_what_would_make_it_not_sft(override, message):
    with pytest.raises(RecipeError, match=message):
        load("micro", "online-sft", **override)


@pytest.mark.parametrize(("profile", "name"), [(p, n) for p in ("smol", "paper") for n in available_recipes(p)])
def test_smol_and_paper_recipes_validate(profile, name):
    fields = read_recipe(RECIPES_DIR / profile / f"{name}.yaml")
    assert fields["dataset_name"] == {"smol": "word-problems", "paper": "unireason-math"}[profile]


def test_smol_arms_share_prompts_and_the_sft_optimiser():
    """The smol study's four arms, as the micro study's: the same prompts; SFT's learning rate above RL's;
    the paper's DAPO settings for GRPO (no KL, clip 0.2 / 0.28, token-mean loss)."""
    arms = {n: read_recipe(RECIPES_DIR / "smol" / f"{n}.yaml") for n in available_recipes("smol")}
    assert sorted(arms) == ["grpo", "onpolicy-sft", "sft-nothink", "sft-think"]
    assert len({(a["dataset_name"], a["dataset_size"]) for a in arms.values()}) == 1
    assert (arms["sft-think"]["sft_target"], arms["sft-nothink"]["sft_target"]) == ("think", "no-think")
    sft = {(a["learning_rate"], a["lr_scheduler_type"], a["per_device_train_batch_size"], a["max_steps"])
           for n, a in arms.items() if n != "grpo"}
    assert len(sft) == 1 and arms["grpo"]["learning_rate"] < arms["sft-think"]["learning_rate"]
    grpo = arms["grpo"]
    assert (grpo["beta"], grpo["loss_type"], grpo["epsilon"], grpo["epsilon_high"]) == (0.0, "dapo", 0.2, 0.28)
    assert grpo["num_generations"] >= 8 and grpo["max_steps"] >= 100  # the gpu budget's protocol


def test_paper_grpo_follows_the_papers_hyperparameters():
    grpo = read_recipe(RECIPES_DIR / "paper" / "grpo.yaml")
    assert (grpo["learning_rate"], grpo["num_generations"], grpo["epsilon"], grpo["epsilon_high"],
            grpo["beta"], grpo["loss_type"]) == (1e-6, 16, 0.2, 0.28, 0.0, "dapo")
    sft = read_recipe(RECIPES_DIR / "paper" / "sft-think.yaml")
    assert (sft["learning_rate"], sft["num_train_epochs"], sft["lr_scheduler_type"]) == (5e-5, 1.5, "cosine")


def test_optional_and_ratio_fields_accept_their_types(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text(yaml.safe_dump({**GOOD, "warmup_steps": 0.1, "gguf_file": None, "data_dir": "/x"}))
    assert read_recipe(path)["warmup_steps"] == 0.1
    path.write_text(yaml.safe_dump({**GOOD, "gguf_file": 3}))
    with pytest.raises(RecipeError, match="gguf_file must be str, not int 3"):
        read_recipe(path)


def test_display_options_do_not_change_the_key(tmp_path):
    quiet = build_config({**GOOD, "disable_tqdm": True}, tmp_path)
    assert quiet.output_dir == build_config(GOOD, tmp_path).output_dir and quiet.disable_tqdm


def test_each_profile_recipe_names_its_profile():
    for profile in ("smol", "paper"):
        for name in available_recipes(profile):
            assert read_recipe(RECIPES_DIR / profile / f"{name}.yaml")["profile"] == profile, name


def test_a_retrained_base_at_the_same_path_is_a_new_run(tmp_path):
    import shutil

    from mathxfer.paths import REPO_ROOT

    base = tmp_path / "base"
    shutil.copytree(REPO_ROOT / "data" / "micro" / "base", base)
    fields = {**GOOD, "model_name_or_path": str(base)}
    before = build_config(fields, tmp_path).output_dir
    assert build_config(fields, tmp_path).output_dir == before  # unchanged weights: the same run
    weights = base / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1] + b"\x01")  # retrained weights, same path
    assert build_config(fields, tmp_path).output_dir != before


def test_a_changed_world_is_a_new_run(tmp_path, monkeypatch):
    from mathxfer.micro import world

    before = build_config(GOOD, tmp_path).output_dir
    monkeypatch.setattr(world, "GENERATOR_VERSION", world.GENERATOR_VERSION + 1)
    assert build_config(GOOD, tmp_path).output_dir != before


def test_editing_a_base_models_notes_keeps_its_runs(tmp_path):
    import shutil

    from mathxfer.paths import REPO_ROOT

    base = tmp_path / "base"
    shutil.copytree(REPO_ROOT / "data" / "micro" / "base", base)
    fields = {**GOOD, "model_name_or_path": str(base)}
    before = build_config(fields, tmp_path).output_dir
    (base / "TRAINING.md").write_text("rewritten notes\n")
    (base / "training.json").write_text("{}\n")
    assert build_config(fields, tmp_path).output_dir == before


SFT = {**GOOD, "method": "sft"}
ONPOLICY = {**GOOD, "method": "onpolicy_sft"}
NONSENSE = [  # values of the right type that TRL would accept and then train something else
    (GOOD, "max_steps", -5, "max_steps must be -1 or a positive int, not -5"),
    (GOOD, "max_steps", 0, "max_steps must be -1 or a positive int, not 0"),
    (GOOD, "dataset_size", 0, "dataset_size must be a positive int, not 0"),
    (GOOD, "dataset_size", -3, "dataset_size must be a positive int, not -3"),
    ({**GOOD, "dataset_name": "gsm8k"}, "dataset_size", -1, "dataset_size must be a positive int, not -1"),
    (GOOD, "learning_rate", 0.0, "learning_rate must be positive, not 0.0"),
    (SFT, "learning_rate", -1.0e-4, "learning_rate must be positive, not -0.0001"),
    (SFT, "num_train_epochs", 0, "num_train_epochs must be positive, not 0"),
    (SFT, "per_device_train_batch_size", 0, "per_device_train_batch_size must be a positive int, not 0"),
    (SFT, "gradient_accumulation_steps", 0, "gradient_accumulation_steps must be a positive int, not 0"),
    (GOOD, "num_generations", 1, "num_generations must be at least 2, not 1"),
    (GOOD, "temperature", 0.0, "temperature must be positive, not 0.0"),
    (GOOD, "max_completion_length", 0, "max_completion_length must be a positive int, not 0"),
    (GOOD, "beta", -0.1, "beta must be 0 or more, not -0.1"),
    (SFT, "max_length", 0, "max_length must be a positive int or null, not 0"),
    (ONPOLICY, "onpolicy_samples", 0, "onpolicy_samples must be a positive int, not 0"),
    (ONPOLICY, "onpolicy_max_new_tokens", 0, "onpolicy_max_new_tokens must be a positive int, not 0"),
    (ONPOLICY, "onpolicy_temperature", 0.0, "onpolicy_temperature must be positive, not 0.0"),
    (SFT, "save_steps", 0, "save_steps must be positive, not 0"),
    (SFT, "logging_steps", -1, "logging_steps must be positive, not -1"),
]


@pytest.mark.parametrize(("recipe", "field", "value", "message"), NONSENSE, ids=[f"{f}={v}" for _, f, v, _ in NONSENSE])
def test_nonsense_values_fail_naming_the_file_field_value_and_fix(tmp_path, recipe, field, value, message):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({**recipe, field: value}))
    with pytest.raises(RecipeError) as err:
        read_recipe(path)
    text = str(err.value)
    assert text.startswith(f"{path}: {message}; ") and len(text) > len(f"{path}: {message}; set")  # then the fix


@pytest.mark.parametrize("overrides", [{"max_steps": -5}, {"dataset_size": 0}])
def test_nonsense_overrides_fail_before_anything_trains(overrides):
    """`mathxfer train --set max_steps=-5` used to train the whole recipe, `--set dataset_size=0` to record an
    untrained model as a finished run."""
    with pytest.raises(RecipeError, match=f"sft-nothink.yaml: {next(iter(overrides))} must be"):
        load("micro", "sft-nothink", **overrides)


@pytest.mark.parametrize(("recipe", "extra"), [
    (GOOD, {"max_steps": -1}),  # -1: train num_train_epochs epochs
    ({**GOOD, "dataset_name": "gsm8k"}, {"dataset_size": 0}),  # 0: every row of a fixed set
    (SFT, {"save_steps": 0, "save_strategy": "no"}),  # not used without step checkpoints
    (SFT, {"save_steps": 0.25, "max_length": None}),  # a fraction of the run; no truncation
    (GOOD, {"beta": 0.0, "num_generations": 2}),
])
def test_boundary_values_are_accepted(tmp_path, recipe, extra):
    path = tmp_path / "ok.yaml"
    path.write_text(yaml.safe_dump({**recipe, **extra}))
    assert read_recipe(path) == {**recipe, **extra}
