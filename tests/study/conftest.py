"""Three real studies at toy size, each built once per session with results in a private folder:
a micro study (a tiny micro base, two arms, two seeds, two steps, the learning-rate control), a
real-model study (a tiny Llama built from a config, the smol recipes, the 12-benchmark engine with
limit 2 on the local benchmark copies) and a pairs study (one smol arm on IFEval, whose analyses compare
two off-the-shelf pairs of tiny Llamas instead: one on the authors' released UniReason-RL IFEval responses,
one on its own greedy answers, each against its own base). One thread."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
import yaml

from mathxfer.eval.testdata import benchmarks_dir

MICRO = {"profile": "micro", "arms": ["sft-think", "grpo"], "seeds": [0, 1], "steps": 2, "workers": 2,
         "evaluation": {"kind": "micro", "eval_n": 10},
         "analysis": {"texts": "micro", "n_samples": 8, "max_tokens": 32, "umap": True},
         "controls": {"learning_rate": 1.0e-4}}
# the Table 4 ablation beside it: its grpo runs are the micro study's; no on-policy SFT (the untrained toy base
# solves no prompt, so rejection sampling keeps nothing: its row stays empty)
ABLATION = {**MICRO, "arms": ["sft-nothink", "offpolicy-rl", "grpo", "grpo-kl"], "controls": {"learning_rate": None}}
# the learning-rate sweep beside it: its main and control runs are the micro study's; one added point per arm
SWEEP = {**MICRO, "sweep": {"learning_rates": {"sft-think": [1.0e-3], "grpo": [1.0e-3]}, "seeds": [0],
                            "kl_prompts": 8}}
REAL = {"profile": "smol", "arms": ["sft-nothink", "grpo"], "seeds": [0], "steps": 1, "workers": 2,
        "evaluation": {"kind": "benchmarks", "suite": "paper", "limit": 2, "max_new_tokens": 8, "batch_size": 4},
        "analysis": {"texts": "benchmarks", "n_samples": 2, "max_tokens": 16, "response_tokens": 8,
                     "umap": False, "compare_semantics": False},
        "controls": {"learning_rate": None}}
PAIRS = {"profile": "smol", "arms": ["sft-nothink"], "seeds": [0], "steps": 1, "workers": 1,
         "evaluation": {"kind": "benchmarks", "suite": "IFEval", "limit": 2, "max_new_tokens": 8, "batch_size": 4},
         "analysis": {"texts": "benchmarks", "n_samples": 2, "max_tokens": 16, "response_tokens": 8, "umap": False},
         "controls": {"learning_rate": None}}
RELEASED_IFEVAL = "paper_model_outputs/UniReason-RL_ifeval.jsonl"  # under the data dir


def write_study(path: Path, fields: dict) -> Path:
    path.write_text(yaml.safe_dump(fields, sort_keys=False))
    return path


def _run(root: Path, fields: dict, name: str = "study"):
    from mathxfer.study import read_study
    from mathxfer.study.run import run_study

    spec = read_study(write_study(root / f"{name}.yaml", fields))
    with open(root / f"{name}.log", "w") as log:
        return run_study(spec, out=log)


@pytest.fixture(scope="session")
def micro_study(tmp_path_factory):
    from mathxfer.micro.model import ModelConfig, build_model
    from mathxfer.micro.tokenizer import corpus, train_tokenizer

    root = tmp_path_factory.mktemp("micro-study")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MATHXFER_RESULTS", str(root / "results"))
        mp.setenv("OMP_NUM_THREADS", "1")
        torch.set_num_threads(1)
        tok = train_tokenizer(corpus(2000, seed=1))
        build_model(ModelConfig(hidden=32, layers=2, heads=2, ffn=64), tok, seed=0).save_pretrained(root / "base")
        tok.save_pretrained(root / "base")
        record = _run(root, {**MICRO, "base_model": str(root / "base")})
    yield record, root


def _beside_micro(micro_study, fields: dict, name: str):
    """A study at toy size in the micro study's folder (its base and results store), sharing its runs."""
    _, root = micro_study
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MATHXFER_RESULTS", str(root / "results"))
        mp.setenv("OMP_NUM_THREADS", "1")
        return _run(root, {**fields, "base_model": str(root / "base")}, name), root


