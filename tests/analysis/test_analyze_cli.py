"""`mathxfer analyze latent|tokens`, run as a user runs it (in process): bad input is refused before any
model loads, naming the file and line; both commands work end to end on tiny saved models, in both formats
and both semantics; a second run reads its caches and loads no model; and SmolLM2 from its GGUF file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from analysis_tiny import char_tokenizer, tiny_llama

from mathxfer.analysis import refs, token_analysis
from mathxfer.cli import main
from mathxfer.eval.testdata import benchmarks_dir

TEXTS = ["what is 2+2?", "say hi", "count to 5, then stop.", "name a color.", "ok", "two plus two is four, right?"]
SAMPLES = [("what is 2+2?", " it is 4."), ("say hi", " hi there, friend!"), ("count to 5,", " 1 2 3 4 5"),
           ("name a color.", " red")]


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, str]:
    """Three tiny Llamas saved as model directories: a base and two tuned (different weights, one vocabulary),
    and one with a different vocabulary."""
    root = tmp_path_factory.mktemp("models")
    out = {}
    for name, seed, tokenizer in [("base", 0, char_tokenizer()), ("tuned", 1, char_tokenizer()),
                                  ("tuned2", 2, char_tokenizer()), ("other_vocab", 3, char_tokenizer("@#"))]:
        tiny_llama(seed).save_pretrained(root / name)
        tokenizer.save_pretrained(root / name)
        out[name] = str(root / name)
    return out


@pytest.fixture()
def no_model_loads(monkeypatch):
    """Any model load fails the test (the tokenizers may load: they are not models)."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"a model was loaded: {args}")

    refs.cached_model.cache_clear()
    monkeypatch.setattr(refs, "load_model", refuse)
    monkeypatch.setattr(token_analysis, "cached_model", refuse)


