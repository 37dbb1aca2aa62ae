"""The study description: ``recipes/<profile>/study.yaml``, the one place a study's parameters live.

It names the base model, the arms (recipe names in ``recipes/<profile>/``), seeds and step budget, how
every model is evaluated, how the latent and token analyses read them, the controls, and for GPU profiles
the launcher. ``read_study`` checks it whole (unknown keys, wrong types, missing recipes, missing response
files) before anything trains; every error names the file and the key.

``analysis.pairs`` replaces the study's runs in the latent and token analyses by off-the-shelf (base, tuned)
pairs, e.g. the paper's Qwen3-14B-Base against its released UniReason models (Table 6). A pair's
``responses`` maps a task (a benchmark name such as ``IFEval``, or a micro family) to a JSONL file in the
authors' released schema (one ``{"input": prompt, "output": response}`` per line); a relative path is read
from the data dir (``evaluation.data_dir``, else $MATHXFER_DATA_DIR, else the offline benchmark copies),
then from the repository root. Model paths are hub ids or local directories, as ``base_model``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from mathxfer.errors import UsageError, read_yaml_mapping
from mathxfer.paths import REPO_ROOT, recipes_dir, repo_path
from mathxfer.train.recipes import STUDY_FILE, STUDY_NAMES



class StudyError(UsageError):
    """A study file (or a --set value) that cannot run; the message names the file, the key and the fix."""


@dataclass(frozen=True)
class Evaluation:
    """How the base and every run are scored."""

    kind: Literal["micro", "benchmarks"] = "micro"  # micro: the world's held-out sets; benchmarks: mathxfer.eval
    eval_n: int = 200  # micro: held-out items per group
    suite: str = "paper"  # benchmarks: a suite (paper, math, other, non) or comma-separated names
    limit: int | None = None  # benchmarks: first N items of each (None: all)
    limits: dict[str, int] = field(default_factory=dict)  # benchmarks: a benchmark's own limit instead
    max_new_tokens: int | None = None  # benchmarks: token budget (None: each spec's, the paper's 32768)
    backend: Literal["transformers", "vllm"] = "transformers"
    batch_size: int = 8
    data_dir: str | None = None  # local benchmark folder (None: $MATHXFER_DATA_DIR, else the hub)
    additions: list[str] = field(default_factory=list)  # benchmarks beyond the paper's, in their group, labelled


@dataclass(frozen=True)
class ModelPair:
    """An off-the-shelf (base, tuned) pair the latent and token analyses compare instead of the study's runs."""

    label: str  # its name in every frame and chart
    base: str  # the model it was tuned from: a hub id or a local directory
    tuned: str
    kind: Literal["RL", "SFT", "other"]
    gguf_file: str | None = None  # a GGUF file inside the tuned directory
    base_gguf_file: str | None = None  # a GGUF file inside the base directory
    responses: dict[str, str] | None = None  # task -> released JSONL (input/output); None: greedy answers


@dataclass(frozen=True)
class Analysis:
    """The latent- and token-space analyses of the study's models (or of ``pairs``)."""

    texts: Literal["micro", "benchmarks"] = "micro"  # micro families' held-out text, or the benchmarks' prompts
    benchmarks: str | None = None  # benchmarks: suite or names (None: the evaluation's suite)
    limit: int | None = None  # benchmarks: read only the first N items of each (None: all)
    n_samples: int = 100  # items per task
    seed: int = 42  # which items the latent analysis draws
    max_tokens: int = 128  # latent: tokens per text (the authors' PCA script truncates at 128)
    scored_tokens: int | None = 128  # tokens: response tokens scored per sample (None: all, as calculate_KL.py)
    response_tokens: int = 512  # benchmarks: greedy response budget of the token analysis
    layers: list[int] | None = None  # hidden_states indices (0: embeddings); None: all, as the paper
    semantics: Literal["official", "paper"] = "official"  # the authors' scripts, or the paper's text
    compare_semantics: bool = True  # also compute the other semantics (a sensitivity table)
    pooling: Literal["mean_with_pad", "masked_mean", "last"] | None = None  # None: the semantics' own
    umap: bool = True
    all_seeds: bool = True  # every seed of every arm (False: the first seed of each arm)
    pairs: list[ModelPair] = field(default_factory=list)  # empty: the study's own runs

    def __post_init__(self) -> None:  # a record's JSON holds the pairs as mappings
        if any(isinstance(p, Mapping) for p in self.pairs):
            object.__setattr__(self, "pairs", [ModelPair(**p) if isinstance(p, Mapping) else p for p in self.pairs])


