"""Generation backends with one output format: transformers (CPU/GPU) and vLLM (GPU hosts).

Both render prompts with the model's chat template the way the paper's runs did (Qwen3: a user turn
and the generation prompt, ``enable_thinking`` on or off; the released UniReason prompts end with an
empty <think></think> block, i.e. thinking off), sample n completions per prompt, cut at stop strings,
and score continuations by log-likelihood for the multiple-choice benchmarks (lm-eval's ``acc``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from mathxfer.eval.specs import Sampling
from mathxfer.generation import Generation, generate


class Backend(Protocol):
    name: str
    revision: str

    def render(self, prompt: str, *, thinking: bool) -> str: ...

    def generate(self, prompts: Sequence[str], sampling: Sampling, *, stop: Sequence[str] = (),
                 seed: int = 0) -> list[list[Generation]]: ...

    def loglikelihood(self, requests: Sequence[tuple[str, str]]) -> list[float]: ...


def render_chat(tokenizer: Any, prompt: str, *, thinking: bool) -> str:
    """The chat-formatted prompt; a tokenizer without a chat template (a base model) gets it raw."""
    if not getattr(tokenizer, "chat_template", None):
        return prompt
    # Templates that do not know enable_thinking ignore the extra variable.
    return tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                         add_generation_prompt=True, enable_thinking=thinking)


def _load(name_or_path: str, gguf_file: str | None, dtype: Any = None) -> tuple[Any, Any]:
    from mathxfer.models import load_model, load_tokenizer

    model = load_model(name_or_path, gguf_file=gguf_file, dtype=dtype, device="cpu")
    return model.eval(), load_tokenizer(name_or_path, gguf_file=gguf_file)


def model_revision(name_or_path: str, gguf_file: str | None, model: Any = None) -> str:
    """A hub commit hash when known, else the model's identity (for local files a hash of every file that
    defines it, the same one the cache keys use)."""
    from mathxfer.models import identity

    commit = getattr(getattr(model, "config", None), "_commit_hash", None)
    return str(commit) if commit else identity(name_or_path, gguf_file=gguf_file)


class TransformersBackend:
    """Batched generation with left padding and the KV cache; seeded sampling."""

    name = "transformers"

    def __init__(self, model: Any, tokenizer: Any, *, batch_size: int = 8, revision: str = "unknown"):
        self.model, self.tok, self.batch_size, self.revision = model, tokenizer, batch_size, revision
        self.tok.padding_side = "left"   # decoder-only: pad on the left so generation continues the prompt
        if self.tok.pad_token is None:
            self.tok.pad_token = self.tok.eos_token

    @classmethod
    def load(cls, name_or_path: str, *, gguf_file: str | None = None, batch_size: int = 8,
             dtype: Any = None) -> TransformersBackend:
        model, tok = _load(name_or_path, gguf_file, dtype)
        return cls(model, tok, batch_size=batch_size, revision=model_revision(name_or_path, gguf_file, model))

    def render(self, prompt: str, *, thinking: bool) -> str:
        return render_chat(self.tok, prompt, thinking=thinking)

    def generate(self, prompts: Sequence[str], sampling: Sampling, *, stop: Sequence[str] = (),
                 seed: int = 0) -> list[list[Generation]]:
        return generate(self.model, self.tok, prompts, max_new_tokens=sampling.max_new_tokens, n=sampling.n,
                        greedy=sampling.greedy, temperature=sampling.temperature, top_p=sampling.top_p,
                        stop=stop, seed=seed, batch_size=self.batch_size)

    def loglikelihood(self, requests: Sequence[tuple[str, str]]) -> list[float]:
        """Sum of log p(continuation | context) per request, lm-eval style (context tokens fixed)."""
        import torch

        scores: list[float] = []
        for start in range(0, len(requests), self.batch_size):
            batch = requests[start:start + self.batch_size]
            seqs, spans = [], []
            for context, continuation in batch:
                ctx = self.tok(context, add_special_tokens=False)["input_ids"]
                whole = self.tok(context + continuation, add_special_tokens=False)["input_ids"]
                n_ctx = len(ctx) if whole[:len(ctx)] == ctx else len(whole) - len(
                    self.tok(continuation, add_special_tokens=False)["input_ids"])
                seqs.append(whole)
                spans.append((max(n_ctx, 1), len(whole)))
            width = max(len(s) for s in seqs)
            pad = self.tok.pad_token_id
            ids = torch.tensor([s + [pad] * (width - len(s)) for s in seqs])
            mask = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in seqs])
            with torch.inference_mode():
                logp = torch.log_softmax(self.model(input_ids=ids, attention_mask=mask).logits.float(), -1)
            for row, (lo, hi) in enumerate(spans):
                targets = ids[row, lo:hi]
                scores.append(float(logp[row, lo - 1:hi - 1].gather(-1, targets[:, None]).sum()))
        return scores


class VLLMBackend:
    """vLLM on GPU hosts (imported lazily; not installable on the CPU dev machine, so untested here)."""

    name = "vllm"

    def __init__(self, name_or_path: str, *, gguf_file: str | None = None, tokenizer: str | None = None,
                 tensor_parallel_size: int = 1, seed: int = 0, max_model_len: int | None = None):
        try:
            from vllm import LLM
        except ImportError as err:
            raise RuntimeError("the vllm backend needs `pip install vllm` on a GPU host; use "
                               "--backend transformers elsewhere") from err
        model = str(Path(name_or_path) / gguf_file) if gguf_file else name_or_path
        self.llm = LLM(model=model, tokenizer=tokenizer or name_or_path, seed=seed,
                       tensor_parallel_size=tensor_parallel_size, max_model_len=max_model_len)
        self.tok = self.llm.get_tokenizer()
        self.revision = model_revision(name_or_path, gguf_file)

    def render(self, prompt: str, *, thinking: bool) -> str:
        return render_chat(self.tok, prompt, thinking=thinking)

    def generate(self, prompts: Sequence[str], sampling: Sampling, *, stop: Sequence[str] = (),
                 seed: int = 0) -> list[list[Generation]]:
        from vllm import SamplingParams

        params = SamplingParams(n=sampling.n, temperature=sampling.temperature,
                                top_p=sampling.top_p if not sampling.greedy else 1.0,
                                max_tokens=sampling.max_new_tokens, stop=list(stop) or None, seed=seed)
        results = self.llm.generate(list(prompts), params)
        return [[Generation(o.text, len(o.token_ids), "length" if o.finish_reason == "length" else "stop")
                 for o in r.outputs] for r in results]

    def loglikelihood(self, requests: Sequence[tuple[str, str]]) -> list[float]:
        from vllm import SamplingParams

        params = SamplingParams(max_tokens=1, prompt_logprobs=0, temperature=0.0)
        prompts = [c + x for c, x in requests]
        outs = self.llm.generate(prompts, params)
        scores = []
        for (context, _), out in zip(requests, outs):
            n_ctx = len(self.tok(context, add_special_tokens=False)["input_ids"])
            lp = out.prompt_logprobs
            toks = out.prompt_token_ids
            scores.append(sum(lp[k][toks[k]].logprob for k in range(max(n_ctx, 1), len(toks))))
        return scores


def make_backend(kind: str, model: str, *, gguf_file: str | None = None, base: str | None = None,
                 batch_size: int = 8, tensor_parallel_size: int = 1, seed: int = 0) -> Backend:
    if kind == "transformers":
        return TransformersBackend.load(model, gguf_file=gguf_file, batch_size=batch_size)
    if kind == "vllm":
        return VLLMBackend(model, gguf_file=gguf_file, tokenizer=base if gguf_file else None,
                           tensor_parallel_size=tensor_parallel_size, seed=seed)
    raise ValueError(f"unknown backend {kind!r}; use transformers or vllm")