@pytest.fixture(scope="session")
def micro_ablation(micro_study):
    """The ablation study at toy size, beside the micro study."""
    return _beside_micro(micro_study, ABLATION, "ablation")


@pytest.fixture(scope="session")
def micro_sweep(micro_study):
    """The sweep study at toy size, beside the micro study."""
    return _beside_micro(micro_study, SWEEP, "sweep")


@contextlib.contextmanager
def real_models_env(root: Path) -> Iterator[None]:
    """A real-model study's environment: results under ``root``, the offline benchmark copies, one thread."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MATHXFER_RESULTS", str(root / "results"))
        mp.setenv("MATHXFER_DATA_DIR", str(benchmarks_dir()))
        mp.setenv("OMP_NUM_THREADS", "1")
        yield


@pytest.fixture(scope="session")
def real_study(tmp_path_factory):
    from eval.conftest import tiny_model_and_tokenizer  # tests/ is on sys.path (tests/eval is a package)

    if not (benchmarks_dir() / "math500").is_dir():
        pytest.skip(f"offline benchmark copies not found at {benchmarks_dir()} (set MATHXFER_DATA_DIR)")
    root = tmp_path_factory.mktemp("real-study")
    with real_models_env(root):
        model, tok = tiny_model_and_tokenizer()
        model.save_pretrained(root / "base")
        tok.save_pretrained(root / "base")
        record = _run(root, {**REAL, "base_model": str(root / "base")})
    yield record, root


def perturbed(model, seed: int, scale: float = 0.05):
    """A copy of ``model`` with every weight moved by Gaussian noise: a "tuned" model on the same tokenizer."""
    import copy

    out = copy.deepcopy(model)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in out.parameters():
            p.add_(scale * torch.randn(p.shape, generator=generator))
    return out


@pytest.fixture(scope="session")
def pairs_study(tmp_path_factory):
    """The pairs study: tiny-RL (tuned from base-a, on the first 2 released IFEval responses) and tiny-SFT
    (tuned from base-b, answering the IFEval prompts itself)."""
    from eval.conftest import tiny_model_and_tokenizer

    if not (benchmarks_dir() / RELEASED_IFEVAL).is_file():
        pytest.skip(f"the released responses {RELEASED_IFEVAL} are not under {benchmarks_dir()}")
    root = tmp_path_factory.mktemp("pairs-study")
    with real_models_env(root):
        model, tok = tiny_model_and_tokenizer()
        for name, weights in (("base-a", model), ("tuned-a", perturbed(model, 1)), ("base-b", perturbed(model, 2)),
                              ("tuned-b", perturbed(model, 3))):
            weights.save_pretrained(root / name)
            tok.save_pretrained(root / name)
        lines = (benchmarks_dir() / RELEASED_IFEVAL).read_text().splitlines(keepends=True)[:2]
        (root / "ifeval-2.jsonl").write_text("".join(lines))
        pairs = [{"label": "tiny-RL", "base": str(root / "base-a"), "tuned": str(root / "tuned-a"), "kind": "RL",
                  "responses": {"IFEval": str(root / "ifeval-2.jsonl")}},
                 {"label": "tiny-SFT", "base": str(root / "base-b"), "tuned": str(root / "tuned-b"), "kind": "SFT"}]
        fields = {**PAIRS, "base_model": str(root / "base-a"), "analysis": {**PAIRS["analysis"], "pairs": pairs}}
        record = _run(root, fields)
    yield record, root


@pytest.fixture()
def in_results(monkeypatch):
    """Point the results store at a study's folder for one test."""
    def use(root: Path) -> None:
        monkeypatch.setenv("MATHXFER_RESULTS", str(root / "results"))
        monkeypatch.setenv("MATHXFER_DATA_DIR", str(benchmarks_dir()))
    return use


def executed_errors(path: Path) -> list[str]:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    return [f"{o.ename}: {o.evalue}" for c in nb.cells if c.cell_type == "code" for o in c.outputs
            if o.output_type == "error"]


def outputs_text(path: Path) -> str:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    return "\n".join(str(o.get("data", {}).get("text/html", "")) + str(o.get("data", {}).get("text/markdown", ""))
                     + str(o.get("text", "")) for c in nb.cells if c.cell_type == "code" for o in c.outputs)


os.environ.setdefault("OMP_NUM_THREADS", "1")
