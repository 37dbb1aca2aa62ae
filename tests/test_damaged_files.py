"""A damaged cache or results file is named, with its line where there is one, and the fix; none is used silently.

Each table row writes one kind of damage and gives a fragment the message must hold. The memo of file hashes
is the one file that is rebuilt rather than refused (it is a memo: a warning names it once).
"""

from __future__ import annotations

import hashlib
import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mathxfer.errors import DamagedFile

sys.path.insert(0, str(Path(__file__).parent / "analysis"))  # the tiny models of the analysis tests
from analysis_tiny import char_tokenizer, tiny_llama

CACHE_FIX = "Fix: delete it; it is a cache and is recomputed"


@pytest.fixture()
def results(tmp_path, monkeypatch):
    monkeypatch.setenv("MATHXFER_RESULTS", str(tmp_path / "results"))
    return tmp_path / "results"


# ---- file_hashes.json: a memo, rebuilt with one warning ----------------------------------------------------

MEMOS = [
    ('{"a": ', "file_hashes.json:1: damaged (not valid JSON"),
    ("[1, 2]", "file_hashes.json: damaged (a JSON list, not a mapping of file to hash)"),
    ('{"x|1|2": 5}', "file_hashes.json: damaged (a JSON dict, not a mapping of file to hash)"),
    (b"\xff\xfe\x00", "file_hashes.json: damaged (not UTF-8 text)"),
]


@pytest.mark.parametrize(("content", "message"), MEMOS, ids=["truncated", "a list", "not hashes", "binary"])
def test_a_damaged_hash_memo_is_named_once_and_rebuilt(results, tmp_path, capsys, content, message):
    from mathxfer.identity import model_identity
    from mathxfer.paths import file_hashes_path

    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    expected = model_identity(model)
    memo = file_hashes_path()
    memo.write_bytes(content if isinstance(content, bytes) else content.encode())
    capsys.readouterr()
    assert model_identity(model) == expected
    err = capsys.readouterr().err
    assert f"{results}" in err and message in err and "it is rebuilt now" in err and err.count("\n") == 1
    assert isinstance(json.loads(memo.read_text()), dict)  # rewritten whole
    model_identity(model)
    assert capsys.readouterr().err == ""  # named once


# ---- .npz caches (analysis/store.py) -------------------------------------------------------------------------

def _garbage(path: Path) -> None:
    path.write_bytes(b"PK\x03\x04 not really a zip")


def _truncated(path: Path) -> None:
    from mathxfer.analysis.store import save_npz_atomic

    save_npz_atomic(path, {"a": np.arange(1000.0)}, meta={"x": 1})
    path.write_bytes(path.read_bytes()[:300])


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _bad_meta(path: Path) -> None:
    from mathxfer.analysis.store import save_npz_atomic

    save_npz_atomic(path, {"a": np.zeros(2), "__meta__": np.array("{not json")})


def _pickled(path: Path) -> None:
    np.savez(path, a=np.array([{"x": 1}], dtype=object))


def _meta_key_mismatch(path: Path) -> None:
    from mathxfer.analysis.store import save_npz_atomic

    save_npz_atomic(path, {"a": np.zeros(2)}, meta={"config": {"kind": "x"}, "config_key": "0123456789abcdef"})


def _other_config(path: Path) -> None:
    from mathxfer.analysis.store import save_npz_atomic
    from mathxfer.provenance import provenance

    save_npz_atomic(path, {"a": np.zeros(2)}, meta=provenance({"kind": "x", "n": 1}))


def _ragged_tokens(path: Path) -> None:
    from mathxfer.analysis.store import save_npz_atomic
    from mathxfer.analysis.tokens import _FIELDS

    save_npz_atomic(path, {"offsets": np.array([0, 1, 3]), **{f: np.zeros(2) for f in _FIELDS}},
                    meta={"config": {"kind": "token_scores", "n": 2}})


def _tokens_wrong_n(path: Path) -> None:
    from mathxfer.analysis.store import save_npz_atomic
    from mathxfer.analysis.tokens import _FIELDS

    save_npz_atomic(path, {"offsets": np.array([0, 2]), **{f: np.zeros(2) for f in _FIELDS}},
                    meta={"config": {"kind": "token_scores", "n": 2}})


def _hidden_shape(path: Path) -> None:
    from mathxfer.analysis.store import save_npz_atomic

    save_npz_atomic(path, {"layers": np.array([0, 1]), "features": np.zeros((3, 4, 8), dtype=np.float16)})


def _tokens_check():
    from mathxfer.analysis.tokens import cache_problem

    return cache_problem


