"""`mathxfer analyze latent|tokens`: the paper's latent shift d* and token-level KL / rank shift for any
(base, tuned) model pair, registered on the main parser by ``add_commands``.

Models are hub ids, model directories or ``.gguf`` files (``mathxfer.models`` loads them all); the base's
tokenizer serves both models, as in the paper. Every input is checked before any model loads, and every
expensive step is cached by the library it calls (``hidden.extract_hidden``, ``tokens.score_responses``,
``token_analysis.generate_responses``), so a second run with the same inputs reads from disk and loads no model.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mathxfer.analysis.inputs import check_layers, parse_layers, read_responses, read_texts
from mathxfer.analysis.semantics_names import SEMANTICS, Semantics
from mathxfer.errors import UsageError

if TYPE_CHECKING:  # the heavy modules (torch, transformers, scikit-learn) load when a command runs, not on --help
    from mathxfer.analysis.latent import Sign
    from mathxfer.analysis.refs import ModelRef

SEMANTICS_HELP = ("official (default): the authors' released scripts exactly (a mean over pads too, one padded "
                  "batch per task; prompt+response tokenized as one string; 1e-10 smoothing); paper: the paper's "
                  "text (a mean over real tokens; every response token scored; no smoothing)")
SIGN_HELP = ("PCA component signs: loadings (default; scikit-learn >= 1.5: largest loading positive) or scores "
             "(scikit-learn < 1.5: largest projection score positive); d* depends on it")
MIN_TEXTS = 3  # per task: two centred texts span one direction, so PC2 would be arbitrary


@dataclass(frozen=True)
class Report:
    """What a command prints: the settings and one row per (tuned model, task)."""

    semantics: Semantics
    sign: Sign | None  # the latent analysis's PCA sign convention (None for tokens)
    base: str
    models: list[str]
    results: list[dict[str, Any]]

    def to_json(self) -> str:
        return json.dumps(_finite(asdict(self)), indent=2)

    def to_table(self, title: str) -> str:
        import pandas as pd

        frame = pd.DataFrame(self.results)
        if "layers" in frame:
            frame["layers"] = frame["layers"].map(lambda ls: ",".join(map(str, ls)))
        return f"# {title}\n{frame.to_string(index=False, float_format=lambda x: f'{x:.6g}')}"


def _finite(value: Any) -> Any:
    """NaN (no scored token) as JSON null: strict JSON has no NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


# ---- checks that run before any model loads ----------------------------------------------------

def model_ref(text: str, option: str, kind: str) -> ModelRef:
    """A model named on the command line, or a UsageError naming the option (a missing path, a folder
    that is not a saved model). A hub id is checked when its tokenizer loads, still before any weights."""
    from mathxfer.analysis.refs import ModelRef
    from mathxfer.models import ModelNotFoundError

    ref = ModelRef(label=text, path=text, arm=text if kind != "base" else "base", kind=kind)
    try:
        ref.identity()  # resolves the path as load_model will, and hashes the files the cache keys hold
    except (ModelNotFoundError, ValueError) as err:
        raise UsageError(f"{option} {text}: {err}") from None
    return ref


def tokenizer_of(ref: ModelRef) -> Any:
    """The model's tokenizer, or a UsageError naming it (a hub id not reachable from here)."""
    from mathxfer.models import ModelNotFoundError, load_tokenizer

    try:
        return load_tokenizer(ref.path, gguf_file=ref.gguf_file)
    except (ModelNotFoundError, OSError, ValueError) as err:
        raise UsageError(f"{ref.path}: cannot load its tokenizer ({str(err).splitlines()[0]})") from None


def hidden_state_count(ref: ModelRef) -> int | None:
    """Embeddings + layers, read from config.json or the GGUF header without loading weights;
    None for a hub model whose config cannot be read here (its load then fails with the reason)."""
    from mathxfer.paths import repo_path

    path = repo_path(ref.path)
    if path.is_file():
        from gguf import GGUFReader

        fields = GGUFReader(path).fields
        architecture = fields["general.architecture"].contents()
        return int(fields[f"{architecture}.block_count"].contents()) + 1
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(str(path) if path.is_dir() else ref.path, local_files_only=path.is_dir())
    except OSError:
        return None
    return int(config.get_text_config().num_hidden_layers) + 1