def analyze(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["analyze", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


# ---- bad input, refused before any model loads --------------------------------------------------

LATENT_FILES = [  # (lines of the texts file or None for no file, where the error points, what it says)
    (None, "", "no such file"),
    ([], "", "empty (no JSON lines)"),
    (['{"text": "a b"}', "{not json", '{"text": "c"}'], ":2", "not valid JSON"),
    (['{"text": "a b"}', '{"text": "c"}', '{"prompt": "d"}'], ":3", "no 'text' key"),
    (['{"text": "a b"}', "", '{"text": "  "}'], ":3", "'text' is empty"),
    (['{"text": 5}', '{"text": "c"}'], ":1", "'text' is a JSON int, not a string"),
    (['["a", "b"]'], ":1", "a JSON list, not an object"),
]


@pytest.mark.parametrize(("lines", "where", "message"), LATENT_FILES)
def test_a_bad_texts_file_names_its_line(tmp_path, capsys, no_model_loads, models, lines, where, message):
    path = tmp_path / "texts.jsonl"
    if lines is not None:
        write_jsonl(path, lines)
    code, out, err = analyze(capsys, "latent", "--base", models["base"], "--tuned", models["tuned"], "--texts", path)
    assert code == 2 and out == ""
    assert err.startswith(f"mathxfer analyze: error: {path}{where}: ") and message in err, err


RESPONSES_FILES = [
    (['{"input": "q", "output": "a"}', '{"input": "q2"}'], ":2", "no 'output' key"),
    (['{"output": "a"}'], ":1", "no 'input' key"),
    (['{"input": "", "output": "a"}'], ":1", "'input' is empty"),
    (['{"input": "q", "output": "a"}', "", "nope"], ":3", "not valid JSON"),
    ([""], "", "empty (no JSON lines)"),
]


@pytest.mark.parametrize(("lines", "where", "message"), RESPONSES_FILES)
def test_a_bad_responses_file_names_its_line(tmp_path, capsys, no_model_loads, models, lines, where, message):
    path = write_jsonl(tmp_path / "responses.jsonl", lines)
    code, _, err = analyze(capsys, "tokens", "--base", models["base"], "--tuned", models["tuned"], "--responses", path)
    assert code == 2
    assert err.startswith(f"mathxfer analyze: error: {path}{where}: ") and message in err, err


BAD_ARGUMENTS = [  # (command, arguments after --base/--tuned, what the error says); {texts} / {responses} are files
    ("latent", ["--texts", "{texts}", "--benchmarks", "MATH500"], "--texts FILE.jsonl (one {{\"text\": ...}} per "
                                                                  "line) or --benchmarks NAMES, not both"),
    ("latent", [], "give --texts FILE.jsonl"),
    ("latent", ["--texts", "{texts}", "--layers", "2,-1"], "names a layer twice for {base} (3 hidden states: they "
                                                          "resolve to [2, 2])"),
    ("latent", ["--benchmarks", "NOPE"], "--benchmarks NOPE: unknown benchmark(s) NOPE"),
    ("latent", ["--texts", "{texts}", "--layers", "0,x"], "--layers '0,x': give comma-separated integers"),
    ("latent", ["--texts", "{texts}", "--layers", "0,9"], "[9] out of range for {base}, which has 3 hidden states"),
    ("latent", ["--texts", "{texts}", "--layers", "-4"], "[-4] out of range"),
    ("latent", ["--texts", "{texts}", "--n", "2"], "texts: 2 text(s); d* fits a 2-component PCA per layer, which "
                                                   "needs at least 3"),
    ("latent", ["--texts", "{texts}", "--n", "0"], "--n 0: give a positive number"),
    ("latent", ["--texts", "{shared}", "--n", "3", "--max-tokens", "8"],
     "shared: its 3 texts are identical in their first 8 tokens"),  # a shared template's first characters
    ("tokens", [], "give --responses FILE.jsonl (one {{\"input\": ..., \"output\": ...}} per line) or "
                   "--benchmarks NAMES, one of them"),
    ("tokens", ["--responses", "{responses}", "--benchmarks", "IFEval"], "or --benchmarks NAMES, not both"),
    ("tokens", ["--responses", "{responses}", "--max-tokens", "-1"], "--max-tokens -1: give a positive number"),
]


@pytest.mark.parametrize(("command", "extra", "message"), BAD_ARGUMENTS)
def test_bad_arguments_are_refused_before_any_model_loads(tmp_path, capsys, no_model_loads, models, command, extra,
                                                           message):
    files = {"texts": write_jsonl(tmp_path / "texts.jsonl", [{"text": t} for t in TEXTS]),
             "responses": write_jsonl(tmp_path / "r.jsonl", [{"input": p, "output": r} for p, r in SAMPLES]),
             "shared": write_jsonl(tmp_path / "shared.jsonl", [{"text": "Solve the problem: " + t} for t in TEXTS]),
             "base": models["base"]}
    extra = [a.format(**files) for a in extra]
    code, _, err = analyze(capsys, command, "--base", models["base"], "--tuned", models["tuned"], *extra)
    assert code == 2 and err.startswith("mathxfer analyze: error: ")
    assert message.format(**files) in err, err


@pytest.mark.parametrize(("option", "command", "input_file"), [
    ("--base", "latent", "texts"), ("--tuned", "latent", "texts"), ("--tuned", "tokens", "responses")])
def test_a_missing_model_is_named(tmp_path, capsys, no_model_loads, models, option, command, input_file):
    files = {"texts": write_jsonl(tmp_path / "texts.jsonl", [{"text": t} for t in TEXTS]),
             "responses": write_jsonl(tmp_path / "r.jsonl", [{"input": p, "output": r} for p, r in SAMPLES])}
    chosen = {"--base": models["base"], "--tuned": models["tuned"], option: str(tmp_path / "no-such-model")}
    code, _, err = analyze(capsys, command, "--base", chosen["--base"], "--tuned", chosen["--tuned"],
                           f"--{input_file}", files[input_file])
    assert code == 2
    assert f"error: {option} {tmp_path / 'no-such-model'}: no model at" in err, err


def test_tokens_refuses_models_with_different_vocabularies(tmp_path, capsys, no_model_loads, models):
    responses = write_jsonl(tmp_path / "r.jsonl", [{"input": p, "output": r} for p, r in SAMPLES])
    code, _, err = analyze(capsys, "tokens", "--base", models["base"], "--tuned", models["other_vocab"],
                           "--responses", responses)
    assert code == 2 and "the tuned and base tokenizers differ" in err and "only in tuned: ['#', '@']" in err


# ---- end to end on tiny models --------------------------------------------------------------------

@pytest.mark.parametrize("semantics", ["official", "paper"])
def test_latent_end_to_end_both_formats(tmp_path, capsys, results, models, semantics):
    texts = write_jsonl(tmp_path / "chat.jsonl", [{"text": t} for t in TEXTS])
    args = ["latent", "--base", models["base"], "--tuned", models["tuned"], models["tuned2"], "--texts", texts,
            "--semantics", semantics]
    code, out, err = analyze(capsys, *args, "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert report["semantics"] == semantics and report["sign"] == "loadings"
    assert report["base"] == models["base"] and report["models"] == [models["tuned"], models["tuned2"]]
    rows = report["results"]
    assert [(r["tuned"], r["task"], r["n_texts"], r["layers"]) for r in rows] == [
        (models["tuned"], "chat", 6, [0, 1, 2]), (models["tuned2"], "chat", 6, [0, 1, 2])]
    assert all(r["d_star"] > 0 for r in rows) and rows[0]["d_star"] != rows[1]["d_star"]

    code, table, _ = analyze(capsys, *args, "--format", "table")
    assert code == 0
    header, columns, *lines = table.splitlines()
    assert header.startswith(f"# d* ({semantics} semantics, loadings signs)")
    assert columns.split() == ["tuned", "task", "d_star", "n_texts", "layers"]
    assert [line.split() for line in lines] == [[r["tuned"], "chat", f"{r['d_star']:.6g}", "6", "0,1,2"]
                                                for r in rows]


def test_latent_semantics_sign_layers_and_pooling_change_the_number(tmp_path, capsys, results, models):
    texts = write_jsonl(tmp_path / "chat.jsonl", [{"text": t} for t in TEXTS])

    def d_star(*extra: str) -> float:
        code, out, err = analyze(capsys, "latent", "--base", models["base"], "--tuned", models["tuned"],
                                 "--texts", texts, "--format", "json", *extra)
        assert code == 0, err
        report = json.loads(out)
        assert report["sign"] == ("scores" if "scores" in extra else "loadings")
        return report["results"][0]["d_star"]

    official, paper = d_star("--semantics", "official"), d_star("--semantics", "paper")
    assert official != pytest.approx(paper, rel=1e-3)  # texts of different lengths: the pads matter
    assert d_star("--semantics", "paper", "--pooling", "mean_with_pad") != pytest.approx(paper, rel=1e-3)
    assert d_star("--layers", "0,2") != pytest.approx(official, rel=1e-3)
    assert d_star("--layers", "-1") == pytest.approx(d_star("--layers", "2"))
    assert d_star("--n", "4") != pytest.approx(official, rel=1e-3)
    d_star("--sign", "scores")  # passed through (whether d* moves depends on the data: test_latent covers it)


@pytest.mark.parametrize("semantics", ["official", "paper"])
def test_tokens_end_to_end_both_formats(tmp_path, capsys, results, models, semantics):
    responses = write_jsonl(tmp_path / "answers.jsonl", [{"input": p, "output": r} for p, r in SAMPLES])
    args = ["tokens", "--base", models["base"], "--tuned", models["tuned"], "--responses", responses,
            "--semantics", semantics]
    code, out, err = analyze(capsys, *args, "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert (report["semantics"], report["sign"], report["models"]) == (semantics, None, [models["tuned"]])
    (row,) = report["results"]
    response_chars = sum(len(r) for _, r in SAMPLES)  # the character tokenizer: one token per character
    # official drops each response's first token (the script's [plen + 1:] with a tokenizer that adds no BOS)
    assert row["n_tokens"] == (response_chars - len(SAMPLES) if semantics == "official" else response_chars)
    assert (row["tuned"], row["task"], row["n_samples"]) == (models["tuned"], "answers", 4)
    assert row["kl_sampled"] > 0 and row["kl_exact"] > 0 and row["rank_shift"] == row["rank_shift"]

    code, table, _ = analyze(capsys, *args)  # table is the default
    header, columns, line = table.splitlines()
    assert header.startswith(f"# token shift ({semantics} semantics)")
    assert columns.split() == ["tuned", "task", "n_samples", "n_tokens", "kl_sampled", "kl_exact", "rank_shift"]
    assert line.split()[:4] == [models["tuned"], "answers", "4", str(row["n_tokens"])]
    assert float(line.split()[4]) == pytest.approx(row["kl_sampled"], rel=1e-5)


def test_tokens_n_and_max_tokens_limit_what_is_scored(tmp_path, capsys, results, models):
    responses = write_jsonl(tmp_path / "answers.jsonl", [{"input": p, "output": r} for p, r in SAMPLES])
    code, out, err = analyze(capsys, "tokens", "--base", models["base"], "--tuned", models["tuned"], "--responses",
                             responses, "--semantics", "paper", "--n", "2", "--max-tokens", "3", "--format", "json")
    assert code == 0, err
    (row,) = json.loads(out)["results"]
    assert (row["n_samples"], row["n_tokens"]) == (2, 6)


def _cache_files(results: Path) -> set[Path]:
    return {p for kind in ("hidden", "tokens", "responses") for p in (results / kind).rglob("*") if p.is_file()}


@pytest.mark.parametrize("command", ["latent", "tokens"])
def test_a_second_run_reads_the_cache_and_loads_no_model(tmp_path, capsys, results, models, monkeypatch, command):
    inputs = {"latent": ["--texts", write_jsonl(tmp_path / "t.jsonl", [{"text": t} for t in TEXTS])],
              "tokens": ["--responses", write_jsonl(tmp_path / "r.jsonl", [{"input": p, "output": r}
                                                                           for p, r in SAMPLES])]}[command]
    args = [command, "--base", models["base"], "--tuned", models["tuned"], *inputs, "--format", "json"]
    code, first, err = analyze(capsys, *args)
    assert code == 0, err
    cached = _cache_files(results)
    assert cached  # the first run stored its hidden states / token scores

    refs.cached_model.cache_clear()
    monkeypatch.setattr(refs, "load_model", lambda *a, **k: pytest.fail(f"a model was loaded: {a}"))
    code, second, err = analyze(capsys, *args)
    assert code == 0, err
    assert second == first and _cache_files(results) == cached


@pytest.mark.parametrize("command", ["latent", "tokens"])
def test_benchmarks_feed_both_commands_and_are_cached(capsys, results, models, monkeypatch, command):
    if not (benchmarks_dir() / "aime24").is_dir():
        pytest.skip(f"offline benchmark copies not found at {benchmarks_dir()} (set MATHXFER_DATA_DIR)")
    extra = {"latent": ["--max-tokens", "160"], "tokens": ["--response-tokens", "4"]}[command]
    args = [command, "--base", models["base"], "--tuned", models["tuned"], "--benchmarks", "AIME24,IFEval",
            "--data-dir", benchmarks_dir(), "--limit", "3", "--n", "3", *extra, "--format", "json"]

    def rows(*more: str) -> tuple[str, list[dict]]:
        code, out, err = analyze(capsys, *args, *more)
        assert code == 0, err
        return out, json.loads(out)["results"]

    first, official = rows()
    assert [r["task"] for r in official] == ["AIME24", "IFEval"]
    if command == "latent":
        assert [r["n_texts"] for r in official] == [3, 3] and all(r["d_star"] > 0 for r in official)
    else:  # the tuned model's greedy answers (cached), scored; official drops each answer's first token
        _, paper = rows("--semantics", "paper")
        assert all(0 < r["n_samples"] <= 3 and 0 < r["n_tokens"] for r in paper)
        assert [r["n_tokens"] for r in official] == [p["n_tokens"] - p["n_samples"] for p in paper]

    refs.cached_model.cache_clear()
    monkeypatch.setattr(refs, "load_model", lambda *a, **k: pytest.fail(f"a model was loaded: {a}"))
    monkeypatch.setattr(token_analysis, "cached_model", lambda *a, **k: pytest.fail(f"a model was loaded: {a}"))
    assert rows()[0] == first


# ---- SmolLM2 from its GGUF file ---------------------------------------------------------------------

def test_smollm2_gguf_against_itself_has_no_latent_shift(tmp_path, capsys, results, smol_gguf):
    texts = write_jsonl(tmp_path / "t.jsonl", [{"text": t} for t in TEXTS])
    code, out, err = analyze(capsys, "latent", "--base", smol_gguf, "--tuned", smol_gguf, "--texts", texts, "--n", "3",
                             "--max-tokens", "16", "--layers", "0,15,-1", "--format", "json")
    assert code == 0, err
    (row,) = json.loads(out)["results"]
    assert row["layers"] == [0, 15, 30] and row["n_texts"] == 3  # SmolLM2-135M: 30 layers + the embeddings
    assert row["d_star"] == pytest.approx(0.0, abs=1e-9)


def test_smollm2_gguf_against_itself_has_no_token_shift(capsys, results, smol_gguf):
    released = benchmarks_dir() / "paper_model_outputs" / "UniReason-RL_ifeval.jsonl"
    if not released.is_file():
        pytest.skip(f"the authors' released responses are not at {released}")
    code, out, err = analyze(capsys, "tokens", "--base", smol_gguf, "--tuned", smol_gguf, "--responses", released,
                             "--n", "2", "--max-tokens", "16", "--format", "json")
    assert code == 0, err
    (row,) = json.loads(out)["results"]
    assert (row["task"], row["n_samples"], row["n_tokens"]) == ("UniReason-RL_ifeval", 2, 32)
    assert row["kl_sampled"] == pytest.approx(0.0, abs=1e-6) and row["kl_exact"] == pytest.approx(0.0, abs=1e-6)
    assert row["rank_shift"] == 0
