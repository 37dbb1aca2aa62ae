"""Batched vs one-at-a-time generation on the same model and prompts, and the grading cost per item.

    OMP_NUM_THREADS=1 python benchmarks/bench_generation.py [--model DIR --gguf-file F] [--n 8] [--tokens 32]

Without --model it uses a tiny random Llama (the tests' fixture), so it runs anywhere; both timings
are taken in the same process, greedy, with the same max_new_tokens (EOS is suppressed so every
sequence generates the full budget and the token counts are equal).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mathxfer.eval.backends import TransformersBackend  # noqa: E402
from mathxfer.eval.grading import grade_ifeval, grade_letter, grade_math  # noqa: E402
from mathxfer.eval.specs import Sampling  # noqa: E402


def _time_generation(backend: TransformersBackend, prompts: list[str], tokens: int) -> tuple[float, int]:
    start = time.perf_counter()
    gens = backend.generate(prompts, Sampling(max_new_tokens=tokens))
    return time.perf_counter() - start, sum(g[0].num_tokens for g in gens)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model")
    parser.add_argument("--gguf-file")
    parser.add_argument("--n", type=int, default=8, help="prompts")
    parser.add_argument("--tokens", type=int, default=32, help="new tokens per prompt")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.model:
        from mathxfer.models import load_model, load_tokenizer

        model = load_model(args.model, gguf_file=args.gguf_file)
        tok = load_tokenizer(args.model, gguf_file=args.gguf_file)
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "eval"))
        from conftest import tiny_model_and_tokenizer

        model, tok = tiny_model_and_tokenizer()
    model.generation_config.eos_token_id = None  # full budget for every sequence: equal work both ways
    model.generation_config.suppress_tokens = [tok.eos_token_id]
    prompts = [f"Problem {i}: what is {i} plus {i * 7}? " + "Think carefully. " * (i % 4) for i in range(args.n)]
    prompts = [TransformersBackend(model, tok).render(p, thinking=False) for p in prompts]
    _time_generation(TransformersBackend(model, tok, batch_size=args.n), prompts[:2], 4)  # warm-up
    t_batch, n_batch = _time_generation(TransformersBackend(model, tok, batch_size=args.n), prompts, args.tokens)
    t_one, n_one = _time_generation(TransformersBackend(model, tok, batch_size=1), prompts, args.tokens)
    print(f"model: {args.gguf_file or args.model or 'tiny random llama'}; {args.n} prompts x {args.tokens} new tokens")
    print(f"batched (batch {args.n}): {n_batch / t_batch:8.1f} tok/s  ({t_batch:.2f}s)")
    print(f"one at a time:     {n_one / t_one:8.1f} tok/s  ({t_one:.2f}s)")
    print(f"speed-up: {(n_batch / t_batch) / (n_one / t_one):.2f}x")

    cases = [("math-verify", grade_math, r"so Final Answer: \boxed{\frac{1}{2}}", {"answer": "0.5"}),
             ("letter", grade_letter, r"Final Answer: \boxed{C}", {"letter": "C"}),
             ("ifeval", grade_ifeval, "Hello world. This has no commas. " * 20,
              {"instruction_id_list": ["punctuation:no_comma", "length_constraints:number_sentences"],
               "kwargs": [{}, {"relation": "at least", "num_sentences": 5}]})]
    for name, grade, response, gold in cases:
        grade(response, gold)  # warm-up (imports, punkt)
        reps = 50
        start = time.perf_counter()
        for _ in range(reps):
            grade(response, gold)
        print(f"grading {name:12s}: {1000 * (time.perf_counter() - start) / reps:7.2f} ms/item")


if __name__ == "__main__":
    main()