def benchmark_names(text: str) -> tuple[str, ...]:
    from mathxfer.eval.specs import resolve_suite

    try:
        return resolve_suite(text)
    except ValueError as err:
        raise UsageError(f"--benchmarks {text}: {err}") from None


def _benchmark_texts(args: argparse.Namespace, seed: int, kind: Literal["latent", "prompts"]) -> dict[str, list[str]]:
    """``kind``: "latent" (the rows as the PCA-shift script joins them), or "prompts" (the first N prompts,
    as the token script answers them)."""
    from mathxfer.analysis.texts import benchmark_prompts, benchmark_texts
    from mathxfer.eval.data import BenchmarkMissing

    names = benchmark_names(args.benchmarks)
    try:
        if kind == "latent":
            return benchmark_texts(names, args.n, seed, args.data_dir, args.limit)
        return benchmark_prompts(names, args.n, seed, args.data_dir, args.limit, first=True)
    except (BenchmarkMissing, ValueError, KeyError) as err:
        raise UsageError(f"--benchmarks {args.benchmarks}: {str(err).splitlines()[0]}") from None


def _one_input(args: argparse.Namespace, option: str, holds: str) -> None:
    """Exactly one of the file option and --benchmarks."""
    given = getattr(args, option.lstrip("-")) is not None, args.benchmarks is not None
    if given[0] == given[1]:
        raise UsageError(f"give {option} FILE.jsonl ({holds} per line) or --benchmarks NAMES, "
                         f"{'not both' if all(given) else 'one of them'}")


def _check_positive(args: argparse.Namespace, options: Sequence[str]) -> None:
    for option in options:
        value = getattr(args, option.lstrip("-").replace("-", "_"))
        if value is not None and value < 1:
            raise UsageError(f"{option} {value}: give a positive number")


# ---- the analyses ------------------------------------------------------------------------------

def latent_report(base: ModelRef, tuned: Sequence[ModelRef], texts: Mapping[str, Sequence[str]],
                  semantics: Semantics, sign: Sign, *, layers: tuple[int, ...] | None = None,
                  max_tokens: int = 128, pooling: str | None = None) -> Report:
    """d* of each tuned model against the base on each task's texts (hidden states cached per model and task)."""
    from mathxfer.analysis.latent import pca_shift
    from mathxfer.analysis.latent_analysis import hidden_by_task
    from mathxfer.analysis.semantics import hidden_config

    config = hidden_config(semantics, layers=layers, max_tokens=max_tokens, pooling=pooling)
    tokenizer = tokenizer_of(base)
    for task, items in texts.items():
        if len({tuple(tokenizer(t, truncation=True, max_length=max_tokens)["input_ids"]) for t in items}) < 2:
            raise UsageError(f"{task}: its {len(items)} texts are identical in their first {max_tokens} tokens "
                             "(a shared prompt template?), so the base features do not vary and d* is undefined. "
                             "Fix: raise --max-tokens or give texts that differ")
    base_states = hidden_by_task(base, tokenizer, texts, config)
    rows = []
    for ref in tuned:
        for task, states in hidden_by_task(ref, tokenizer, texts, config).items():
            shift = pca_shift(base_states[task].features, states.features, states.layers, sign=sign)
            rows.append({"tuned": ref.label, "task": task, "d_star": shift.d_star, "n_texts": len(texts[task]),
                         "layers": list(states.layers)})
    return Report(semantics, sign, base.label, [m.label for m in tuned], rows)


