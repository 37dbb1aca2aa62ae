"""The `mathxfer` command.

    mathxfer study [--profile P | --study FILE] [--set KEY=VALUE] [--arm A] [--seed S] [--dry-run]
                   [--emit-slurm DIR] [--results DIR]
    mathxfer book [--profile micro|smol|paper] [--study FILE] [--only CHAPTER ...] [-p KEY=VALUE ...] [--results DIR]
    mathxfer check-links [DIR | --profile P]
    mathxfer survey ti [--reading pooled|literal|v1] [--scores FILE] [--extra FILE ...]
    mathxfer analyze latent --base B --tuned T [T2 ...] (--benchmarks NAMES | --texts FILE) [--semantics S] [--format F]
    mathxfer analyze tokens --base B --tuned T (--responses FILE | --benchmarks NAMES) [--semantics S] [--format F]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import yaml

from mathxfer.analysis.commands import add_commands as add_analyze_commands
from mathxfer.book.chapters import CHAPTERS, DEFAULT_PROFILE, PROFILES
from mathxfer.errors import UsageError
from mathxfer.eval.cli import add_commands as add_eval_commands


def parse_parameter(text: str) -> tuple[str, Any]:
    """KEY=VALUE with VALUE read as YAML, so numbers, booleans and lists keep their types."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"parameter {text!r} is not KEY=VALUE (e.g. -p ti_reading=literal)")
    try:
        return key.strip(), yaml.safe_load(value)
    except yaml.YAMLError as err:
        raise UsageError(f"parameter {key}: cannot read value {value!r} ({err})") from err


def _study_spec(args: argparse.Namespace) -> Any:
    from mathxfer.paths import use_results_dir
    from mathxfer.study import parse_set, read_study

    if args.results:  # before anything reads the store: every run folder and record is found under it
        use_results_dir(args.results)
    if args.study and args.profile:
        raise UsageError("pass --profile or --study, not both (a study file names its own profile)")
    return read_study(args.study, None if args.study else (args.profile or DEFAULT_PROFILE), parse_set(args.set))


def _study(args: argparse.Namespace) -> int:
    from mathxfer.study.plan import plan_study
    from mathxfer.study.run import describe_plan, run_study

    spec = _study_spec(args)
    for arm in args.arm:
        if arm not in spec.arms:
            raise UsageError(f"--arm {arm!r} is not an arm of {spec.source}; its arms are: {', '.join(spec.arms)}")
    for seed in args.seed:
        if seed not in spec.seeds:
            raise UsageError(f"--seed {seed} is not a seed of {spec.source}; its seeds are: {spec.seeds}")
    if args.emit_slurm:
        return _emit_slurm(spec, args)
    if args.dry_run:
        runs = [r for r in plan_study(spec) if (not args.arm or r.arm in args.arm)
                and (not args.seed or r.seed in args.seed)]
        describe_plan(spec, runs, sys.stdout)
        return 0
    record = run_study(spec, arms=args.arm or None, seeds=args.seed or None)
    if record is not None:
        print(record.path)
    return 0


def _emit_slurm(spec: Any, args: argparse.Namespace) -> int:
    from mathxfer.study.slurm import emit_slurm

    if args.arm or args.seed or args.dry_run:
        raise UsageError("--emit-slurm writes every run's script and trains nothing; drop --arm, --seed and --dry-run")
    emitted = emit_slurm(spec, args.emit_slurm)
    for run, path in emitted.runs:
        print(f"{path}\t{run.label}")
    print(f"{emitted.record}\tevaluation and study record {emitted.key}")
    print(f"submit them all: bash {emitted.submit}  (see {emitted.index})")
    return 0


def _book(args: argparse.Namespace) -> int:
    from mathxfer.book.build import build_book

    from mathxfer.study import parse_set
    from mathxfer.study.spec import profile_studies

    params = dict(parse_parameter(p) for p in args.param)
    spec = _study_spec(args)
    # a study file of one's own stands for the main study; a profile brings all its study files, each --set
    studies = {"study": spec} if args.study else profile_studies(spec.profile, parse_set(args.set))
    try:
        result = build_book(profile=spec.profile, only=args.only, parameters=params, studies=studies,
                            progress=not args.quiet)
    except UsageError:
        raise
    except ValueError as err:
        raise UsageError(str(err)) from err
    return 0 if result.ok else 1


