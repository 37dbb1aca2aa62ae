"""The landing page's claims table is computed from results: each claim's status follows the numbers of a study
record, a profile without a record is `not run`, and changing a result in a record changes its cell. The
tests live beside the toy studies of conftest.py (``micro_study``, ``real_study``: trained once per session)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from mathxfer.book import build, claims
from mathxfer.book.chapters import CHAPTERS, PROFILES
from mathxfer.study.record import read_record

STUDY_CLAIMS = [c.id for c in claims.CLAIMS if c.chapter != "survey"]


@pytest.fixture()
def no_records(monkeypatch, tmp_path):
    """An empty results store: no profile has a study record."""
    monkeypatch.setenv("MATHXFER_RESULTS", str(tmp_path / "results"))


def _copy(record, tmp_path: Path, edit) -> Path:
    """A copy of ``record``'s JSON with ``edit(payload)`` applied, written beside the test."""
    payload = json.loads(Path(record.path).read_text())
    edit(payload)
    path = tmp_path / "study.json"
    path.write_text(json.dumps(payload))
    return path


def _verdicts(path: Path, profile: str = "micro") -> dict[str, claims.Verdict]:
    return claims.verdicts(claims.Results(profile, record=read_record(path)))


# ---- the table itself ------------------------------------------------------------------------------------

def test_every_claim_names_its_figure_and_a_chapter_page():
    ids = [c.id for c in claims.CLAIMS]
    assert len(ids) == len(set(ids)) and 5 <= len(ids) <= 8
    names = {ch.name for ch in CHAPTERS}
    for c in claims.CLAIMS:
        assert c.chapter in claims.PAGES and c.chapter in names, c.id
        assert any(word in c.source for word in ("Figure", "Table")), c.id
        assert c.text.endswith(f"({c.source})")
    assert "index" in names  # the landing page is a registered chapter


def test_survey_claims_read_the_reported_scores_in_every_profile(no_records):
    table = claims.claims_table()
    assert list(table.columns) == ["claim", "page", *PROFILES]
    for profile in PROFILES:
        rl = table.at["survey-rl-transfers", profile]
        assert claims.status_of(rl) == "reproduced" and "RL +90.2 vs SFT +45.3" in rl  # the pooled reading's means
        ti = table.at["survey-ti", profile]
        assert claims.status_of(ti) == "differs" and "14 of 18 reported pairs" in ti  # as the survey chapter says


def test_a_profile_without_a_record_is_not_run(no_records):
    table = claims.claims_table()
    for claim_id in STUDY_CLAIMS:
        for profile in PROFILES:
            cell = table.at[claim_id, profile]
            assert claims.status_of(cell) == "not run", (claim_id, profile)
            assert f"`mathxfer study --profile {profile}`" in cell


def test_the_page_marks_each_status_by_symbol_and_word(no_records):
    html = claims.styled(claims.claims_table()).to_html()
    for status in ("reproduced", "differs", "not run"):
        symbol, colour = claims.STATUS_STYLE[status]
        assert f"{symbol}</span> {status}</strong>" in html and colour in html  # the word, not the colour alone
    for page, _label in claims.PAGES.values():  # siblings of the index page in _build/executed/<profile>/
        assert f'href="{page}"' in html
    assert "&lt;" not in html.split("<tbody>")[1].split("href")[0]  # links are links, not escaped text
    assert "not reproduced" in claims.legend().data


# ---- controlled claims: the thresholds, on a toy record with chosen group scores --------------------------

BASE = {"math": 20.0, "other": 30.0, "non": 50.0}
# gains over the base per group, one value per seed (0, 1), for the RL arm (grpo) and the SFT arm (sft-think)
PAPER_LIKE = {"grpo": {"math": (10, 11), "other": (8, 9), "non": (0, 0.5)},
              "sft-think": {"math": (9, 10), "other": (3, 4), "non": (-20, -21)}}
SWAPPED = {"grpo": PAPER_LIKE["sft-think"], "sft-think": PAPER_LIKE["grpo"]}
CONTROLLED_CASES = {
    # case: (gains, expected status of controlled-rl-gains-math, -sft-forgets, -rl-transfers)
    "paper-like": (PAPER_LIKE, ("reproduced", "reproduced", "reproduced")),
    # the arms' numbers swapped: RL is below SFT on math by more than the spread, keeps less, transfers less
    "swapped": (SWAPPED, ("differs", "not reproduced", "differs")),
    "RL gains no math, SFT's loss within the spread": (
        {"grpo": {**PAPER_LIKE["grpo"], "math": (0, 1)},
         "sft-think": {**PAPER_LIKE["sft-think"], "non": (-1, 0.5)}},
        ("not reproduced", "unresolved", "reproduced")),
    # no change and no gap between the arms is beyond the spread: nothing can be told
    "every change within the spread": (
        {"grpo": {"math": (0, 1), "other": (0, 1), "non": (0, 0.5)},
         "sft-think": {"math": (1, 0), "other": (0.5, 0), "non": (-1, 0.5)}},
        ("unresolved", "unresolved", "unresolved")),
    "RL forgets too, transfers less": (
        {"grpo": {**PAPER_LIKE["grpo"], "non": (-10, -11), "other": (1, 0.5)}, "sft-think": PAPER_LIKE["sft-think"]},
        ("reproduced", "differs", "differs")),
    "nothing transfers under RL": (
        {"grpo": {**PAPER_LIKE["grpo"], "other": (-2, -3)}, "sft-think": PAPER_LIKE["sft-think"]},
        ("reproduced", "reproduced", "not reproduced")),
}


