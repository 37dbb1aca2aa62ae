"""The survey table: the paper's 30 models x 12 benchmarks, plus any models the user adds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mathxfer.groups import BENCHMARK_GROUPS, BENCHMARKS, Group
from mathxfer.paths import paper_dir
from mathxfer.scores_file import ScoreRecord, ScoresFileError, read_scores
from mathxfer.survey.ti import Reading, pooled_sigma, transferability_table

MODEL_COLUMNS = ["base_model", "family", "method", "hf_id", "source"]


@dataclass
class Survey:
    """Scores (model x benchmark, percent), model metadata, and the paper's reported TIs."""

    scores: pd.DataFrame
    models: pd.DataFrame
    reported_ti: pd.DataFrame

    def pairs(self) -> list[tuple[str, str]]:
        """Every (tuned, base) pair whose base is in the table, in table order."""
        tuned = self.models[self.models["base_model"].isin(self.scores.index)]
        return list(zip(tuned.index, tuned["base_model"]))

    def reference_pairs(self) -> list[tuple[str, str]]:
        """The 18 pairs the paper reports a TI for: the pooled sigma is computed over them."""
        return list(zip(self.reported_ti["model"], self.reported_ti["base_model"]))

    def sigma(self) -> dict[Group, float]:
        return pooled_sigma(self.scores, self.reference_pairs())

    def ti(self, reading: Reading = "pooled") -> pd.DataFrame:
        """TI for every pair, with the pooled sigma fixed by the paper's pairs (so adding a model
        never changes another model's TI)."""
        sigma = self.sigma() if reading == "pooled" else None
        table = transferability_table(self.scores, self.pairs(), reading, sigma=sigma)
        return table.merge(self.models[["family", "method"]], left_on="model", right_index=True)

    def gains(self) -> pd.DataFrame:
        """Long table of per-benchmark gains over each model's own base."""
        rows = []
        for model, base in self.pairs():
            for group, names in BENCHMARK_GROUPS.items():
                for bench in names:
                    rows.append({"model": model, "base_model": base, "family": self.models.at[model, "family"],
                                 "method": self.models.at[model, "method"], "group": group,
                                 "benchmark": bench, "score": self.scores.at[model, bench],
                                 "base_score": self.scores.at[base, bench],
                                 "gain": self.scores.at[model, bench] - self.scores.at[base, bench]})
        return pd.DataFrame(rows)

    def group_means(self) -> pd.DataFrame:
        """Scores with the three group averages appended (Table 1's layout)."""
        out = self.scores.copy()
        for group, names in BENCHMARK_GROUPS.items():
            out[f"{group} avg"] = self.scores[list(names)].mean(axis=1, skipna=False)
        return out


def _read_paper(name: str) -> pd.DataFrame:
    path = paper_dir() / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: the paper's figures ship in data/paper/ "
                                "(set MATHXFER_DATA if you moved the data folder)")
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


SCORE_TABLE_FIX = ("a score table is a CSV in data/paper/survey_scores.csv's layout: a header row, then one row per "
                   "model with a percentage (0-100) under each of the 12 benchmarks")


def load_scores_csv(path: Path | str) -> pd.DataFrame:
    """A wide score table (model + the 12 benchmarks, percent), like data/paper/survey_scores.csv.

    Every cell is checked, since one bad score moves the pooled sigma and with it every model's TI: a blank,
    a non-number, a score outside 0-100 or a model listed twice is an error naming the file, line and column."""
    import csv

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: No such file; {SCORE_TABLE_FIX}")
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{path}: empty file; {SCORE_TABLE_FIX}")
        header = [name.strip() for name in header]
        twice = sorted({name for name in header if header.count(name) > 1 and name})
        if twice:
            raise ValueError(f"{path}:1: column(s) {', '.join(twice)} appear twice; keep one of each")
        missing = [c for c in ("model", *BENCHMARKS) if c not in header]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; a score table needs "
                             f"model and the 12 benchmarks ({', '.join(BENCHMARKS)})")
        column = {name: header.index(name) for name in ("model", *BENCHMARKS)}
        rows: dict[str, list[float]] = {}
        first_line: dict[str, int] = {}
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # a blank line
            if len(cells) != len(header):
                raise ValueError(f"{path}:{line}: {len(cells)} cells for the header's {len(header)} columns; "
                                 "one cell per column (a comma inside a model name needs quotes)")
            model = cells[column["model"]].strip()
            if not model:
                raise ValueError(f"{path}:{line}: column model is blank; name the model")
            if model in first_line:
                raise ValueError(f"{path}:{line}: model {model!r} is listed twice (also on line "
                                 f"{first_line[model]}); keep one row per model")
            first_line[model] = line
            rows[model] = [_score_cell(path, line, bench, model, cells[column[bench]]) for bench in BENCHMARKS]
    if not rows:
        raise ValueError(f"{path}: no model rows; {SCORE_TABLE_FIX}")
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(BENCHMARKS), dtype=float)
    table.index.name = "model"
    return table