def _hidden_check():
    from mathxfer.analysis.hidden import cache_problem

    return cache_problem


# (writer, the check its reader passes (None: only what every .npz is checked for), the message)
NPZ = [
    (_garbage, None, "damaged (not a readable .npz: BadZipFile"),
    (_truncated, None, "damaged (not a readable .npz"),
    (_empty, None, "damaged (not a readable .npz"),
    (_bad_meta, None, "damaged (not a readable .npz: JSONDecodeError"),
    (_pickled, None, "damaged (not a readable .npz: ValueError"),
    (_meta_key_mismatch, None, "damaged (its metadata is inconsistent"),
    (_ragged_tokens, _tokens_check, "damaged (per-token arrays"),
    (_tokens_wrong_n, _tokens_check, "damaged (offsets of shape (2,); its configuration has 2 samples"),
    (_hidden_shape, _hidden_check, "damaged (features of shape (3, 4, 8) for layers of shape (2,)"),
]


@pytest.mark.parametrize(("write", "check", "message"), NPZ, ids=[w.__name__.strip("_") for w, _, _ in NPZ])
def test_a_damaged_npz_is_named_with_the_fix(tmp_path, write, check, message):
    from mathxfer.analysis.store import load_npz

    path = tmp_path / "cache.npz"  # not named by a key: the key check has its own test
    write(path)
    with pytest.raises(DamagedFile) as caught:
        load_npz(path, check() if check else None)
    assert str(caught.value).startswith(f"{path}: ") and message in str(caught.value)
    assert CACHE_FIX in str(caught.value) and "\n" not in str(caught.value)


def test_an_npz_under_another_configurations_key_is_refused(tmp_path):
    from mathxfer.analysis.store import load_npz

    path = tmp_path / "fedcba9876543210.npz"
    _other_config(path)
    with pytest.raises(DamagedFile, match="holds the result of another configuration"):
        load_npz(path)
    renamed = path.with_name("anything.npz")  # no key in the name: nothing to compare
    path.rename(renamed)
    assert load_npz(renamed)[1]["config"] == {"kind": "x", "n": 1}


TEXTS = ["the cat sat", "a", "what is 1 + 2?", "hello", "zz", "one two three"]


@pytest.fixture(scope="module")
def tiny():
    return tiny_llama(0), char_tokenizer()


def _swap_features(path: Path, change) -> None:
    """Rewrite a hidden-state cache with other features but its own metadata (as a bad copy would)."""
    from mathxfer.analysis.store import save_npz_atomic

    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(str(arrays.pop("__meta__")))
    save_npz_atomic(path, change(arrays), meta=meta)


HIDDEN = [
    (lambda a: {**a, "features": a["features"][:, :4]}, "features for 4 texts; its configuration asks for 6"),
    (lambda a: {**a, "features": a["features"].astype(np.float32)},
     "features of dtype float32; its configuration asks for float16"),
    (lambda a: {"layers": a["layers"]}, "a hidden-state cache needs arrays 'layers' and 'features'"),
    (lambda a: {**a, "features": a["features"][:, :, 0]}, "expected (n_layers, n_texts, hidden)"),
]


@pytest.mark.parametrize(("change", "message"), HIDDEN, ids=["too few texts", "dtype", "no features", "2-d"])
def test_a_hidden_state_cache_of_the_wrong_shape_is_never_used(results, tiny, change, message):
    from mathxfer.analysis.hidden import HiddenConfig, extract_hidden

    model, tokenizer = tiny
    config = HiddenConfig(batch_size=2, chunk_size=2, max_tokens=8)
    first = extract_hidden(model, tokenizer, TEXTS, model_id="m", config=config)
    _swap_features(first.path, change)

    def loader():
        raise AssertionError("a damaged cache must be refused, not recomputed behind the user's back")

    with pytest.raises(DamagedFile) as caught:
        extract_hidden(loader, tokenizer, TEXTS, model_id="m", config=config)
    assert str(caught.value).startswith(f"{first.path}: damaged (") and message in str(caught.value)
    first.path.unlink()  # the fix the message gives: the next run recomputes it
    again = extract_hidden(model, tokenizer, TEXTS, model_id="m", config=config)
    np.testing.assert_array_equal(again.features, first.features)