@dataclass(frozen=True)
class Controls:
    learning_rate: float | None = None  # every SFT arm again at this learning rate (None: no control)


@dataclass(frozen=True)
class Sweep:
    """Beyond the paper (the sweep chapter): listed arms again at other learning rates, one point per run, and
    how far each run moved from the base on the math prompts it trained on (``mathxfer.analysis.drift``)."""

    learning_rates: dict[str, list[float]] = field(default_factory=dict)  # arm -> rates besides its recipe's
    seeds: list[int] = field(default_factory=list)  # the added points' seeds (empty: the study's)
    kl_prompts: int = 0  # math training prompts KL(base || tuned) is measured on (0: not measured)

    def __bool__(self) -> bool:
        return bool(self.learning_rates) or self.kl_prompts > 0


@dataclass(frozen=True)
class Launcher:
    """GPU profiles: each run trains through ``accelerate launch`` with this config (never a home-made one)."""

    kind: Literal["accelerate"] = "accelerate"
    config_file: str = "recipes/paper/accelerate/zero3.yaml"
    num_processes: int = 8  # processes (GPUs) per node
    num_machines: int = 1


@dataclass(frozen=True)
class StudySpec:
    profile: str
    base_model: str
    arms: list[str]
    seeds: list[int] = field(default_factory=lambda: [0])
    gguf_file: str | None = None  # a GGUF file inside base_model (SmolLM2 offline)
    steps: int | None = None  # override every recipe's max_steps (None: the recipes' own)
    workers: int = 1  # runs trained side by side, one thread each (CPU profiles)
    evaluation: Evaluation = field(default_factory=Evaluation)
    analysis: Analysis = field(default_factory=Analysis)
    controls: Controls = field(default_factory=Controls)
    sweep: Sweep = field(default_factory=Sweep)
    launcher: Launcher | None = None
    recipes: dict[str, dict[str, int | float | str | bool | None]] = field(default_factory=dict)  # arm -> fields
    budget: str | None = None  # the entry of the file's ``budgets`` applied (read_study resolves ``auto``)
    source: str = field(default="", compare=False)  # the file it was read from (not a key)

    def recipe_overrides(self, seed: int, arm: str | None = None) -> dict[str, Any]:
        """What the study sets in an arm's recipe: its base model, seed and step budget, then the study's
        own fields for that arm (``recipes``)."""
        out: dict[str, Any] = {"model_name_or_path": self.base_model, "seed": seed}
        if self.gguf_file is not None:
            out["gguf_file"] = self.gguf_file
        if self.steps is not None:
            out["max_steps"] = self.steps
        own = dict(self.recipes.get(arm, {})) if arm is not None else {}
        if self.steps is not None:  # the study-wide step override wins over an arm's own max_steps
            own.pop("max_steps", None)
        return {**out, **own}

    @property
    def base_name(self) -> str:
        """The base model as a reader names it: the weights file's model name offline
        ("SmolLM2-135M-Instruct" from its GGUF file), else the hub id's or folder's last part."""
        if self.gguf_file:
            return Path(self.gguf_file).name.split(".")[0]
        return Path(self.base_model.removeprefix("pkg:").rstrip("/")).name

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out.pop("source")
        return out

    def result_fields(self) -> dict[str, Any]:
        """Everything that changes the study's numbers (not how many workers run it, nor where it was read)."""
        out = self.as_dict()
        out.pop("workers")
        out.pop("launcher")
        if not self.sweep:  # a study without a sweep keeps the key it had before sweeps existed
            out.pop("sweep")
        return out


# ---- reading and checking ----------------------------------------------------------------------