def pair_tokenizers(base: ModelRef, tuned: ModelRef) -> tuple[Any, Any]:
    """(base tokenizer, tuned tokenizer), or a UsageError when their vocabularies differ: token-level
    comparisons need one vocabulary. Checked before any model loads."""
    from mathxfer.analysis.tokens import check_same_tokenizer

    base_tokenizer = tokenizer_of(base)
    tuned_tokenizer = base_tokenizer if tuned.path == base.path else tokenizer_of(tuned)
    try:
        check_same_tokenizer(tuned_tokenizer, base_tokenizer)
    except ValueError as err:
        raise UsageError(f"--tuned {tuned.label} against --base {base.label}: {err}") from None
    return base_tokenizer, tuned_tokenizer


def tokens_report(base: ModelRef, tuned: ModelRef, tokenizers: tuple[Any, Any],
                  samples: Mapping[str, tuple[list[str], list[str]]], semantics: Semantics, *,
                  max_response_tokens: int | None = None) -> Report:
    """KL and rank shift of the tuned model's responses (prompts, responses per task), scored by both models;
    ``tokenizers`` from ``pair_tokenizers`` (the base's encodes for both)."""
    from mathxfer.analysis.refs import loader
    from mathxfer.analysis.token_analysis import TokenConfig
    from mathxfer.analysis.tokens import score_responses, summarize

    base_tokenizer, tuned_tokenizer = tokenizers
    # the study's rule: official tokenizes the joint string with its specials, as vLLM; paper the prompt as
    # given (already the full rendered prompt)
    config = TokenConfig(max_tokens=max_response_tokens, semantics=semantics).score()
    rows = []
    for task, (prompts, responses) in samples.items():
        scores = score_responses(loader(tuned), loader(base), tuned_tokenizer, base_tokenizer, prompts, responses,
                                 config=config, cache_ids=(tuned.identity(), base.identity()))
        summary = summarize(scores, semantics)
        rows.append({"tuned": tuned.label, "task": task, "n_samples": summary["n_samples"],
                     "n_tokens": summary["n_tokens"], "kl_sampled": summary["kl_sampled"],
                     "kl_exact": summary["kl_full"], "rank_shift": summary["rank_shift"]})
    return Report(semantics, None, base.label, [tuned.label], rows)


# ---- the commands ------------------------------------------------------------------------------

def _print(report: Report, fmt: str, title: str) -> None:
    print(report.to_json() if fmt == "json" else report.to_table(title))


def _latent(args: argparse.Namespace) -> int:
    _check_positive(args, ["--n", "--limit", "--max-tokens"])
    _one_input(args, "--texts", 'one {"text": ...}')
    layers = parse_layers(args.layers) if args.layers is not None else None
    if args.texts is not None:
        texts = {Path(args.texts).stem: read_texts(args.texts, args.n)}
    else:
        texts = _benchmark_texts(args, args.seed, "latent")
    for task, items in texts.items():
        if len(items) < MIN_TEXTS:
            raise UsageError(f"{task}: {len(items)} text(s); d* fits a 2-component PCA per layer, which needs at "
                             f"least {MIN_TEXTS} (with 2 the second component is undetermined): raise --n or "
                             "--limit, or add lines")
    base = model_ref(args.base, "--base", "base")
    tuned = [model_ref(t, "--tuned", "tuned") for t in args.tuned]
    if layers is not None:
        for ref in {r.path: r for r in (base, *tuned)}.values():  # each distinct model once
            n_states = hidden_state_count(ref)
            if n_states is not None:
                check_layers(layers, n_states, ref.label)
    report = latent_report(base, tuned, texts, args.semantics, args.sign, layers=layers,
                           max_tokens=args.max_tokens, pooling=args.pooling)
    _print(report, args.format, f"d* ({args.semantics} semantics, {args.sign} signs) against {base.label}")
    return 0