def test_a_damaged_chunk_of_an_interrupted_extraction_is_named(results, tiny):
    from mathxfer.analysis.hidden import HiddenConfig, extract_hidden

    model, tokenizer = tiny
    config = HiddenConfig(batch_size=2, chunk_size=2, max_tokens=8)
    import torch

    class Crashing(torch.nn.Module):  # the model, crashing on its second batch
        def __init__(self):
            super().__init__()
            self.model, self.calls = model, 0

        def forward(self, **kwargs):
            self.calls += 1
            if self.calls == 2:
                raise RuntimeError("simulated crash")
            return self.model(**kwargs)

    wrapped = Crashing()
    with pytest.raises(RuntimeError, match="simulated"):
        extract_hidden(wrapped, tokenizer, TEXTS, model_id="m", config=config)
    [chunk] = list((results / "hidden").glob("*.partial/chunk_*.npz"))
    chunk.write_bytes(b"")
    with pytest.raises(DamagedFile) as caught:
        extract_hidden(model, tokenizer, TEXTS, model_id="m", config=config)
    assert str(caught.value).startswith(f"{chunk}: damaged (") and CACHE_FIX in str(caught.value)


# ---- JSON caches and results files ----------------------------------------------------------------------------

def _micro_eval_path(n: int) -> tuple[Path, Path]:
    from mathxfer.micro import world
    from mathxfer.micro.evaluate import EVAL_VERSION
    from mathxfer.models import identity
    from mathxfer.paths import REPO_ROOT, micro_eval_dir

    base = (REPO_ROOT / "data" / "micro" / "base").resolve()
    digest = hashlib.sha256(identity(str(base)).encode()).hexdigest()[:12]
    return base, micro_eval_dir() / f"w{world.fingerprint()}-n{n}-v{EVAL_VERSION}-{digest}.json"


ACC = {"arith": 0.5}
RECORD = {"family": "arith", "question": "q", "response": "r"}
MICRO_EVALS = [
    ('{"family": {', ":1: damaged (not valid JSON"),
    ("[]", "damaged (a JSON list, not an evaluation object)"),
    (json.dumps({"group": ACC, "records": []}), "damaged (no 'family' accuracies"),
    (json.dumps({"family": ACC, "group": {"math": 50}, "records": []}), "damaged (no 'group' accuracies"),
    (json.dumps({"family": ACC, "group": ACC}), "damaged (no 'records' list"),
    (json.dumps({"family": ACC, "group": ACC, "records": [{"family": "arith"}]}), "damaged (no 'records' list"),
]
MICRO_EVAL_IDS = ["truncated", "a list", "no family", "percent not fraction", "no records", "bad record"]


@pytest.mark.parametrize(("content", "message"), MICRO_EVALS, ids=MICRO_EVAL_IDS)
def test_a_damaged_micro_evaluation_cache_is_named(results, content, message):
    from mathxfer.micro.evaluate import evaluate_cached

    base, path = _micro_eval_path(3)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    with pytest.raises(DamagedFile) as caught:
        evaluate_cached(base, 3)
    assert str(caught.value).startswith(str(path)) and message in str(caught.value)
    assert "Fix: delete it; it is a cache and is recomputed by the next `mathxfer study`" in str(caught.value)


@pytest.mark.parametrize(("content", "message"), MICRO_EVALS, ids=MICRO_EVAL_IDS)
def test_the_token_analysis_names_a_damaged_micro_evaluation(tmp_path, content, message):
    from mathxfer.study.analyses import _micro_samples

    path = tmp_path / "eval.json"
    path.write_text(content)
    with pytest.raises(DamagedFile) as caught:
        _micro_samples(str(path), 2)
    assert str(caught.value).startswith(str(path)) and message in str(caught.value)


def test_a_good_micro_evaluation_still_reads(tmp_path):
    from mathxfer.study.analyses import _micro_samples

    path = tmp_path / "eval.json"
    path.write_text(json.dumps({"family": ACC, "group": ACC, "records": [RECORD, RECORD, RECORD]}))
    assert _micro_samples(str(path), 2)["arith"][1] == ["r", "r"]


RESPONSES = [
    ("{", ":1: damaged (not valid JSON"),
    ('["a", "b"]', "damaged (no 'responses' list of strings)"),
    ('{"responses": ["a", 2]}', "damaged (no 'responses' list of strings)"),
    ('{"responses": ["only one"]}', "damaged (1 responses for 2 prompts)"),
]


@pytest.mark.parametrize(("content", "message"), RESPONSES, ids=["truncated", "a list", "not text", "too few"])
def test_a_damaged_response_cache_is_named(results, content, message):
    from mathxfer.analysis.refs import ModelRef
    from mathxfer.analysis.store import texts_hash
    from mathxfer.analysis.token_analysis import generate_responses
    from mathxfer.paths import cache_dir
    from mathxfer.provenance import config_key

    ref = ModelRef("hub", "org/some-model")  # a hub id: its identity needs no download
    prompts = ["a", "b"]
    key = config_key({"kind": "responses", "model": ref.identity(), "prompts": texts_hash(prompts), "n": 2,
                      "max_new_tokens": 4})
    path = cache_dir("responses") / f"{key}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    with pytest.raises(DamagedFile) as caught:
        generate_responses(ref, prompts, 4)
    assert str(caught.value).startswith(str(path)) and message in str(caught.value)
    assert "Fix: delete it; it is a cache" in str(caught.value)


