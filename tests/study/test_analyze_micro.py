"""The acceptance check of `mathxfer analyze` (issue 12): on the micro base and a trained micro arm, the
command under ``--semantics official`` gives the numbers of independent ports of the authors' scripts
(tests/analysis/official_ports.py): d* on one family's texts, and the sampled-token KL on the arm's own
held-out responses, each within 1%."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from mathxfer.analysis.texts import micro_texts
from mathxfer.cli import main
from mathxfer.micro.evaluate import read_evaluation
from mathxfer.micro.grading import render
from mathxfer.models import load_model, load_tokenizer

sys.path.insert(0, str(Path(__file__).parents[1] / "analysis"))
from official_ports import official_d_star, official_kl, official_token_losses  # noqa: E402

N_TEXTS = 8


@pytest.fixture()
def pair(micro_study, tmp_path, monkeypatch):
    """(base dir, tuned dir, the arm's run) of the micro study, with a fresh results store: the command
    computes everything itself rather than reading the study's caches."""
    record, _ = micro_study
    monkeypatch.setenv("MATHXFER_RESULTS", str(tmp_path / "results"))
    run = record.select("main")[0]
    base, tuned = Path(record.base["model_path"]), Path(run.model_path)
    assert base.is_dir() and tuned.is_dir(), (base, tuned)
    return str(base), str(tuned), run


def _json(capsys, *args: str, semantics: str = "official") -> dict:
    code = main(["analyze", *args, "--semantics", semantics, "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_latent_official_equals_the_script_port(pair, tmp_path, capsys):
    base, tuned, _ = pair
    tokenizer = load_tokenizer(base)
    # the family whose texts' token lengths differ most, so the pads inside the official mean matter most
    lengths = {name: [len(tokenizer(t)["input_ids"]) for t in ts] for name, ts in micro_texts(N_TEXTS, 0).items()}
    family = max(lengths, key=lambda name: max(lengths[name]) - min(lengths[name]))
    texts = micro_texts(N_TEXTS, 0)[family]
    assert max(lengths[family]) > min(lengths[family]), lengths[family]
    path = tmp_path / f"{family}.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))

    report = _json(capsys, "latent", "--base", base, "--tuned", tuned, "--texts", str(path))
    (row,) = report["results"]
    expected = official_d_star(load_model(base), load_model(tuned), tokenizer, texts, max_length=128)
    assert row["task"] == family and row["n_texts"] == N_TEXTS and expected > 0
    assert row["d_star"] == pytest.approx(expected, rel=0.01)

    paper = _json(capsys, "latent", "--base", base, "--tuned", tuned, "--texts", str(path), semantics="paper")
    # not vacuous: the paper's mean over real tokens moves d* beyond the tolerance
    assert paper["results"][0]["d_star"] != pytest.approx(expected, rel=0.01)


def test_tokens_official_equals_the_script_port(pair, tmp_path, capsys):
    base, tuned, run = pair
    entries = [{"input": render(r["question"]), "output": r["response"]}
               for r in read_evaluation(run.eval_path)["records"]][:N_TEXTS]
    assert sum(bool(e["output"]) for e in entries) >= 2, entries
    path = tmp_path / "own_responses.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in entries))

    report = _json(capsys, "tokens", "--base", base, "--tuned", tuned, "--responses", str(path))
    (row,) = report["results"]
    tokenizer = load_tokenizer(base)
    gen = official_token_losses(load_model(tuned), tokenizer, entries)
    test = official_token_losses(load_model(base), tokenizer, entries)
    expected = official_kl(gen, test)
    assert row["n_samples"] == sum(r is not None for r in gen)
    assert row["n_tokens"] == sum(len(r["token_losses"]) for r in gen if r is not None)
    assert expected > 0 and row["kl_sampled"] == pytest.approx(expected, rel=0.01)