def _check_links(args: argparse.Namespace) -> int:
    from mathxfer.book.build import html_dir
    from mathxfer.book.links import check_links
    from mathxfer.paths import REPO_ROOT

    if args.dir and args.profile:
        raise UsageError("pass DIR or --profile, not both")
    folder = args.dir or html_dir(REPO_ROOT, args.profile or DEFAULT_PROFILE)
    try:
        broken = check_links(folder)
    except FileNotFoundError as err:
        raise UsageError(str(err)) from err
    for link in broken:
        print(link)
    if broken:
        print(f"mathxfer check-links: {len(broken)} broken link(s) in {folder}", file=sys.stderr)
        return 1
    print(f"mathxfer check-links: every internal link in {folder} resolves")
    return 0


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


RESULTS_HELP = ("the results store (default results/, or $MATHXFER_RESULTS): e.g. a folder of runs copied back "
                "from a cluster; runs are found by their keyed folder names")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mathxfer", description="Does math reasoning transfer? "
                                     "An executable reproduction of arXiv 2507.00432.")
    sub = parser.add_subparsers(dest="command", required=True)

    book = sub.add_parser("book", help="execute the chapter notebooks and build the HTML book into _build/html")
    book.add_argument("--profile", choices=PROFILES, help=f"default {DEFAULT_PROFILE}")
    book.add_argument("--study", metavar="FILE", help="a study file (a copy of recipes/<profile>/study.yaml)")
    book.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                      help="override a study key for this build (VALUE is YAML), e.g. --set seeds=[0]")
    book.add_argument("--only", action="append", metavar="CHAPTER",
                      help=f"build only this chapter (repeatable): {', '.join(c.name for c in CHAPTERS)}")
    book.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE",
                      help="override a chapter parameter; VALUE is YAML (e.g. -p extra_results='[a.json]')")
    book.add_argument("--quiet", action="store_true", help="no per-cell progress bars")
    book.add_argument("--results", metavar="DIR", help=RESULTS_HELP)
    book.set_defaults(func=_book)

    links = sub.add_parser("check-links", help="check every internal link and #fragment of a built book "
                           "offline (what `make publish` runs before deploying); exits 1 on any broken one")
    links.add_argument("dir", nargs="?", metavar="DIR", help="a built HTML folder (default: the default "
                       "profile's book, _build/html)")
    links.add_argument("--profile", choices=PROFILES, help="check this profile's built book instead")
    links.set_defaults(func=_check_links)

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
    add_analyze_commands(sub)

    study = sub.add_parser("study", help="train every arm and seed of a study, evaluate and analyse them, and "
                           "write its record (finished runs are reused, interrupted ones resumed)")
    study.add_argument("--profile", choices=PROFILES, help=f"the profile's recipes/<profile>/study.yaml "
                       f"(default {DEFAULT_PROFILE})")
    study.add_argument("--study", metavar="FILE", help="a study file (a copy of recipes/<profile>/study.yaml)")
    study.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override a study key (VALUE is YAML; dotted for sections), e.g. --set seeds=[0] "
                       "--set evaluation.eval_n=50")
    study.add_argument("--arm", action="append", default=[], help="train only this arm now (repeatable)")
    study.add_argument("--seed", action="append", default=[], type=int, help="train only this seed now (repeatable)")
    study.add_argument("--dry-run", action="store_true", help="print the plan: each run's resolved TRL config, "
                       "whether it is reused, and the launch command; trains nothing")
    study.add_argument("--emit-slurm", metavar="DIR", help="write a SLURM batch script per run (multi-node "
                       "accelerate launch), one for the evaluation and record step, and submit_all.sh into DIR; "
                       "trains nothing (launcher profiles, e.g. paper)")
    study.add_argument("--results", metavar="DIR", help=RESULTS_HELP)
    study.set_defaults(func=_study)

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
    except UsageError as err:  # StudyError and RecipeError-derived messages included
        print(f"mathxfer {args.command}: error: {err}", file=sys.stderr)
        return 2
