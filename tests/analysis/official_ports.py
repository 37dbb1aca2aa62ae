"""Independent ports of the authors' analysis scripts, as test fixtures for the ``official`` semantics.

Ported from ReasoningTransfer/Transferability-of-LLM-Reasoning:
  analyse_PCA_Shift/analyse_PCA_Shift.py                                  -> official_d_star
  analysis_token_distribution_shift/calculate_logits_and_ranks_token_level.py -> official_token_losses
  analysis_token_distribution_shift/calculate_KL.py                       -> official_kl

The arithmetic follows the scripts step by step (a per-layer forward pass, scikit-learn's PCA with
its default solver on the float32 features, a pandas centroid distance; vLLM's prompt logprobs and
1-based ranks; the per-data-point smoothed log ratio) and deliberately shares no code with
``mathxfer.analysis``: imports come from numpy, pandas, scikit-learn and torch only, so a bug in the
library cannot hide in its own reference. Importable as ``official_ports`` (from tests/analysis) or
``analysis.official_ports`` (from tests/).

What replaces vLLM: ``LLM.generate(prompts, SamplingParams(max_tokens=1, prompt_logprobs=1))`` gives,
per prompt, a list whose entry 0 is None and whose entry j holds token j's log-probability given
tokens < j and its 1-based rank: how many vocabulary entries have a log-probability >= its own,
itself included (vLLM counts ``logprobs >= token_logprob``). Here one transformers forward pass per prompt, unpadded
as vLLM runs it, gives the same list; the prompt string is tokenized with special tokens, as vLLM
tokenizes a string prompt.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.decomposition import PCA

# ---- analyse_PCA_Shift.py ------------------------------------------------------------------------


def _extract_features(model: torch.nn.Module, tokenizer: Any, texts: Sequence[str], layer_idx: int,
                      max_length: int) -> np.ndarray:
    """The script's extract_features: one padded call over all texts, mean over every position."""
    inputs = tokenizer(list(texts), return_tensors="pt", padding=True, truncation=True, max_length=max_length)
    inputs = {k: v.to(model.device) for k, v in inputs.items()}
    outputs = model(**inputs, output_hidden_states=True)
    hs = outputs.hidden_states[layer_idx].to(torch.float32)
    return hs.mean(dim=1).detach().cpu().numpy()


def _centroid_distance(df: pd.DataFrame, states: Sequence[str] = ("Updated",)) -> dict[str, float]:
    """The script's compute_centroid_distance."""
    orig = df[df["state"] == "Original"][["shift", "principle"]].mean().values
    result = {}
    for state in states:
        if state in df["state"].unique():
            other = df[df["state"] == state][["shift", "principle"]].mean().values
            result[state] = float(np.linalg.norm(other - orig))
    return result


def official_d_star(base_model: torch.nn.Module, tuned_model: torch.nn.Module, tokenizer: Any,
                    texts: Sequence[str], max_length: int = 128) -> float:
    """d* as analyse_PCA_Shift.py computes it, with ``tokenizer`` (the base model's) for both models.

    The tokenizer's padding side is set to left for the call (as the script does) and restored.
    """
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    saved_side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        num_layers = base_model.config.num_hidden_layers + 1
        orig_stats = []
        for layer in range(num_layers):
            with torch.no_grad():
                feats_o = _extract_features(base_model, tokenizer, texts, layer, max_length)
            pca = PCA(n_components=2).fit(feats_o)
            comp1, comp2 = pca.components_[0], pca.components_[1]
            orig_stats.append((comp1, comp2, float(feats_o.dot(comp1).mean()), float(feats_o.dot(comp2).mean())))
        records = []
        for layer, (comp1, comp2, pc1_o, pc2_o) in enumerate(orig_stats):
            with torch.no_grad():
                feats_u = _extract_features(tuned_model, tokenizer, texts, layer, max_length)
            pc1_u = float(feats_u.dot(comp1).mean())
            pc2_u = float(feats_u.dot(comp2).mean())
            records.append({"layer": layer, "state": "Original", "shift": 0.0, "principle": pc2_o})
            records.append({"layer": layer, "state": "Updated", "shift": pc1_u - pc1_o, "principle": pc2_u})
    finally:
        tokenizer.padding_side = saved_side
    return _centroid_distance(pd.DataFrame(records))["Updated"]