def _type_name(tp: Any) -> str:
    if typing.get_origin(tp) is Literal:
        return " or ".join(repr(a) for a in typing.get_args(tp))
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if typing.get_origin(tp) is list:
        return f"a list of {_type_name(typing.get_args(tp)[0])}"
    if typing.get_origin(tp) is dict:
        return f"a mapping of {_type_name(typing.get_args(tp)[0])} to {_type_name(typing.get_args(tp)[1])}"
    if dataclasses.is_dataclass(tp):
        return f"a mapping of {', '.join(f.name for f in dataclasses.fields(tp))}"
    if tp is type(None):
        return "null"
    return getattr(tp, "__name__", str(tp))


def _convert(tp: Any, value: Any, key: str, source: str) -> Any:
    """``value`` checked against the annotation ``tp`` (nested specs become their dataclasses)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        for arg in (a for a in args if a is not type(None)):
            try:
                return _convert(arg, value, key, source)
            except StudyError:
                continue
        raise StudyError(f"{source}: {key} must be {_type_name(tp)}, not {value!r}")
    if origin is Literal:
        if value not in typing.get_args(tp):
            raise StudyError(f"{source}: {key} must be {_type_name(tp)}, not {value!r}")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise StudyError(f"{source}: {key} must be {_type_name(tp)}, not {type(value).__name__} {value!r}")
        return [_convert(typing.get_args(tp)[0], v, f"{key}[{i}]", source) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, Mapping):
            raise StudyError(f"{source}: {key} must be {_type_name(tp)}, not {type(value).__name__} {value!r}")
        key_type, value_type = typing.get_args(tp)
        return {_convert(key_type, k, f"{key} key {k!r}", source): _convert(value_type, v, f"{key}.{k}", source)
                for k, v in value.items()}
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, Mapping):
            raise StudyError(f"{source}: {key} must be a mapping of its settings, not {value!r}")
        return _build(tp, value, source, f"{key}.")
    ok = (isinstance(value, tp) and not (isinstance(value, bool) and tp is not bool)) or (
        tp is float and isinstance(value, int) and not isinstance(value, bool))
    if not ok:
        raise StudyError(f"{source}: {key} must be {_type_name(tp)}, not {type(value).__name__} {value!r}")
    return float(value) if tp is float else value


# keys an older study file may still hold -> what replaced them
RENAMED = {"analysis.compare_pooling": "analysis.compare_semantics (the official and paper semantics, each with "
                                       "its own pooling; analysis.pooling overrides both)"}


def _build(cls: type, raw: Mapping[str, Any], source: str, prefix: str = "") -> Any:
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.name != "source"]
    unknown = sorted(set(raw) - set(names))
    if unknown:
        renamed = "".join(f"; {prefix + k} is replaced by {RENAMED[prefix + k]}"
                          for k in unknown if prefix + k in RENAMED)
        raise StudyError(f"{source}: unknown key(s) {', '.join(prefix + k for k in unknown)}; "
                         f"the keys{' of ' + prefix.rstrip('.') if prefix else ''} are: {', '.join(names)}{renamed}")
    required = [f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING
                and f.default_factory is dataclasses.MISSING]
    missing = [k for k in required if k not in raw]
    if missing:
        raise StudyError(f"{source}: missing key(s) {', '.join(prefix + k for k in missing)}")
    return cls(**{k: _convert(hints[k], v, prefix + k, source) for k, v in raw.items()})


def _check(spec: StudySpec, source: str) -> None:
    from mathxfer.train.recipes import available_recipes

    recipes = available_recipes(spec.profile)
    if not recipes:
        raise StudyError(f"{source}: profile {spec.profile!r} has no recipes in {recipes_dir() / spec.profile}")
    missing = [a for a in spec.arms if a not in recipes]
    if missing:
        raise StudyError(f"{source}: arms: no recipe {', '.join(map(repr, missing))} in "
                         f"{recipes_dir() / spec.profile}; its recipes are: {', '.join(recipes)}")
    for key, values in (("arms", spec.arms), ("seeds", spec.seeds)):
        if not values:
            raise StudyError(f"{source}: {key} is empty; name at least one")
        if len(set(values)) != len(values):
            raise StudyError(f"{source}: {key} lists a value twice: {values}")
    for key, value in (*((f"evaluation.limits.{b}", n) for b, n in spec.evaluation.limits.items()),
                       ("steps", spec.steps), ("workers", spec.workers), ("evaluation.eval_n", spec.evaluation.eval_n),
                       ("evaluation.limit", spec.evaluation.limit), ("evaluation.batch_size", spec.evaluation.batch_size),
                       ("evaluation.max_new_tokens", spec.evaluation.max_new_tokens),
                       ("analysis.n_samples", spec.analysis.n_samples), ("analysis.max_tokens", spec.analysis.max_tokens),
                       ("analysis.scored_tokens", spec.analysis.scored_tokens),
                       ("analysis.limit", spec.analysis.limit),
                       ("analysis.response_tokens", spec.analysis.response_tokens)):
        if value is not None and value <= 0:
            raise StudyError(f"{source}: {key} must be a positive number, not {value}")
    if spec.controls.learning_rate is not None and spec.controls.learning_rate <= 0:
        raise StudyError(f"{source}: controls.learning_rate must be positive (or null to skip the control)")
    _check_sweep(spec, source)
    if spec.evaluation.kind == "benchmarks" or spec.analysis.texts == "benchmarks":
        from mathxfer.eval.specs import resolve_suite

        for key, suite in (("evaluation.suite", spec.evaluation.suite), ("analysis.benchmarks", spec.analysis.benchmarks)):
            try:
                if suite is not None:
                    resolve_suite(suite)
            except ValueError as err:
                raise StudyError(f"{source}: {key}: {err}") from None
    _check_recipes(spec, source)
    from mathxfer.groups import ADDED_BENCHMARKS, KNOWN_BENCHMARKS

    unknown = [b for b in spec.evaluation.limits if b not in KNOWN_BENCHMARKS]  # a limit of a benchmark the
    if unknown:  # study does not evaluate (a budget's, after --set evaluation.additions=[]) is simply unused
        raise StudyError(f"{source}: evaluation.limits: {', '.join(map(repr, unknown))} is not a benchmark; "
                         f"the benchmarks are: {', '.join(KNOWN_BENCHMARKS)}")
    stray = [b for b in spec.evaluation.additions if b not in ADDED_BENCHMARKS]
    if stray or (spec.evaluation.additions and spec.evaluation.kind != "benchmarks"):
        raise StudyError(f"{source}: evaluation.additions: {', '.join(map(repr, stray)) or 'additions'} "
                         f"{'is not an added benchmark' if stray else 'need evaluation.kind: benchmarks'}; "
                         f"the additions are: {', '.join(ADDED_BENCHMARKS)}")
    if spec.launcher is not None and not repo_path(spec.launcher.config_file).is_file():
        raise StudyError(f"{source}: launcher.config_file {spec.launcher.config_file!r} does not exist")
    _check_pairs(spec, source)


def _check_sweep(spec: StudySpec, source: str) -> None:
    sweep = spec.sweep
    stray = [a for a in sweep.learning_rates if a not in spec.arms]
    if stray:
        raise StudyError(f"{source}: sweep.learning_rates: {', '.join(map(repr, stray))} is not an arm of the study "
                         f"(arms: {', '.join(spec.arms)}); name an arm, or remove the entry")
    for arm, rates in sweep.learning_rates.items():
        if not rates or any(r <= 0 for r in rates) or len(set(rates)) != len(rates):
            raise StudyError(f"{source}: sweep.learning_rates.{arm} must list distinct positive learning rates, "
                             f"not {rates}")
    if len(set(sweep.seeds)) != len(sweep.seeds):
        raise StudyError(f"{source}: sweep.seeds lists a value twice: {sweep.seeds}")
    if sweep.kl_prompts < 0:
        raise StudyError(f"{source}: sweep.kl_prompts must be 0 (no KL) or a positive number, not {sweep.kl_prompts}")
    if sweep.kl_prompts and spec.evaluation.kind != "micro":
        raise StudyError(f"{source}: sweep.kl_prompts: the KL on the training prompts is measured on the micro "
                         "world only (its math prompts); set it to 0 for a benchmark study")


def _check_recipes(spec: StudySpec, source: str) -> None:
    """Each ``recipes`` entry names an arm of the study, and every arm's recipe with the study's fields is one
    TRL accepts the types and ranges of (``mathxfer.train.recipes.recipe_fields``)."""
    from mathxfer.train.recipes import RecipeError, read_recipe, recipe_path

    stray = [a for a in spec.recipes if a not in spec.arms]
    if stray:
        raise StudyError(f"{source}: recipes: {', '.join(map(repr, stray))} is not an arm of the study "
                         f"(arms: {', '.join(spec.arms)}); name an arm, or remove the entry")
    for arm in spec.arms:
        try:
            read_recipe(recipe_path(spec.profile, arm), spec.recipe_overrides(min(spec.seeds), arm))
        except RecipeError as err:
            raise StudyError(f"{source}: recipes.{arm} (with the study's base, seed and steps): {err}") from None


def data_root(data_dir: str | None) -> Path:
    """Where a relative responses path is read first: the data dir, else the offline benchmark copies."""
    from mathxfer.eval.data import default_data_dir
    from mathxfer.eval.testdata import benchmarks_dir

    return default_data_dir(data_dir) or benchmarks_dir()


def responses_path(path: str, data_dir: str | None) -> Path:
    """A pair's responses file: absolute, else under the data dir, else under the repository root."""
    given = Path(path).expanduser()
    if given.is_absolute():
        return given
    in_data = data_root(data_dir) / given
    return in_data if in_data.is_file() or not repo_path(given).is_file() else repo_path(given)