def _score_cell(path: Path, line: int, benchmark: str, model: str, cell: str) -> float:
    where = f"{path}:{line}, column {benchmark} ({model})"
    text = cell.strip()
    if not text:
        raise ValueError(f"{where}: blank; every model needs a score for all 12 benchmarks (a percentage, 0-100)")
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{where}: {text!r} is not a number; write the score as a percentage, e.g. 61.2") from None
    if not 0 <= value <= 100:  # NaN fails this too
        raise ValueError(f"{where}: {text} is not a percentage in [0, 100]; scores are percent correct, "
                         "e.g. 61.2 for 61.2%")
    return value


def load_survey(scores: str | Path = "reported", extra_results: Sequence[str | Path] = (),
                extra_records: Mapping[str, Sequence[ScoreRecord]] | None = None) -> Survey:
    """The survey table. ``scores`` is "reported" (the paper's Tables 9-11) or a CSV in that layout;
    ``extra_results`` are scores files (see ``mathxfer.scores_file``) whose models join the table, and
    ``extra_records`` maps a source (shown in the table, e.g. a study record's path) to score records that
    join it the same way (the book's own models, ``StudyRecord.survey_scores``)."""
    table = load_scores_csv(paper_dir() / "survey_scores.csv" if scores == "reported" else scores)
    meta = _read_paper("survey_models.csv").set_index("model")
    meta["base_model"] = meta["base_model"].fillna("")
    meta["hf_id"] = meta["hf_id"].fillna("")
    meta["source"] = "paper"
    meta = meta.reindex(table.index)
    unknown = meta.index[meta["family"].isna()].tolist()
    if unknown:
        raise ValueError(f"no metadata for {', '.join(unknown)}: every scored model needs a row in "
                         "data/paper/survey_models.csv, or add it through a scores file instead")
    survey = Survey(scores=table, models=meta[MODEL_COLUMNS], reported_ti=_read_paper("reported_ti.csv"))
    for path in extra_results:
        add_records(survey, read_scores(path)[0], str(path))
    for source, records in (extra_records or {}).items():
        add_records(survey, records, source)
    return survey


def add_records(survey: Survey, records: Sequence[ScoreRecord], source: str) -> None:
    """Join the models of these score records (a scores file's, read from ``source``) to the survey, in place."""
    new_models = list(dict.fromkeys(r.model for r in records))
    clash = [m for m in new_models if m in survey.scores.index]
    if clash:
        raise ScoresFileError(f"{source}: {', '.join(clash)} already in the survey table; give your run its "
                              "own model name (e.g. 'Qwen3-14B-Base (ours)') so both rows can be compared")
    scores = pd.DataFrame(np.nan, index=new_models, columns=list(BENCHMARKS))
    for rec in records:
        scores.at[rec.model, rec.benchmark] = rec.score
    first = {m: next(r for r in records if r.model == m) for m in new_models}
    rows = {}
    for model, rec in first.items():
        if rec.base_model and rec.base_model not in survey.scores.index and rec.base_model not in first:
            raise ScoresFileError(f"{source}: base model {rec.base_model!r} of {model} has no scores; add the "
                                  "base's scores to the file (with base_model '') or name a model in the table")
        family = rec.family or (survey.models.at[rec.base_model, "family"]
                                if rec.base_model in survey.models.index else rec.base_model or model)
        method = rec.method if rec.base_model or rec.method != "other" else "base"
        rows[model] = {"base_model": rec.base_model, "family": family, "method": method, "hf_id": "",
                       "source": source}
    survey.scores = pd.concat([survey.scores, scores])
    survey.models = pd.concat([survey.models, pd.DataFrame.from_dict(rows, orient="index")[MODEL_COLUMNS]])
