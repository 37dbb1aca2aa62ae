"""The report of a smol study run (benchmarks/gpu_smol.sh prints it on the GPU host; any record works, a CPU one too).

    .venv/bin/python benchmarks/gpu_smol_report.py RECORD.json [--results STORE] [--peak-tflops 989]
    .venv/bin/python benchmarks/gpu_smol_report.py STORE          # no record (a study cut short): what is there

From the study record (``mathxfer.study.record.read_record``) and each run's TRL log (``metrics.jsonl``, the
trainer's log_history): SFT tokens per second (TRL's ``num_tokens``, every token of every sequence, over
``train_runtime``) and MFU (6 x parameters x tokens/s over the peak; parameters counted from the run's safetensors,
embeddings included, attention FLOPs left out), GRPO's mean step time and completion tokens per second (a step
is generation plus update, so that is a lower bound on the generation speed), each evaluation's generated tokens
per second (its records' ``num_tokens`` over the span from its run.json to its last record: that span also holds
the log-likelihood benchmarks and the grading, so again a lower bound), and the accuracy (%) of the base and
every run per benchmark and per group. The peak defaults to the H200's dense bf16 989 TFLOP/s (spec sheet).

Given a results store instead, it reports the finished runs there and, from the trainer logs in ``logs/`` (the
dicts TRL prints at each logging step), the runs that were cut short.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mathxfer.errors import read_json_lines
from mathxfer.groups import GROUP_LABELS
from mathxfer.paths import use_results_dir

if TYPE_CHECKING:
    from mathxfer.study.record import StudyRecord

H200_BF16_DENSE = 989e12
FIX = "rerun the study that wrote it"
Rows = list[dict[str, Any]]


def n_params(model_dir: Path) -> int | None:
    """Parameters in a model folder's safetensors files (read from their headers; tied weights once)."""
    total = 0
    for path in sorted(model_dir.glob("*.safetensors")):
        with open(path, "rb") as handle:
            header = json.loads(handle.read(int.from_bytes(handle.read(8), "little")))
        total += sum(math.prod(t["shape"]) for name, t in header.items() if name != "__metadata__")
    return total or None


def _last(rows: Rows, key: str) -> Any:
    return next((r[key] for r in reversed(rows) if key in r), None)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def training_lines(label: str, method: str, rows: Rows, model_dir: Path, recipe: dict[str, Any],
                   peak: float) -> list[str]:
    """A run's speed from its logged rows: SFT tokens/s and MFU; GRPO step time and completion tokens/s."""
    if not rows:
        return [f"{label} ({method}): nothing logged"]
    runtime, steps, tokens = _last(rows, "train_runtime"), _last(rows, "step"), _last(rows, "num_tokens")
    lines = [f"{label} ({method}): " + (f"{steps} steps" if steps else f"{len(rows)} logged intervals")
             + (f" in {runtime:.1f} s (train_runtime)" if runtime else ", not finished (no train_runtime)")]
    if method == "grpo":
        times = [r["step_time"] for r in rows if "step_time" in r]
        length = _mean([r["completions/mean_length"] for r in rows if "completions/mean_length" in r])
        step = _mean(times)
        if step:
            later = _mean(times[1:])
            lines.append(f"  mean step time {step:.3f} s over {len(times)} logging intervals"
                         + (f" ({later:.3f} s after the first)" if later else ""))
        # completions per optimiser step: TRL's batch counts completions (prompts x num_generations), one process
        per_step = (int(recipe.get("per_device_train_batch_size") or 0)
                    * int(recipe.get("gradient_accumulation_steps") or 1))
        if step and length and per_step:
            lines.append(f"  {per_step} completions per step x {length:.1f} tokens = {per_step * length:,.0f} "
                         f"tokens: {per_step * length / step:,.0f} completion tokens/s (whole step: a lower bound "
                         "on generation)")
        elif length:
            lines.append(f"  mean completion length {length:.1f} tokens (completions per step unknown: no recipe)")
        if tokens and runtime:
            lines.append(f"  {tokens:,.0f} tokens processed (prompts + completions, TRL num_tokens): "
                         f"{tokens / runtime:,.0f} tokens/s")
    elif tokens and runtime:
        params, rate = n_params(model_dir), tokens / runtime
        mfu = (f"MFU {6 * params * rate / peak:.2%} (6 x {params / 1e6:.1f}M params x tokens/s / "
               f"{peak / 1e12:.0f} TFLOP/s)" if params else f"MFU n/a (no safetensors in {model_dir})")
        lines.append(f"  {tokens:,.0f} tokens (TRL num_tokens): {rate:,.0f} tokens/s; {mfu}")
    else:
        lines.append("  tokens/s n/a: " + ("no num_tokens logged" if runtime else "no train_runtime"))
    return lines


def metrics_rows(path: Path) -> Rows:
    return read_json_lines(path, FIX) if path.is_file() else []


