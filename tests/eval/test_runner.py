"""The eval loop: records, aggregation, resumption without redoing items, and real generation plumbing."""

from __future__ import annotations

import json

import pytest

from mathxfer.eval.backends import Generation, TransformersBackend
from mathxfer.eval.runner import EvalConfig, run_eval
from mathxfer.scores_file import read_scores


class Interrupted(Exception):
    pass


class FakeBackend:
    """Answers every math item correctly; counts what it was asked; can die after k prompts."""

    name, revision = "fake", "fake-rev"

    def __init__(self, die_after: int | None = None):
        self.seen: list[str] = []
        self.die_after = die_after

    def render(self, prompt, *, thinking):
        return prompt

    def generate(self, prompts, sampling, *, stop=(), seed=0):
        out = []
        for p in prompts:
            if self.die_after is not None and len(self.seen) >= self.die_after:
                raise Interrupted
            self.seen.append(p)
            out.append([Generation(r"Final Answer: \boxed{" + ANSWERS.get(p, "0") + "}", 5, "stop")
                        for _ in range(sampling.n)])
        return out

    def loglikelihood(self, requests):
        return [float(-len(c)) for _, c in requests]


ANSWERS: dict[str, str] = {}


def test_interrupt_and_resume_redoes_nothing(bench_dir, tmp_path):
    from mathxfer.eval.data import load_items
    from mathxfer.eval.specs import SPECS

    items, _ = load_items("AIME25", bench_dir, limit=6)
    ANSWERS.update({SPECS["AIME25"].prompt.format(**it.fields): it.gold["answer"] for it in items})
    cfg = EvalConfig(model="fake", benchmarks=("AIME25",), limit=6, data_dir=str(bench_dir),
                     out=str(tmp_path), batch_size=2)
    first = FakeBackend(die_after=4)
    with pytest.raises(Interrupted):
        run_eval(cfg, backend_factory=lambda: first, log=lambda m: None)
    records = cfg.run_dir() / "records" / "AIME25-v1.jsonl"
    done = {json.loads(line)["item_id"] for line in records.read_text().splitlines()}
    assert len(done) == 4 and not (cfg.run_dir() / "scores.json").exists()
    with records.open("a") as fh:  # a torn line from a kill mid-write is cut off, not fatal
        fh.write('{"item_id": "aime25:tor')
    second = FakeBackend()
    path, outcomes = run_eval(cfg, backend_factory=lambda: second, log=lambda m: None)
    assert len(second.seen) == 2 and outcomes[0].n_new == 2
    lines = [json.loads(line) for line in records.read_text().splitlines()]
    assert len(lines) == 6 * 10 and len({(r["item_id"], r["sample"]) for r in lines}) == 60
    [rec], prov = read_scores(path)
    assert rec.score == 100.0 and rec.n == 6 and prov["config"]["model_revision"] == "fake-rev"
    assert prov["config"]["benchmarks"]["AIME25"]["sampling"]["n"] == 10 and prov["config_key"]
    third = FakeBackend()
    _, outcomes = run_eval(cfg, backend_factory=lambda: third, log=lambda m: None)
    assert outcomes[0].status == "skipped" and third.seen == []


def test_missing_benchmark_is_reported_not_fatal(tmp_path):
    cfg = EvalConfig(model="fake", benchmarks=("CoQA",), data_dir=str(tmp_path), out=str(tmp_path / "o"))
    _, [outcome] = run_eval(cfg, backend_factory=FakeBackend, log=lambda m: None)
    assert outcome.status == "missing" and "coqa-dev" in outcome.message


def test_tiny_model_generation_and_loglik_end_to_end(bench_dir, tmp_path, tiny):
    model, tok = tiny
    backend = TransformersBackend(model, tok, batch_size=4, revision="random")
    cfg = EvalConfig(model="tiny", benchmarks=("MATH500", "HeadQA", "IFEval"), limit=2, data_dir=str(bench_dir),
                     out=str(tmp_path), max_new_tokens=6, batch_size=4)
    path, outcomes = run_eval(cfg, backend_factory=lambda: backend, log=lambda m: None)
    assert [o.status for o in outcomes] == ["done"] * 3
    recs = [json.loads(x) for x in (cfg.run_dir() / "records" / "MATH500-v1.jsonl").read_text().splitlines()]
    assert len(recs) == 2 * 3 and recs[0]["prompt"].startswith("<|im_start|>user\n")
    assert recs[0]["prompt"].endswith("<think>\n\n</think>\n\n")  # thinking off, as the released prompts
    assert all(r["num_tokens"] <= 6 for r in recs)
    head = [json.loads(x) for x in (cfg.run_dir() / "records" / "HeadQA-v1.jsonl").read_text().splitlines()]
    assert all(len(r["loglik"]) >= 4 for r in head)
    records, _ = read_scores(path)
    assert {r.benchmark for r in records} == {"MATH500", "HeadQA", "IFEval"}


def test_batched_equals_one_at_a_time_greedy(tiny):
    from mathxfer.eval.specs import Sampling

    model, tok = tiny
    prompts = ["short", "a much longer prompt than the first one", "mid length"]
    sampling = Sampling(max_new_tokens=5)
    batched = TransformersBackend(model, tok, batch_size=3).generate(prompts, sampling)
    single = TransformersBackend(model, tok, batch_size=1).generate(prompts, sampling)
    assert [g[0].text for g in batched] == [g[0].text for g in single]


def test_loglik_prefers_the_likelier_continuation(tiny):
    model, tok = tiny
    backend = TransformersBackend(model, tok, batch_size=2)
    a, b = backend.loglikelihood([("ctx", " a"), ("ctx", " a b c d")])
    assert a > b  # more tokens, more negative log-probability mass


@pytest.mark.parametrize(("base", "method", "written"), [
    (None, None, "base"), ("Qwen3-14B-Base", None, "other"), ("Qwen3-14B-Base", "RL", "RL"),
    ("Qwen3-14B-Base", "SFT", "SFT")])
def test_the_scores_file_carries_the_models_method(bench_dir, tmp_path, base, method, written):
    cfg = EvalConfig(model="fake", benchmarks=("AIME25",), limit=1, data_dir=str(bench_dir), out=str(tmp_path),
                     base=base, method=method)
    path, _ = run_eval(cfg, backend_factory=FakeBackend, log=lambda m: None)
    [record], _ = read_scores(path)
    assert record.method == written
