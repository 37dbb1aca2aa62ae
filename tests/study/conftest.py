"""Two real studies at toy size, each built once per session with results in a private folder:
a micro study (a tiny micro base, two arms, two seeds, two steps, the learning-rate control) and a
real-model study (a tiny Llama built from a config, the smol recipes, the 12-benchmark engine with
limit 2 on the local benchmark copies). One thread."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
import yaml

from mathxfer.eval.testdata import benchmarks_dir

MICRO = {"profile": "micro", "arms": ["sft-think", "grpo"], "seeds": [0, 1], "steps": 2, "workers": 2,
         "evaluation": {"kind": "micro", "eval_n": 10},
         "analysis": {"texts": "micro", "n_samples": 8, "max_tokens": 32, "umap": True},
         "controls": {"learning_rate": 1.0e-4}}
REAL = {"profile": "smol", "arms": ["sft", "grpo"], "seeds": [0], "steps": 1, "workers": 2,
        "evaluation": {"kind": "benchmarks", "suite": "paper", "limit": 2, "max_new_tokens": 8, "batch_size": 4},
        "analysis": {"texts": "benchmarks", "n_samples": 2, "max_tokens": 16, "response_tokens": 8,
                     "umap": False, "compare_pooling": False},
        "controls": {"learning_rate": None}}


def write_study(path: Path, fields: dict) -> Path:
    path.write_text(yaml.safe_dump(fields, sort_keys=False))
    return path


def _run(root: Path, fields: dict):
    from mathxfer.study import read_study
    from mathxfer.study.run import run_study

    spec = read_study(write_study(root / "study.yaml", fields))
    with open(root / "study.log", "w") as log:
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


@pytest.fixture(scope="session")
def real_study(tmp_path_factory):
    from eval.conftest import tiny_model_and_tokenizer  # tests/ is on sys.path (tests/eval is a package)

    if not (benchmarks_dir() / "math500").is_dir():
        pytest.skip(f"offline benchmark copies not found at {benchmarks_dir()} (set MATHXFER_DATA_DIR)")
    root = tmp_path_factory.mktemp("real-study")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MATHXFER_RESULTS", str(root / "results"))
        mp.setenv("MATHXFER_DATA_DIR", str(benchmarks_dir()))
        mp.setenv("OMP_NUM_THREADS", "1")
        model, tok = tiny_model_and_tokenizer()
        model.save_pretrained(root / "base")
        tok.save_pretrained(root / "base")
        record = _run(root, {**REAL, "base_model": str(root / "base")})
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
