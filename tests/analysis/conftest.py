"""Fixtures for the analysis tests: tiny models, a character tokenizer, a private results folder."""

from __future__ import annotations

import pytest
from analysis_tiny import char_tokenizer, tiny_llama
from transformers import LlamaForCausalLM, PreTrainedTokenizerFast


@pytest.fixture(scope="session")
def tokenizer() -> PreTrainedTokenizerFast:
    return char_tokenizer()


@pytest.fixture(scope="session")
def base_model() -> LlamaForCausalLM:
    return tiny_llama(0)


@pytest.fixture(scope="session")
def tuned_model() -> LlamaForCausalLM:
    return tiny_llama(1)


@pytest.fixture()
def results(tmp_path, monkeypatch):
    """Point results_dir() at a temp folder so tests never touch the real results."""
    monkeypatch.setenv("MATHXFER_RESULTS", str(tmp_path / "results"))
    return tmp_path / "results"