def _tokens(args: argparse.Namespace) -> int:
    _check_positive(args, ["--n", "--limit", "--max-tokens", "--response-tokens"])
    _one_input(args, "--responses", 'one {"input": ..., "output": ...}')
    given = ({Path(args.responses).stem: read_responses(args.responses, args.n)}
             if args.responses is not None else None)
    prompts = _benchmark_texts(args, 0, "prompts") if given is None else {}  # the first N, as the script
    base, tuned = model_ref(args.base, "--base", "base"), model_ref(args.tuned, "--tuned", "tuned")
    tokenizers = pair_tokenizers(base, tuned)
    samples = given
    if samples is None:  # the tuned model's greedy answers, chat-rendered (cached), as the study's chapters
        from mathxfer.analysis.token_analysis import generated_samples

        samples = generated_samples(tuned, prompts, args.response_tokens)
    report = tokens_report(base, tuned, tokenizers, samples, args.semantics, max_response_tokens=args.max_tokens)
    _print(report, args.format, f"token shift ({args.semantics} semantics) of {tuned.label} against {base.label}")
    return 0


def _common(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--base", required=True, metavar="MODEL",
                        help="the base model: a hub id, a model directory or a .gguf file (its tokenizer serves both)")
    parser.add_argument("--benchmarks", metavar="NAMES", help=f"a suite (paper, math, other, non) or comma-separated "
                        f"benchmark names: {what}")
    parser.add_argument("--semantics", choices=SEMANTICS, default="official", help=SEMANTICS_HELP)
    parser.add_argument("--n", type=int, default=100, help="texts / responses per task (default 100, as the "
                        "official scripts)")
    parser.add_argument("--data-dir", metavar="DIR", help="local benchmark folder (default $MATHXFER_DATA_DIR, "
                        "else the Hugging Face hub)")
    parser.add_argument("--limit", type=int, metavar="N", help="read only the first N items of each benchmark")
    parser.add_argument("--format", choices=("table", "json"), default="table",
                        help="an aligned table (default) or one JSON object {semantics, sign, base, models, results}")


def add_commands(subparsers: Any) -> None:
    analyze = subparsers.add_parser("analyze", help="the latent (d*) or token (KL, rank shift) analysis of any "
                                    "base/tuned model pair")
    sub = analyze.add_subparsers(dest="analyze_command", required=True)

    latent = sub.add_parser("latent", help="d*: how far each tuned model's hidden states moved from the base's "
                            "(the paper's PCA shift), per task")
    _common(latent, "each benchmark's rows joined as the authors' script does (MATH500: problem + solution + "
            "answer; GPQA: question, options and explanation; IFEval: the prompt)")
    latent.add_argument("--tuned", required=True, nargs="+", metavar="MODEL", help="one or more tuned models")
    latent.add_argument("--texts", metavar="FILE", help='JSON Lines, one {"text": ...} per line: the first --n '
                        "are the task (named after the file)")
    latent.add_argument("--layers", metavar="I,J,...", help="hidden_states indices (0 = embeddings, -1 = last); "
                        "default every layer, as the paper")
    latent.add_argument("--pooling", choices=("mean_with_pad", "masked_mean", "last"),
                        help="override the semantics' pooling (official: mean_with_pad, paper: masked_mean)")
    latent.add_argument("--sign", choices=("loadings", "scores"), default="loadings", help=SIGN_HELP)
    latent.add_argument("--seed", type=int, default=42, help="--benchmarks: which --n items are drawn (default 42)")
    latent.add_argument("--max-tokens", type=int, default=128, help="tokens per text (default 128, as the script)")
    latent.set_defaults(func=_latent)

    tokens = sub.add_parser("tokens", help="KL and rank shift of the tuned model's own responses, scored by it "
                            "and by the base")
    _common(tokens, "the tuned model answers the first --n prompts greedily (cached)")
    tokens.add_argument("--tuned", required=True, metavar="MODEL", help="the tuned model (same vocabulary as the base)")
    tokens.add_argument("--responses", metavar="FILE", help='JSON Lines, one {"input": prompt, "output": response} '
                        "per line (the authors' released schema): the tuned model's responses")
    tokens.add_argument("--max-tokens", type=int, metavar="N", help="score the first N tokens of each response "
                        "(default all)")
    tokens.add_argument("--response-tokens", type=int, default=512, metavar="N",
                        help="--benchmarks: the greedy answers' token budget (default 512)")
    tokens.set_defaults(func=_tokens)

