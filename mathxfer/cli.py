"""The `mathxfer` command.

    mathxfer book [--profile micro|smol|paper] [--only CHAPTER ...] [-p KEY=VALUE ...]
    mathxfer survey ti [--reading pooled|literal|v1] [--scores FILE] [--extra FILE ...]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import yaml

from mathxfer.book.chapters import CHAPTERS, DEFAULT_PROFILE, PROFILES
from mathxfer.eval.cli import add_commands as add_eval_commands


class UsageError(ValueError):
    """Bad command-line input; printed as one line, exit status 2."""


def parse_parameter(text: str) -> tuple[str, Any]:
    """KEY=VALUE with VALUE read as YAML, so numbers, booleans and lists keep their types."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"parameter {text!r} is not KEY=VALUE (e.g. -p ti_reading=literal)")
    try:
        return key.strip(), yaml.safe_load(value)
    except yaml.YAMLError as err:
        raise UsageError(f"parameter {key}: cannot read value {value!r} ({err})") from err


def _book(args: argparse.Namespace) -> int:
    from mathxfer.book.build import build_book

    params = dict(parse_parameter(p) for p in args.param)
    try:
        result = build_book(profile=args.profile, only=args.only, parameters=params,
                            progress=not args.quiet)
    except ValueError as err:
        raise UsageError(str(err)) from err
    return 0 if result.ok else 1


def _survey_ti(args: argparse.Namespace) -> int:
    from mathxfer.scores_file import ScoresFileError
    from mathxfer.survey import load_survey

    try:
        survey = load_survey(args.scores or "reported", args.extra)
    except (ScoresFileError, ValueError, FileNotFoundError) as err:
        raise UsageError(str(err)) from err
    table = survey.ti(args.reading)
    for row in table[table["undefined"] != ""].itertuples():
        print(f"note: {row.model}: TI undefined under the {args.reading} reading: {row.undefined}",
              file=sys.stderr)
    table[["model", "base_model", "TI_other", "TI_non"]].to_csv(sys.stdout, index=False, float_format="%.1f")
    return 0


def _train(args: argparse.Namespace) -> int:
    from mathxfer.train import RecipeError, load, train
    from mathxfer.train.recipes import available_recipes

    overrides = dict(parse_parameter(p) for p in args.set)
    if args.seed is not None:
        overrides["seed"] = args.seed
    if args.recipe not in available_recipes(args.profile):
        raise UsageError(f"no recipe {args.recipe!r} for profile {args.profile!r}; its recipes are: "
                         f"{', '.join(available_recipes(args.profile)) or 'none'}")
    try:
        config = load(args.profile, args.recipe, **overrides)
    except RecipeError as err:
        raise UsageError(str(err)) from err
    record = train(config)
    state = "reused (already finished)" if record.reused else f"trained in {record.seconds:.0f}s"
    print(f"{args.recipe}: {state}; model in {record.model_dir}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mathxfer", description="Does math reasoning transfer? "
                                     "An executable reproduction of arXiv 2507.00432.")
    sub = parser.add_subparsers(dest="command", required=True)

    book = sub.add_parser("book", help="execute the chapter notebooks and build the HTML book into _build/html")
    book.add_argument("--profile", default=DEFAULT_PROFILE, help=f"one of {', '.join(PROFILES)} "
                      f"(default {DEFAULT_PROFILE})")
    book.add_argument("--only", action="append", metavar="CHAPTER",
                      help=f"build only this chapter (repeatable): {', '.join(c.name for c in CHAPTERS)}")
    book.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE",
                      help="override a chapter parameter; VALUE is YAML (e.g. -p extra_results='[a.json]')")
    book.add_argument("--quiet", action="store_true", help="no per-cell progress bars")
    book.set_defaults(func=_book)

    survey = sub.add_parser("survey", help="the survey of off-the-shelf models")
    survey_sub = survey.add_subparsers(dest="survey_command", required=True)
    ti = survey_sub.add_parser("ti", help="print the Transferability Index of every tuned model as CSV")
    ti.add_argument("--reading", choices=("pooled", "literal", "v1"), default="pooled",
                    help="how sigma is read (pooled reproduces the paper), or v1's ratio of relative gains")
    ti.add_argument("--scores", metavar="FILE", help="a score table CSV in data/paper/survey_scores.csv's "
                    "layout (default: the paper's reported scores)")
    ti.add_argument("--extra", action="append", default=[], metavar="FILE",
                    help="a scores file from `mathxfer eval` whose models join the table (repeatable)")
    ti.set_defaults(func=_survey_ti)
    add_eval_commands(sub)

    trainer = sub.add_parser("train", help="post-train one arm from a recipe (TRL); reused when finished, "
                             "resumed when interrupted")
    trainer.add_argument("--profile", default=DEFAULT_PROFILE, choices=PROFILES)
    trainer.add_argument("--recipe", required=True, help="a file name in recipes/<profile>/ without .yaml")
    trainer.add_argument("--seed", type=int, help="the run's seed (also shifts the prompt draw)")
    trainer.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                         help="override a recipe field (VALUE is YAML), e.g. --set max_steps=50")
    trainer.set_defaults(func=_train)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as err:
        print(f"mathxfer {args.command}: error: {err}", file=sys.stderr)
        return 2
