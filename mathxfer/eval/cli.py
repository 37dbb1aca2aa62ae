"""`mathxfer eval` and `mathxfer regrade`, registered on the main parser by `add_commands`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from mathxfer.errors import UsageError

SUITE_HELP = "paper (all 12), math, other, non, or comma-separated benchmark names (default paper)"


POSITIVE = {  # option -> (its attribute, what a positive value is)
    "--limit": ("limit", "a positive number of items per benchmark (omit it for every item)"),
    "--max-new-tokens": ("max_new_tokens", "a positive token budget (omit it for the paper's 32768)"),
    "--batch-size": ("batch_size", "a positive number of prompts per batch (default 8)"),
    "--tensor-parallel-size": ("tensor_parallel_size", "a positive number of GPUs (default 1)"),
}


def _check_positive(args: argparse.Namespace) -> None:
    """0 or a negative count is refused before anything loads (0 is not "unset": it would mean no work)."""
    for option, (attr, fix) in POSITIVE.items():
        value = getattr(args, attr)
        if value is not None and value <= 0:
            raise UsageError(f"{option} {value}: give {fix}")


def _eval(args: argparse.Namespace) -> int:
    from mathxfer.eval.runner import EvalConfig, run_eval
    from mathxfer.eval.specs import resolve_suite

    try:
        benchmarks = resolve_suite(args.suite)
    except ValueError as err:
        raise UsageError(str(err)) from err
    _check_positive(args)
    if args.method and not args.base:
        raise UsageError(f"--method {args.method}: only a tuned model has a method; pass its base with --base")
    cfg = EvalConfig(model=args.model, benchmarks=benchmarks, gguf_file=args.gguf_file, base=args.base,
                     name=args.name, method=args.method, limit=args.limit, data_dir=args.data_dir, out=args.out,
                     seed=args.seed,
                     thinking=args.thinking == "on", max_new_tokens=args.max_new_tokens,
                     batch_size=args.batch_size, backend=args.backend,
                     tensor_parallel_size=args.tensor_parallel_size)
    try:
        path, outcomes = run_eval(cfg)
    except (FileNotFoundError, OSError, RuntimeError) as err:
        raise UsageError(str(err).splitlines()[0] if str(err) else repr(err)) from err
    for o in outcomes:
        score = f"{o.score:.1f}" if o.score is not None else "-"
        print(f"{o.benchmark}\t{o.status}\t{score}\tn={o.n_items}\tnew={o.n_new}")
    if not any(o.score is not None for o in outcomes):
        raise UsageError("no benchmark could be evaluated (all missing); pass --data-dir or check hub access")
    print(f"scores: {path}")
    return 0


def _regrade(args: argparse.Namespace) -> int:
    from mathxfer.eval.regrade import RELEASED, regrade_file
    from mathxfer.eval.specs import SPECS

    if args.benchmark not in SPECS:
        raise UsageError(f"unknown benchmark {args.benchmark!r}; use one of {', '.join(SPECS)}")
    try:
        r = regrade_file(args.benchmark, args.responses, args.data_dir)
    except (FileNotFoundError, KeyError, ValueError) as err:
        raise UsageError(str(err)) from err
    reported = RELEASED.get(args.benchmark, (None, None))[1]
    print(f"{r.benchmark}: {r.score:.1f}% ({r.n_correct}/{r.n} items correct"
          f"{'' if r.benchmark != 'IFEval' else ' at prompt level; score is instruction level'})"
          + (f"; reported {reported}" if reported is not None else ""))
    complete = f"{r.score_complete:.1f}%" if r.n_incomplete < r.n else "-"
    print(f"no final answer: {r.n_incomplete}/{r.n}; score on the {r.n - r.n_incomplete} complete: "
          f"{complete}; unmatched prompts (not graded): {r.n_unmatched}")
    return 0


def add_commands(subparsers: Any) -> None:
    ev = subparsers.add_parser("eval", help="evaluate a model on the paper's benchmarks (resumable)")
    ev.add_argument("--model", required=True, metavar="ID_OR_PATH", help="hub id, local dir, or the GGUF's folder")
    ev.add_argument("--gguf-file", metavar="F", help="GGUF file name inside --model (weights are dequantised)")
    ev.add_argument("--base", metavar="ID", help="the model's own base (for the TI); omit for a base model")
    ev.add_argument("--name", help="the model's name in the scores file (default: from --model/--gguf-file)")
    ev.add_argument("--method", choices=("RL", "SFT", "official"),
                    help="how the tuned model was post-trained: the survey groups RL and SFT models in Figure 2 and "
                         "the method means (default: other, shown in the table only)")
    ev.add_argument("--suite", default="paper", help=SUITE_HELP)
    ev.add_argument("--limit", type=int, metavar="N", help="first N items per benchmark (a smoke run)")
    ev.add_argument("--data-dir", metavar="D", help="local benchmark folder in /work/shared/benchmarks' layout "
                    "(default $MATHXFER_DATA_DIR, else the Hugging Face hub)")
    ev.add_argument("--out", metavar="DIR", help="results folder (default results/eval)")
    ev.add_argument("--seed", type=int, default=0, metavar="S")
    ev.add_argument("--thinking", choices=("on", "off"), default="off",
                    help="Qwen3 enable_thinking (default off, as in the authors' released prompts)")
    ev.add_argument("--max-new-tokens", type=int, metavar="T", help="token budget (default the paper's 32768)")
    ev.add_argument("--batch-size", type=int, default=8)
    ev.add_argument("--backend", choices=("transformers", "vllm"), default="transformers")
    ev.add_argument("--tensor-parallel-size", type=int, default=1, help="vLLM only")
    ev.set_defaults(func=_eval)

    rg = subparsers.add_parser("regrade", help="grade saved responses (JSONL of input/output) and print the counts")
    rg.add_argument("--benchmark", required=True, metavar="NAME")
    rg.add_argument("--responses", required=True, metavar="FILE")
    rg.add_argument("--data-dir", metavar="D", help="local benchmark folder (default $MATHXFER_DATA_DIR, else the hub)")
    rg.set_defaults(func=_regrade)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: mathxfer eval ... / mathxfer regrade ...")
