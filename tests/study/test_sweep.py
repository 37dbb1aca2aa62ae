"""The sweep (beyond the paper): its study file's grid, the Pareto frontier and dominance rules, the KL fit,
and the toy sweep study (conftest.py ``micro_sweep``) whose main and control runs are the micro study's."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from mathxfer.controlled import sweep
from mathxfer.study.plan import lr_label, lr_variant, plan_study
from mathxfer.study.spec import StudyError, read_study, study_path


@pytest.mark.parametrize(("a", "b", "beats"), [
    ((5, 0), (4, -1), True),
    ((5, -1), (4, -1), True),  # as good on one axis, better on the other
    ((5, -1), (5, -1), False),  # a point does not beat itself
    ((5, -2), (4, -1), False),  # more gain, more forgetting: neither wins
])
def test_a_point_beats_another_only_on_both_axes(a, b, beats):
    assert sweep.beats(a, b) is beats


def summary_of(rows: list[tuple[str, str, float, float, float]]) -> pd.DataFrame:
    pts = pd.DataFrame([{"arm": arm, "kind": kind, "learning_rate": lr, "seed": 0, "math": m, "nonmath": n,
                         "kl": float("nan")} for arm, kind, lr, m, n in rows])
    return sweep.summary(pts)


def test_the_frontier_keeps_the_points_nothing_of_its_arm_beats():
    summ = summary_of([("sft", "SFT", 1e-4, 2, -1), ("sft", "SFT", 3e-4, 8, -10), ("sft", "SFT", 1e-3, 6, -20),
                       ("grpo", "RL", 1e-4, 7, 0)])
    frontier = summ.set_index(["arm", "learning_rate"])["frontier"]
    assert frontier.to_dict() == {("grpo", 1e-4): True, ("sft", 1e-4): True, ("sft", 3e-4): True,
                                  ("sft", 1e-3): False}  # 6 points at -20 is beaten by 8 at -10


@pytest.mark.parametrize(("rl", "beaten"), [
    ([(9, 0)], {"sft at 1e-04": "grpo at 1e-04", "sft at 3e-04": "grpo at 1e-04"}),  # RL dominates
    ([(5, 0)], {"sft at 1e-04": "grpo at 1e-04", "sft at 3e-04": None}),  # RL never reaches SFT's 8 points
    ([(1, -5)], {"sft at 1e-04": None, "sft at 3e-04": None}),
])
def test_dominance_names_the_rl_point_that_beats_each_sft_frontier_point(rl, beaten):
    summ = summary_of([("sft", "SFT", 1e-4, 2, -1), ("sft", "SFT", 3e-4, 8, -10),
                       *(("grpo", "RL", 1e-4, m, n) for m, n in rl)])
    assert {d.point: d.beaten_by for d in sweep.dominance(summ)} == beaten
    reverse = {d.point: d.beaten_by for d in sweep.dominance(summ, "RL", "SFT")}
    assert set(reverse) == {"grpo at 1e-04"}  # the other way round: the RL frontier against every SFT point


def test_the_kl_fit_recovers_a_line_and_says_when_it_cannot():
    kl = [0.1, 0.5, 1.0, 2.0]
    exact = pd.DataFrame({"kl": kl, "forgetting": [3 * k + 1 for k in kl]})
    fit = sweep.kl_fit(exact)
    assert fit is not None and fit.slope == pytest.approx(3) and fit.intercept == pytest.approx(1)
    assert fit.r2 == pytest.approx(1.0) and fit.n == 4
    noisy = sweep.kl_fit(exact.assign(forgetting=[1, 9, 2, 8]))
    assert noisy is not None and noisy.r2 < 0.5
    assert sweep.kl_fit(exact.iloc[:2]) is None  # two points always fit
    assert sweep.kl_fit(exact.assign(kl=1.0)) is None  # no spread in KL
    assert sweep.kl_fit(exact.assign(forgetting=0.0)) is None  # nothing forgotten anywhere: no R^2


@pytest.mark.parametrize(("lr", "name"), [(1e-4, "lr=1e-04"), (3e-5, "lr=3e-05"), (2.5e-4, "lr=0.00025")])
def test_a_learning_rate_names_its_variant_without_losing_digits(lr, name):
    assert lr_variant(lr) == name and f"lr={lr_label(lr)}" == name


def test_the_shipped_sweep_shares_its_main_and_control_runs_with_the_micro_study():
    spec = read_study(profile="micro", name="sweep")
    runs = plan_study(spec)
    main = {r.output_dir for r in plan_study(read_study(profile="micro"))}
    shared = [r for r in runs if r.output_dir in main]
    assert {(r.arm, r.variant) for r in shared} == {(a, v) for a in spec.arms for v in ("main", "lr=1e-04")
                                                   if not (a == "grpo" and v != "main")}
    added = [r for r in runs if r.output_dir not in main]
    assert len(added) == sum(len(v) for v in spec.sweep.learning_rates.values()) * len(spec.sweep.seeds)
    assert len({r.output_dir for r in runs}) == len(runs)  # no run planned twice


def test_a_sweep_point_at_the_recipes_own_rate_is_that_run():
    spec = read_study(profile="micro", name="sweep",
                      overrides={"sweep": {"learning_rates": {"grpo": [1.0e-4, 3.0e-5]}, "seeds": [0]}})
    grpo = [r for r in plan_study(spec) if r.arm == "grpo"]
    assert [(r.variant, r.seed) for r in grpo] == [("main", 0), ("main", 1), ("main", 2), ("lr=3e-05", 0)]


@pytest.mark.parametrize(("sweep_fields", "message"), [
    ({"learning_rates": {"sft-think": [1e-3]}}, "sweep.learning_rates: 'sft-think' is not an arm of the study"),
    ({"learning_rates": {"grpo": []}}, "sweep.learning_rates.grpo must list distinct positive learning rates"),
    ({"learning_rates": {"grpo": [1e-3, -1e-3]}}, "must list distinct positive learning rates"),
    ({"seeds": [0, 0]}, "sweep.seeds lists a value twice"),
    ({"kl_prompts": -1}, "sweep.kl_prompts must be 0"),
    ({"learning_rate": [1e-3]}, "unknown key(s) sweep.learning_rate"),
])
def test_a_bad_sweep_fails_naming_the_key(tmp_path, sweep_fields, message):
    fields = yaml.safe_load(study_path("micro", "sweep").read_text())
    fields["sweep"] = sweep_fields
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(fields))
    with pytest.raises(StudyError) as err:
        read_study(path)
    assert message in str(err.value) and str(path) in str(err.value)


def test_a_study_without_a_sweep_keeps_its_key():
    spec = read_study(profile="micro")
    assert not spec.sweep and "sweep" not in spec.result_fields()
    assert read_study(profile="micro", name="sweep").result_fields()["sweep"]["kl_prompts"] == 64


def test_the_toy_sweep_puts_every_run_on_the_chart_with_its_kl(micro_sweep, micro_study):
    record, _ = micro_sweep
    main, _ = micro_study
    assert {r.output_dir for r in main.runs} < {r.output_dir for r in record.runs}  # shared, not retrained
    pts = sweep.points(record)
    assert len(pts) == len(record.runs) == len(main.runs) + 2
    assert set(pts["variant"]) == {"main", "lr=1e-04", "lr=1e-03"}
    assert pts["kl"].notna().all() and (pts["kl"] >= 0).all()
    run = pts[(pts["arm"] == "grpo") & (pts["variant"] == "main") & (pts["seed"] == 0)].iloc[0]
    entry = next(r for r in record.runs if (r.arm, r.variant, r.seed) == ("grpo", "main", 0))
    base = record.base["group_scores"]
    assert run["math"] == pytest.approx(entry.group_scores["math"] - base["math"])
    assert run["nonmath"] == pytest.approx(sum(entry.group_scores[g] - base[g] for g in ("other", "non")) / 2)
    summ = sweep.summary(pts)
    assert set(summ["seeds"]) == {1, 2}  # the added points have one seed, the shared ones two
    assert summ.groupby("arm")["frontier"].any().all()  # every arm has a frontier
    again = sweep.points(record)  # read from the caches the study stage wrote: the same numbers
    assert again["kl"].tolist() == pts["kl"].tolist()
    # the toy base solves nothing, so no run can forget: there is no line to fit
    assert (pts["forgetting"] == 0).all() and sweep.kl_fit(pts) is None
    assert "No line of forgetting against KL(base || tuned) can be fitted here" in sweep.note(pts).data
