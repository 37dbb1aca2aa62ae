"""The one generation engine for transformers models: benchmark evaluation, micro evaluation, on-policy
sampling and the token analysis all generate through ``generate`` (vLLM hosts use
``mathxfer.eval.backends.VLLMBackend`` with the same output type).

Prompts arrive rendered (chat template applied) and are tokenized without added special tokens, left-padded
in batches; each completion is cut at the first end-of-sequence token and at any stop string.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Generation:
    text: str
    num_tokens: int
    finish_reason: str  # "stop" (EOS or a stop string) or "length" (hit max_new_tokens)


def cut_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    cuts = [text.find(s) for s in stop if s and s in text]
    return (text[: min(cuts)], True) if cuts else (text, False)


def eos_ids(model: Any, tokenizer: Any) -> set[int]:
    """Every token that ends a completion: the tokenizer's and the generation config's (Qwen3 has two)."""
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    ids = configured if isinstance(configured, list) else [configured]
    return {i for i in (tokenizer.eos_token_id, *ids) if i is not None}


def generate(model: Any, tokenizer: Any, prompts: Sequence[str], *, max_new_tokens: int, n: int = 1,
             greedy: bool = True, temperature: float = 1.0, top_p: float = 1.0, stop: Sequence[str] = (),
             seed: int | None = None, batch_size: int = 8) -> list[list[Generation]]:
    """``n`` completions per prompt. ``seed`` reseeds torch per batch (``seed + start``), so a resumed run
    draws the same samples; ``None`` draws from the caller's seeded stream (one seed for a whole pass)."""
    import torch

    if tokenizer.padding_side != "left":
        raise ValueError("batched generation needs tokenizer.padding_side == 'left'; set it before calling")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.eval()
    eos = eos_ids(model, tokenizer)
    kwargs: dict[str, Any] = dict(max_new_tokens=max_new_tokens, use_cache=True, num_return_sequences=n,
                                  pad_token_id=tokenizer.pad_token_id, eos_token_id=sorted(eos))
    if greedy:
        kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
    else:
        kwargs.update(do_sample=True, temperature=temperature, top_p=top_p, top_k=0)
    if stop:
        kwargs.update(stop_strings=list(stop), tokenizer=tokenizer)
    out: list[list[Generation]] = []
    for start in range(0, len(prompts), batch_size):
        batch = list(prompts[start:start + batch_size])
        if seed is not None:
            torch.manual_seed(seed + start)
        enc = tokenizer(batch, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        with torch.inference_mode():
            seqs = model.generate(**enc, **kwargs)
        new = seqs[:, enc["input_ids"].shape[1]:].tolist()
        for i in range(len(batch)):
            gens = []
            for row in new[i * n:(i + 1) * n]:
                ids = [t for t in row if t != tokenizer.pad_token_id or t in eos]
                ended = next((k for k, t in enumerate(ids) if t in eos), None)
                if ended is not None:
                    ids = ids[:ended]
                text, stopped = cut_at_stop(tokenizer.decode(ids, skip_special_tokens=True), stop)
                gens.append(Generation(text, len(ids), "stop" if ended is not None or stopped else "length"))
            out.append(gens)
    return out


def generate_texts(model: Any, tokenizer: Any, prompts: Sequence[str], *, max_new_tokens: int,
                   batch_size: int = 8, **sampling: Any) -> list[str]:
    """One completion per prompt, as text."""
    return [g[0].text for g in generate(model, tokenizer, prompts, max_new_tokens=max_new_tokens,
                                        batch_size=batch_size, **sampling)]
