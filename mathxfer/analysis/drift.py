"""How far post-training moved a model from its base on the prompts it trained on: KL(base || tuned).

RL's Razor (Shenfeld et al. 2025) finds that forgetting follows this forward KL, measured on the new task's
prompts, whatever the method; the sweep chapter tests that on our runs. The base answers each prompt once,
sampled at temperature 1 (seeded, cached: every run is scored on the same answers); both models then score
the answers with teacher forcing (``mathxfer.analysis.tokens.score_responses``, which caches). With the base
as its first model, the per-position ``kl_full`` there is KL(base || tuned) over the whole vocabulary at each
prefix the base wrote, so its sum over an answer estimates the sequence-level KL without the noise of
sampling the tokens' log-ratio; the mean over answers is in nats per answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mathxfer.analysis.refs import ModelRef
from mathxfer.analysis.store import texts_hash
from mathxfer.analysis.tokens import ScoreConfig, score_responses
from mathxfer.errors import read_json
from mathxfer.paths import cache_dir
from mathxfer.provenance import config_key, provenance, write_json_atomic

MAX_NEW_TOKENS = 32  # the micro recipes' completion budget (max_completion_length)
SAMPLE_SEED = 0
SCORING = ScoreConfig(semantics="paper")  # every answer token scored, nothing smoothed


def micro_training_prompts(n: int) -> list[str]:
    """The first ``n`` math prompts every micro arm trains on (seed 0's post-training stream), rendered."""
    from mathxfer.micro.grading import render
    from mathxfer.micro.posttrain_data import math_prompts

    return [render(item.question) for item in math_prompts(n, seed=0)]


def base_answers(base: ModelRef, prompts: Sequence[str], max_new_tokens: int = MAX_NEW_TOKENS) -> list[str]:
    """One answer of the base per prompt at temperature 1, cached by the base, the prompts and the budget."""
    from mathxfer.generation import generate_texts
    from mathxfer.models import load_model, load_tokenizer

    key_config = {"kind": "base_answers", "model": base.identity(), "prompts": texts_hash(prompts),
                  "max_new_tokens": max_new_tokens, "temperature": 1.0, "seed": SAMPLE_SEED}
    path = cache_dir("responses") / f"{config_key(key_config)}.json"
    if path.is_file():
        stored = read_json(path, f"delete {path}; the next `mathxfer study` samples the base again")
        return list(stored["responses"])
    model = load_model(base.path, gguf_file=base.gguf_file)
    tokenizer = load_tokenizer(base.path, gguf_file=base.gguf_file)
    answers = generate_texts(model, tokenizer, list(prompts), max_new_tokens=max_new_tokens, greedy=False,
                             temperature=1.0, seed=SAMPLE_SEED, batch_size=32)
    write_json_atomic(path, {"provenance": provenance(key_config, seed=SAMPLE_SEED), "responses": answers})
    return answers


def forward_kl(base: ModelRef, tuned: ModelRef, tokenizer: Any, prompts: Sequence[str],
               answers: Sequence[str]) -> float:
    """Mean over the base's ``answers`` of the summed per-token KL(base || tuned), in nats per answer;
    ``tokenizer`` is the base's (both models share it)."""
    from mathxfer.models import load_model

    scores = score_responses(  # first model: the one whose answers are scored, so kl_full is KL(base || tuned)
        lambda: load_model(base.path, gguf_file=base.gguf_file),
        lambda: load_model(tuned.path, gguf_file=tuned.gguf_file),
        tokenizer, tokenizer, list(prompts), list(answers), config=SCORING,
        cache_ids=(base.identity(), tuned.identity()))
    total = np.concatenate([[0.0], np.cumsum(scores.kl_full, dtype=np.float64)])
    per_answer = total[scores.offsets[1:]] - total[scores.offsets[:-1]]  # an empty answer sums to 0
    return float(per_answer.mean()) if len(per_answer) else float("nan")


def describe(n_prompts: int) -> str:
    """What the KL is measured on, for the page."""
    return (f"KL(base || tuned) in nats per answer, on {n_prompts} of the math training prompts: one answer of "
            f"the base per prompt at temperature 1 (up to {MAX_NEW_TOKENS} tokens), the full-vocabulary KL at "
            "each of its tokens summed over the answer, then averaged over answers")