def _set_group_scores(gains: dict) -> Callable[[dict], None]:
    def edit(payload: dict) -> None:
        payload["base"]["group_scores"] = dict(BASE)
        for run in payload["runs"]:
            if run["variant"] == "main":
                run["group_scores"] = {g: BASE[g] + values[run["seed"]] for g, values in gains[run["arm"]].items()}
    return edit


@pytest.mark.parametrize("case", CONTROLLED_CASES, ids=list(CONTROLLED_CASES))
def test_controlled_claims_follow_the_group_gains(micro_study, in_results, tmp_path, case):
    record, root = micro_study
    in_results(root)  # a copied record reads its runs from the current store
    gains, expected = CONTROLLED_CASES[case]
    found = _verdicts(_copy(record, tmp_path, _set_group_scores(gains)))
    got = tuple(found[c].status for c in ("controlled-rl-gains-math", "controlled-sft-forgets", "controlled-rl-transfers"))
    assert got == expected, {c: found[c].evidence for c in found}


def test_controlled_evidence_gives_the_numbers(micro_study, in_results, tmp_path):
    record, root = micro_study
    in_results(root)
    found = _verdicts(_copy(record, tmp_path, _set_group_scores(PAPER_LIKE)))
    assert found["controlled-sft-forgets"].evidence == ("non-reasoning gain grpo +0.2 ± 0.4 vs sft-think -20.5 ± 0.7 "
                                                       "points (2 seeds)")
    swapped = _verdicts(_copy(record, tmp_path, _set_group_scores(SWAPPED)))["controlled-sft-forgets"]
    assert "no SFT arm is below RL" in swapped.evidence


# ---- every claim on the toy records; swapping the arms flips the cells -------------------------------------

def _swap_arms(rl: str, sft: str) -> Callable[[dict], None]:
    """Give the RL arm the SFT arm's models and results (and back), seed by seed: every comparison flips."""
    moved = ("output_dir", "model_path", "model_identity", "metrics_path", "eval_path", "scores", "group_scores",
             "train_seconds", "reused")

    def edit(payload: dict) -> None:
        runs = {(r["arm"], r["seed"]): r for r in payload["runs"] if r["variant"] == "main"}
        for (arm, seed), run in runs.items():
            if arm == rl:
                other = runs[(sft, seed)]
                for name in moved:
                    run[name], other[name] = other[name], run[name]
    return edit


@pytest.mark.parametrize("study", ["micro_study", "real_study"])
def test_each_claim_has_a_status_where_the_profile_has_a_record(request, in_results, study):
    record, root = request.getfixturevalue(study)
    in_results(root)
    table = claims.claims_table(studies={record.profile: record.path})
    for profile in PROFILES:  # the toy results store holds only this study's record
        for claim_id in STUDY_CLAIMS:
            status = claims.status_of(table.at[claim_id, profile])
            assert (status != "not run") if profile == record.profile else (status == "not run"), (claim_id, profile)
    again = claims.verdicts(claims.Results(record.profile, record=read_record(record.path)))
    assert {c: v.cell() for c, v in again.items()} == table[record.profile].to_dict()


FLIP = {"reproduced": "not reproduced", "not reproduced": "reproduced"}
# claims whose every part compares the RL arm with the SFT arm, on continuous analyses: swapping the arms flips
# them. The toy runs' accuracies tie (the controlled claims are flipped above, by their scores), and so do the
# real toy's analyses (one step at lr 1e-6), so the micro toy's analyses are the ones flipped here.
FLIPPED_BY_SWAP = ("latent-sft-shifts-more", "tokens-sft-kl-more")


def test_swapping_the_arms_flips_the_analysis_claims(micro_study, in_results, tmp_path):
    record, root = micro_study
    in_results(root)
    before = claims.verdicts(claims.Results("micro", record=read_record(record.path)))
    after = _verdicts(_copy(record, tmp_path, _swap_arms("grpo", "sft-think")))
    for claim_id in FLIPPED_BY_SWAP:
        assert before[claim_id].status in FLIP, before[claim_id]  # no ties: the SFT arm moves, one way or the other
        assert after[claim_id].status == FLIP[before[claim_id].status], (claim_id, before[claim_id], after[claim_id])
        assert after[claim_id].evidence != before[claim_id].evidence


# ---- the page's place in the book ---------------------------------------------------------------------------

def test_every_profile_book_has_the_claims_page_as_its_root(repo_root, tmp_path):
    shutil.copy(repo_root / "_toc.yml", tmp_path / "_toc.yml")
    assert "root: _build/executed/micro/index\n" in (tmp_path / "_toc.yml").read_text()
    assert build._toc(tmp_path, "micro") is None  # the default book uses _toc.yml itself
    for profile in ("smol", "paper"):
        text = build._toc(tmp_path, profile).read_text()
        assert f"root: _build/executed/{profile}/index\n" in text and "executed/micro/" not in text


def test_every_profile_book_carries_only_its_own_exports(repo_root, tmp_path):
    shutil.copy(repo_root / "_config.yml", tmp_path / "_config.yml")
    assert build._config(tmp_path, "micro") is None  # the default book uses _config.yml itself
    for profile in ("smol", "paper"):
        config = yaml.safe_load(build._config(tmp_path, profile).read_text())
        assert config["sphinx"]["config"]["html_extra_path"] == [f"_build/exports/{profile}"]
    (tmp_path / "_config.yml").write_text("title: a config without the exports folder\n")
    with pytest.raises(ValueError, match="no longer names '_build/exports/micro'"):
        build._config(tmp_path, "smol")