def log_rows(path: Path) -> Rows:
    """The dicts a trainer printed at its logging steps (transformers' PrinterCallback), from a worker's log."""
    rows = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("{") and line.endswith("}"):
            try:
                row = ast.literal_eval(line)
            except (ValueError, SyntaxError):
                continue
            if isinstance(row, dict) and ({"loss", "step_time", "train_runtime"} & set(row)):
                rows.append(row)
    return rows


def generation_line(label: str, eval_path: Path) -> str:
    """Generated tokens per second of one evaluation, from its per-sample records."""
    run = eval_path.parent
    records = sorted((run / "records").glob("*.jsonl"))
    tokens = sum(r.get("num_tokens") or 0 for path in records for r in read_json_lines(path, FIX))
    start = run / "run.json"
    if not tokens or not start.is_file():
        return f"{label}: generation tokens/s n/a (no num_tokens in {run / 'records'})"
    span = max(p.stat().st_mtime for p in records) - start.stat().st_mtime
    if span <= 0:
        return f"{label}: {tokens:,} tokens generated; tokens/s n/a (the files' times give no span)"
    return (f"{label}: {tokens:,} tokens generated in {span:.1f} s (run.json to its last record): "
            f"{tokens / span:,.0f} generated tokens/s (lower bound)")


def accuracy_table(record: StudyRecord) -> str:
    import pandas as pd

    models = {"base": (record.base["scores"], record.base["group_scores"]),
              **{r.label: (r.scores, r.group_scores) for r in record.runs}}
    rows: dict[str, dict[str, float | None]] = {
        f"{task} ({group})": {m: s.get(task) for m, (s, _) in models.items()}
        for task, group in record.groups.items() if any(task in s for s, _ in models.values())}
    for group in dict.fromkeys(record.groups.values()):
        rows[f"{GROUP_LABELS.get(group, group)} (mean)"] = {m: g.get(group) for m, (_, g) in models.items()}
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(models), dtype=float)
    return frame.to_string(float_format=lambda v: f"{v:.1f}", na_rep="-")


def report_record(path: Path, peak: float) -> None:
    from mathxfer.study.record import read_record

    record = read_record(path)
    prov = record.provenance
    versions = ", ".join(f"{k} {v}" for k, v in prov.get("versions", {}).items())
    print(f"study {record.key} (profile {record.profile}), seeds {record.spec.seeds}: wall "
          f"{prov.get('wall_seconds', '?')} s (training {prov.get('runs_wall_seconds', '?')} s); {versions}; "
          f"git {str(prov.get('git_sha', '?'))[:12]}")
    print(f"MFU peak: {peak / 1e12:.0f} TFLOP/s"
          + (" (H200 dense bf16, spec sheet)" if peak == H200_BF16_DENSE else ""))
    print("\ntraining")
    for run in record.runs:
        label, metrics = run.label + (" (reused)" if run.reused else ""), Path(run.metrics_path)
        if not metrics.is_file():
            print(f"{label}: no metrics at {metrics} (the record's store elsewhere? --results STORE)")
            continue
        print("\n".join(training_lines(label, run.method, metrics_rows(metrics), Path(run.model_path), run.recipe,
                                       peak)))
    print("\nevaluation (generation)")
    print(generation_line("base", Path(record.base["eval_path"])))
    for run in record.runs:
        print(generation_line(run.label, Path(run.eval_path)))
    missing = record.base.get("missing") or {}
    print("\naccuracy (%)" + (f"; not evaluated: {', '.join(missing)}" if missing else ""))
    print(accuracy_table(record))


def report_store(store: Path, peak: float) -> None:
    """No record: the finished runs in the store, the trainer logs of every run, the evaluations so far."""
    finished = sorted(p.parent for p in store.glob("train/*/*/run.json"))
    print(f"results store {store}: {len(finished)} finished training run(s); MFU peak {peak / 1e12:.0f} TFLOP/s")
    for out in finished:
        info = json.loads((out / "run.json").read_text())
        print("\n".join(training_lines(out.name, info.get("method", "?"), metrics_rows(out / "metrics.jsonl"),
                                       out / "model", info.get("recipe") or {}, peak)))
    for log in sorted(store.glob("logs/*.log")):
        rows = log_rows(log)
        if rows:
            method = "grpo" if any("completions/mean_length" in r for r in rows) else "sft"
            print("\n".join(training_lines(f"log {log.name}", method, rows, Path(), {}, peak)))
    for started in sorted(store.glob("eval/*/run.json")):
        print(generation_line(started.parent.name, started.parent / "scores.json"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="a study record (study.json), or a results store")
    parser.add_argument("--results", type=Path, help="the store the record's files are in (default: the one it "
                        "lies in, <store>/study/<key>/study.json, else $MATHXFER_RESULTS)")
    parser.add_argument("--peak-tflops", type=float, default=H200_BF16_DENSE / 1e12,
                        help="the peak for MFU, TFLOP/s (default: H200 dense bf16, 989)")
    args = parser.parse_args(argv)
    if args.results:
        use_results_dir(args.results)
    peak = args.peak_tflops * 1e12
    (report_store if args.path.is_dir() else report_record)(args.path, peak)
    return 0


if __name__ == "__main__":
    sys.exit(main())