def read_responses(path: Path, n: int) -> tuple[list[str], list[str]]:
    """The first ``n`` (prompt, response) pairs of a released responses file (``mathxfer.analysis.inputs``, the
    reader ``mathxfer analyze tokens --responses`` uses), or StudyError naming the file and line."""
    from mathxfer.analysis.inputs import read_responses as read

    try:
        prompts, responses = read(path, n)
    except UsageError as err:
        raise StudyError(str(err)) from None
    return prompts, responses


def analysis_tasks(texts: str) -> tuple[str, ...]:
    """The task names a responses mapping may use: the paper's benchmarks, or the micro families."""
    if texts == "micro":
        from mathxfer.micro.world import FAMILIES

        return tuple(FAMILIES)
    from mathxfer.groups import BENCHMARKS

    return BENCHMARKS


def _check_pairs(spec: StudySpec, source: str) -> None:
    """Labels unique and not the base's, each responses task known and its file readable."""
    pairs, analysis = spec.analysis.pairs, spec.analysis
    labels = [p.label for p in pairs]
    if len(set(labels)) != len(labels):
        raise StudyError(f"{source}: analysis.pairs lists a label twice: {labels}")
    tasks = analysis_tasks(analysis.texts) if any(p.responses for p in pairs) else ()
    for i, pair in enumerate(pairs):
        key = f"analysis.pairs[{i}]"
        if not pair.label.strip() or pair.label == "base":
            raise StudyError(f"{source}: {key}.label {pair.label!r} cannot name a tuned model; pick another label")
        for task, file in (pair.responses or {}).items():
            if task not in tasks:
                raise StudyError(f"{source}: {key}.responses.{task}: not a task of analysis.texts "
                                 f"{analysis.texts!r}; the tasks are: {', '.join(tasks)}")
            path = responses_path(file, spec.evaluation.data_dir)
            if not path.is_file():
                raise StudyError(f"{source}: {key}.responses.{task}: no such file {file!r} (looked in "
                                 f"{data_root(spec.evaluation.data_dir)} and {REPO_ROOT}); give an absolute "
                                 "path or one relative to the data dir")
            try:
                read_responses(path, analysis.n_samples)
            except StudyError as err:
                raise StudyError(f"{source}: {key}.responses.{task}: {err}") from None


