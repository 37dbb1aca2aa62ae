"""`mathxfer eval` and `mathxfer regrade`, registered on the main parser by `add_commands`."""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from pathlib import Path
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
    base = scores_base(args.base, args, Path(args.out) if args.out else None) if args.base else None
    cfg = EvalConfig(model=args.model, benchmarks=benchmarks, gguf_file=args.gguf_file, base=base,
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


# ---- --base: the survey row or our own evaluation the tuned model's TI is computed against ---------------

SETTINGS = ("seed", "limit", "thinking", "max_new_tokens", "backend")  # an evaluation's settings beside its model


def scores_base(base: str, args: argparse.Namespace, out: Path | None = None) -> str:
    """``--base`` as the scores file names the base: a model of the survey table (data/paper/survey_scores.csv)
    as given, so the TI uses the paper's base scores; a hub id (org/name) or a local path by the name of our
    own evaluation of it in ``out`` (default results/eval), so the TI uses the base scores we measured. Anything
    else, or a base we have not evaluated, is a UsageError naming the fix (and the survey's closest names)."""
    from mathxfer.paths import paper_dir, repo_path
    from mathxfer.survey.table import load_scores_csv

    names = list(load_scores_csv(paper_dir() / "survey_scores.csv").index)
    if base in names:
        return base
    close = difflib.get_close_matches(base, names, n=4, cutoff=0.6)
    survey_hint = (f"the closest survey models are {', '.join(close)}" if close else
                   f"the survey's models are the rows of {paper_dir() / 'survey_scores.csv'}")
    if not (repo_path(base).exists() or re.fullmatch(r"[\w.-]+/[\w.-]+", base)):
        raise UsageError(f"--base {base!r} is not a survey model, a hub id (org/name) or a local path; "
                         f"{survey_hint}")
    return _evaluated_name(base, args, out, survey_hint)


def _evaluated_name(base: str, args: argparse.Namespace, out: Path | None, survey_hint: str) -> str:
    """The model name in our evaluation of ``base`` (matched by the model's identity, not its path); among
    several, the one evaluated with this run's settings."""
    from mathxfer.eval.runner import EvalConfig
    from mathxfer.models import identity
    from mathxfer.paths import eval_dir
    from mathxfer.scores_file import ScoresFileError, read_scores

    root = out or eval_dir()
    try:
        wanted = identity(base)
    except (OSError, ValueError) as err:
        raise UsageError(f"--base {base}: cannot read that model ({err})") from err
    ours = EvalConfig(model=base, benchmarks=(), seed=args.seed, limit=args.limit, thinking=args.thinking == "on",
                      max_new_tokens=args.max_new_tokens, backend=args.backend).key_config()
    found: dict[str, bool] = {}  # model name -> whether evaluated with this run's settings
    for path in sorted(root.glob("*/scores.json")):
        try:
            records, provenance = read_scores(path)
        except ScoresFileError:
            continue  # another model's damaged file: its own `mathxfer eval` names it
        config = provenance.get("config", {})
        if config.get("model") == wanted:
            same = all(config.get(k) == ours[k] for k in SETTINGS)
            found[records[0].model] = found.get(records[0].model, False) or same
    matching = [name for name, same in found.items() if same] or list(found)
    if len(matching) == 1:
        return matching[0]
    if not matching:
        raise UsageError(f"--base {base}: no evaluation of that model in {root}; evaluate the base first "
                         f"(`mathxfer eval --model {base} --name 'NAME (ours)'`, a name that is not a survey row) so "
                         f"the TI has its scores, or pass a survey model to use the paper's base scores ({survey_hint})")
    raise UsageError(f"--base {base}: {root} holds evaluations of it under several names ({', '.join(matching)}); "
                     "keep one of them (delete the others' folders) so the tuned model has one base")


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
    ev.add_argument("--base", metavar="B", help="the model's own base, for the TI: a survey model name (the TI uses "
                    "the paper's base scores) or the hub id or path of a base evaluated here first (the TI uses "
                    "ours); omit for a base model")
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