RECORDS = [
    ("{", ":1: damaged (not valid JSON"),
    ("[1]", "damaged (a JSON list, not an object)"),
    ('{"schema": "mathxfer/study@1"}', "damaged (no 'study')"),
    ('{"schema": "mathxfer/study@1", "study": {"nonsense": 1}}', "damaged (TypeError: "),
    ('{"schema": "other"}', "not a mathxfer/study@1 study record"),
]


@pytest.mark.parametrize(("content", "message"), RECORDS, ids=["truncated", "a list", "no study", "bad study",
                                                               "schema"])
def test_a_damaged_study_record_names_the_command_that_rewrites_it(tmp_path, content, message):
    from mathxfer.study.record import StudyRecordMissing, read_record

    path = tmp_path / "study.json"
    path.write_text(content)
    with pytest.raises(StudyRecordMissing) as caught:  # what `mathxfer study` takes as "redo the record"
        read_record(path, "mathxfer study --profile micro")
    assert str(path) in str(caught.value) and message in str(caught.value)
    assert "rerun `mathxfer study" in str(caught.value)
    if "damaged" in message:
        assert "Fix: rerun `mathxfer study --profile micro`" in str(caught.value)
        with pytest.raises(StudyRecordMissing, match=r"Fix: rerun `mathxfer study --profile P`"):
            read_record(path)  # the command unknown: the message says how to find it


def test_a_damaged_training_log_is_named_with_its_line(tmp_path):
    from mathxfer.study.record import StudyRecord

    log = tmp_path / "metrics.jsonl"
    log.write_text('{"step": 1, "loss": 2.0}\n{"step": 2, "lo\n')
    run = type("Run", (), {"arm": "sft", "seed": 0, "metrics_path": str(log), "output_dir": str(tmp_path),
                           "label": "sft seed 0", "variant": "main"})()
    from mathxfer.study.spec import study_path

    spec = type("Spec", (), {"source": str(study_path("micro")), "profile": "micro"})()
    record = StudyRecord("k", spec, {}, {}, [run])
    with pytest.raises(DamagedFile, match=rf"{log}:2: damaged \(not valid JSON.*Fix: rerun `mathxfer study"):
        record.metrics()


SCORES = [
    ('{"schema": ', ":1: damaged (not valid JSON"),
    ('{"schema": "mathxfer/scores@1", "provenance": {}, "scores": [{"benchmark": "MATH500"}]}',
     "scores[0]: missing field(s) model, base_model, score, n"),
    (json.dumps({"schema": "mathxfer/scores@1", "provenance": {}, "scores": [
        {"model": "m", "base_model": "", "benchmark": "MATH500", "score": 830, "n": 2}]}),
     "scores[0]: score 830 is not a percentage"),
]


@pytest.mark.parametrize(("content", "message"), SCORES, ids=["truncated", "no score", "830"])
def test_a_studys_damaged_scores_json_is_named(tmp_path, monkeypatch, content, message):
    from mathxfer.eval import runner
    from mathxfer.scores_file import ScoresFileError
    from mathxfer.study import read_study
    from mathxfer.study.evaluation import _benchmarks

    path = tmp_path / "scores.json"
    path.write_text(content)
    monkeypatch.setattr(runner, "run_eval", lambda cfg, log=None: (path, [runner.BenchmarkOutcome(
        "MATH500", "done", 2, 0, 50.0)]))
    with pytest.raises(ScoresFileError) as caught:
        _benchmarks(read_study(None, "smol"), "some-model", None)
    assert str(caught.value).startswith(str(path)) and message in str(caught.value)


def test_npz_members_are_plain_zip(tmp_path):
    """The store writes uncompressed members (a check that the damage above is damage, not a format change)."""
    from mathxfer.analysis.store import load_npz, save_npz_atomic

    path = tmp_path / "ok.npz"
    save_npz_atomic(path, {"a": np.arange(3)}, meta={"k": 1})
    with zipfile.ZipFile(path) as archive:
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_STORED}
    arrays, meta = load_npz(path)
    assert meta == {"k": 1} and arrays["a"].tolist() == [0, 1, 2]