# ---- calculate_logits_and_ranks_token_level.py ---------------------------------------------------


def _prompt_logprobs(model: torch.nn.Module, token_ids: list[int]) -> list[dict[str, float | int] | None]:
    """What vLLM's ``output.prompt_logprobs`` holds for one prompt (the prompt token's entry only)."""
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([token_ids], device=model.device)).logits[0]
    logprobs = torch.log_softmax(logits.float(), dim=-1)
    entries: list[dict[str, float | int] | None] = [None]
    for j in range(1, len(token_ids)):
        row = logprobs[j - 1]
        chosen = row[token_ids[j]]
        entries.append({"token_id": token_ids[j], "logprob": float(chosen), "rank": int((row >= chosen).sum())})
    return entries


def official_token_losses(model: torch.nn.Module, tokenizer: Any,
                          entries: Sequence[Mapping[str, str]]) -> list[dict[str, Any] | None]:
    """compute_batch_losses_vllm for ``entries`` ({"input": prompt, "output": response}): per entry
    None (no prompt or response, or no scored token) or {avg_loss, perplexity, token_losses=[{loss,
    token, rank}]} over the tokens ``prompt_logprobs[prompt_length + 1:]``."""
    results: list[dict[str, Any] | None] = [None] * len(entries)
    for idx, entry in enumerate(entries):
        problem, solution = entry.get("input", ""), entry.get("output", "")
        if not (problem and solution):
            continue
        full_ids = tokenizer(problem + solution)["input_ids"]  # vLLM: a string prompt, special tokens added
        prompt_length = len(tokenizer(problem, return_tensors="pt", truncation=True,
                                      add_special_tokens=False)["input_ids"][0])
        answer_token_entries = _prompt_logprobs(model, list(full_ids))[prompt_length + 1:]
        token_losses = [{"loss": -e["logprob"], "token": tokenizer.decode([e["token_id"]]), "rank": e["rank"]}
                        for e in answer_token_entries if e is not None]
        if token_losses:
            avg_loss = sum(t["loss"] for t in token_losses) / len(token_losses)
            results[idx] = {"avg_loss": avg_loss, "perplexity": math.exp(avg_loss), "token_losses": token_losses}
    return results


# ---- calculate_KL.py -----------------------------------------------------------------------------


def official_kl(gen_results: Sequence[Mapping[str, Any] | None],
                test_results: Sequence[Mapping[str, Any] | None]) -> float:
    """calculate_kl_divergence for one (generation model, task, tested model): ``gen_results`` are the
    generating (tuned) model's token losses on its own responses, ``test_results`` the other (base)
    model's on the same responses. NaN when no data point has a token (the script reports nothing)."""
    # load_data_from_dir keeps only results that exist and carry avg_loss, per file.
    gen_points = [r["token_losses"] for r in gen_results if r is not None and "avg_loss" in r]
    test_points = [r["token_losses"] for r in test_results if r is not None and "avg_loss" in r]
    kl_per_data_point = []
    for i in range(min(len(gen_points), len(test_points))):
        min_tokens = min(len(gen_points[i]), len(test_points[i]))
        if min_tokens == 0:
            continue
        gen_probs = [np.exp(-gen_points[i][j]["loss"]) for j in range(min_tokens)]
        test_probs = [np.exp(-test_points[i][j]["loss"]) for j in range(min_tokens)]
        epsilon = 1e-10
        gen_arr, test_arr = np.array(gen_probs) + epsilon, np.array(test_probs) + epsilon
        kl_per_data_point.append(np.mean(np.log(gen_arr) - np.log(test_arr)))
    if not kl_per_data_point:
        return float("nan")
    return float(abs(np.mean(kl_per_data_point)))