def study_path(profile: str, name: str = "study") -> Path:
    """``recipes/<profile>/<name>.yaml``: the profile's main study, or another of ``STUDY_NAMES``."""
    if name not in STUDY_NAMES:
        raise StudyError(f"unknown study {name!r}; a profile's studies are: {', '.join(STUDY_NAMES)}")
    return recipes_dir() / profile / f"{name}.yaml"


def parse_set(items: Sequence[str]) -> dict[str, Any]:
    """``KEY=VALUE`` items (VALUE read as YAML; KEY may be dotted, e.g. ``evaluation.eval_n=20``)."""
    out: dict[str, Any] = {}
    for text in items:
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            raise StudyError(f"--set {text!r} is not KEY=VALUE (e.g. --set seeds=[0] --set evaluation.eval_n=20)")
        try:
            out[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError as err:
            raise StudyError(f"--set {key}: cannot read value {value!r} ({err})") from err
    return out


def _apply(raw: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    raw = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in raw.items()}
    for dotted, value in overrides.items():
        head, _, tail = dotted.partition(".")
        if tail:
            section = raw.setdefault(head, {})
            if not isinstance(section, dict):
                raise StudyError(f"--set {dotted}: {head} is not a section of the study")
            section[tail] = value
        else:
            raw[head] = value
    return raw


BUDGET_AUTO = "auto"  # the budget named gpu where a CUDA device is present, else the one named cpu


def _merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``extra`` over ``base``, section by section (a budget sets some keys of a section, not all of it)."""
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merge(out[key], value) if isinstance(value, Mapping) and isinstance(out.get(key), Mapping) \
            else value
    return out


def _with_budget(raw: dict[str, Any], budget: Any, source: str) -> dict[str, Any]:
    """The study with its chosen budget's settings applied: ``budgets`` maps a name (cpu, gpu, ...) to the
    keys it changes; ``budget`` picks one (``auto``: gpu where torch sees a CUDA device, else cpu)."""
    budgets = raw.pop("budgets", None)
    if budgets is None:  # a study without budgets (a record's own copy: the budget it ran, already applied)
        return {**raw, "budget": None if budget == BUDGET_AUTO else budget}
    if not isinstance(budgets, Mapping) or not all(isinstance(v, Mapping) for v in budgets.values()) or not budgets:
        raise StudyError(f"{source}: budgets must map a budget name to the study keys it sets, e.g. "
                         "budgets: {cpu: {seeds: [0]}, gpu: {seeds: [0, 1, 2]}}")
    if budget in (None, BUDGET_AUTO):
        import torch

        budget = "gpu" if torch.cuda.is_available() else "cpu"
        if budget not in budgets:
            raise StudyError(f"{source}: budget auto chose {budget!r} (CUDA {'present' if budget == 'gpu' else 'absent'}) "
                             f"but budgets has only {', '.join(budgets)}; add it, or --set budget=NAME")
    if budget not in budgets:
        raise StudyError(f"{source}: budget {budget!r} is not one of its budgets: {', '.join(budgets)} (or auto)")
    unknown = sorted(set(budgets[budget]) & {"budget", "budgets"})
    if unknown:
        raise StudyError(f"{source}: budgets.{budget} cannot set {', '.join(unknown)}")
    return {**_merge(raw, budgets[budget]), "budget": budget}


def read_study(path: str | Path | None = None, profile: str | None = None,
               overrides: Mapping[str, Any] | None = None, name: str = "study") -> StudySpec:
    """The study of ``path`` (a user copy) or of ``profile`` (``recipes/<profile>/<name>.yaml``), checked."""
    if path is None:
        if profile is None:
            raise StudyError("name a study: --profile P or --study FILE")
        path = study_path(profile, name)
    path = repo_path(path)
    source = str(path)
    raw = read_yaml_mapping(path, StudyError, f"no such study file; copy recipes/<profile>/{STUDY_FILE} and pass it "
                            "with --study", "a study file is a mapping of key: value")
    overrides = dict(overrides or {})
    raw = _with_budget(raw, overrides.pop("budget", raw.get("budget")), source)
    raw = _apply(raw, overrides)
    if profile is not None and raw.get("profile", profile) != profile:
        raise StudyError(f"{source}: its profile is {raw.get('profile')!r}, not {profile!r}")
    spec = dataclasses.replace(_build(StudySpec, raw, source), source=source)
    _check(spec, source)
    return spec


def profile_studies(profile: str, overrides: Mapping[str, Any] | None = None) -> dict[str, StudySpec]:
    """Every study file of ``profile`` by name (``STUDY_NAMES``: its main study always, the others where the
    profile has one), each read with the same ``overrides``."""
    return {name: read_study(profile=profile, overrides=overrides, name=name) for name in STUDY_NAMES
            if name == "study" or study_path(profile, name).is_file()}
