"""Benchmark items: read from a local folder (the layout of /work/shared/benchmarks) or the HF hub.

Every benchmark becomes a list of `Item`s, whatever its source schema, so prompting, grading and
resumption never look at raw rows. Local files take the hub rows' schema where the paper's copy
has none of its own (CoQA, LiveCodeBench, HaluEval), so one converter serves both sources.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mathxfer.eval.items import Item
from mathxfer.eval.specs import BenchmarkSpec, spec as get_spec

DATA_DIR_ENV = "MATHXFER_DATA_DIR"
GPQA_PASSWORD = b"deserted-untie-orchid"  # public, from the official idavidrein/gpqa README
LETTERS = "ABCDEFGHIJ"


class BenchmarkMissing(FileNotFoundError):
    """A benchmark's data could not be found; the message says where we looked and how to provide it."""


@dataclass(frozen=True)
class Source:
    where: str                              # a path or hub id, for provenance
    rows: list[dict[str, Any]] = field(repr=False)


def default_data_dir(data_dir: str | Path | None = None) -> Path | None:
    """--data-dir, else $MATHXFER_DATA_DIR, else None (the HF hub)."""
    value = data_dir or os.environ.get(DATA_DIR_ENV)
    return Path(value) if value else None


# --- raw readers --------------------------------------------------------------------------------

def _read_local(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if path.suffix == ".zip":  # GPQA: kept encrypted; decrypted in memory only, never written out
        raw = zipfile.ZipFile(path).read("gpqa_diamond.csv", pwd=GPQA_PASSWORD).decode("utf-8")
        return list(csv.DictReader(io.StringIO(raw)))
    if path.suffix == ".tsv":  # MC-TACO: headerless
        names = ("sentence", "question", "answer", "label", "category")
        return [dict(zip(names, row)) for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8")),
                                                             delimiter="\t", quoting=csv.QUOTE_NONE)]
    doc = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(doc, dict) and "exams" in doc:  # HEAD-QA release layout
        return [dict(q, category=exam.get("category", ""), name=exam.get("name", key))
                for key, exam in doc["exams"].items()
                for q in exam["data"]]
    if isinstance(doc, dict) and "data" in doc:   # official CoQA json
        return [_coqa_official_to_hub(d) for d in doc["data"]]
    return list(doc)


def _coqa_official_to_hub(doc: dict[str, Any]) -> dict[str, Any]:
    extra = doc.get("additional_answers") or {}
    return {"id": doc.get("id", ""), "story": doc["story"],
            "questions": {"input_text": [q["input_text"] for q in doc["questions"]]},
            "answers": {"input_text": [a["input_text"] for a in doc["answers"]]},
            "additional_answers": {k: {"input_text": [a["input_text"] for a in v]} for k, v in extra.items()}}


def _word_problem_rows() -> list[dict[str, Any]]:
    from mathxfer.mathdata import word_problems

    return word_problems.heldout_rows()


GENERATED: dict[str, Callable[[], list[dict[str, Any]]]] = {"WordProblems": _word_problem_rows}


def load_rows(spec: BenchmarkSpec, data_dir: Path | None) -> list[Source]:
    """The raw rows, one Source per file / hub config (or the generator's, for generated benchmarks, wherever
    the data dir points). Raises BenchmarkMissing with the fix."""
    if spec.generated:
        return [Source(f"generated:{spec.name}@{spec.version}", GENERATED[spec.name]())]
    if data_dir is not None:
        paths = [data_dir / rel for rel in spec.local]
        missing = [p for p in paths if not p.is_file()]
        if missing:
            raise BenchmarkMissing(
                f"{spec.name}: not found in {data_dir} (looked for {', '.join(str(p) for p in missing)}); "
                f"put the file(s) there in the hub rows' schema, or drop --data-dir/${DATA_DIR_ENV} to "
                f"read hub dataset {spec.hub.path}" + (f" ({spec.notes})" if spec.notes else ""))
        return [Source(str(p), _read_local(p)) for p in paths]
    return _load_hub(spec)


def _load_hub(spec: BenchmarkSpec) -> list[Source]:
    import datasets  # heavy; only when the hub is used

    hub = spec.hub
    try:
        if hub.data_files:
            return [Source(hub.path, list(datasets.load_dataset("json", data_files=list(hub.data_files),
                                                                split=hub.split)))]
        names = hub.names or (hub.name,)
        return [Source(f"{hub.path}:{n}" if n else hub.path,
                       list(datasets.load_dataset(hub.path, n, split=hub.split))) for n in names]
    except Exception as err:  # offline, gated, renamed: all end here
        raise BenchmarkMissing(
            f"{spec.name}: could not load hub dataset {hub.path} ({type(err).__name__}: {err}); "
            f"pass --data-dir DIR (or ${DATA_DIR_ENV}) holding {', '.join(spec.local)} in the layout of "
            "/work/shared/benchmarks" + (f" ({spec.notes})" if spec.notes else "")) from err


# --- converters: raw rows -> Items ----------------------------------------------------------------

def _first(row: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if key in row and row[key] is not None:
            return row[key]
    raise KeyError(f"none of the fields {keys} in row with fields {sorted(row)}")


def _math(rows: list[dict[str, Any]], prefix: str, _seed: int) -> list[Item]:
    items = []
    for i, row in enumerate(rows):
        answer = _first(row, "answer", "expected_answer", "final_answer", "Answer")
        if isinstance(answer, list):  # OlympiadBench: a list of accepted final answers
            answer = ", ".join(str(a) for a in answer)
        rid = str(row.get("unique_id") or row.get("id") or row.get("ID") or i)
        items.append(Item(f"{prefix}:{rid}", {"question": _first(row, "problem", "question", "Problem")},
                          {"answer": str(answer)}))
    return items


def _gpqa(rows: list[dict[str, Any]], _prefix: str, seed: int) -> list[Item]:
    items = []
    for i, row in enumerate(rows):
        options = [row["Correct Answer"]] + [row[f"Incorrect Answer {k}"] for k in (1, 2, 3)]
        options = [o.strip() for o in options]
        order = list(range(4))
        random.Random(f"{seed}:{i}").shuffle(order)  # seeded per item: stable across resumption
        shuffled = [options[j] for j in order]
        letter = LETTERS[order.index(0)]
        text = "\n".join(f"{LETTERS[k]}. {o}" for k, o in enumerate(shuffled))
        items.append(Item(f"gpqa:{row.get('Record ID') or i}", {"question": row["Question"],
                                                                  "choices": text},
                          {"letter": letter, "options": shuffled}))
    return items


def _acp(rows: list[dict[str, Any]], prefix: str, _seed: int) -> list[Item]:
    return [Item(f"acp:{prefix}:{row['id']}", {"context": row["context"], "question": row["question"]},
                 {"letter": row["answer"], "options": list(row["choices"]["text"])}) for row in rows]


def _headqa(rows: list[dict[str, Any]], _prefix: str, _seed: int) -> list[Item]:
    items = []
    for row in rows:
        answers = sorted(row["answers"], key=lambda a: int(a["aid"]))
        ids = [int(a["aid"]) for a in answers]
        items.append(Item(f"headqa:{row.get('name', '')}:{row['qid']}",
                          {"question": row["qtext"]}, {"index": ids.index(int(row["ra"]))},
                          choices=tuple(" " + a["atext"] for a in answers)))
    return items


def _mctaco(rows: list[dict[str, Any]], _prefix: str, _seed: int) -> list[Item]:
    items = []
    for i, row in enumerate(rows):
        label = row["label"]
        yes = label == "yes" if isinstance(label, str) else int(label) == 1
        items.append(Item(f"mctaco:{i}", {k: row[k] for k in ("sentence", "question", "answer")},
                          {"index": int(yes)}, choices=(" no", " yes")))
    return items


def _coqa(rows: list[dict[str, Any]], _prefix: str, _seed: int) -> list[Item]:
    from lm_eval.tasks.coqa.utils import doc_to_target, doc_to_text  # the paper's (lm-eval's) prompt

    return [Item(f"coqa:{row.get('id') or i}", {"question": doc_to_text(row)}, {"answers": doc_to_target(row)})
            for i, row in enumerate(rows)]


def _ifeval(rows: list[dict[str, Any]], _prefix: str, _seed: int) -> list[Item]:
    return [Item(f"ifeval:{row['key']}", {"question": row["prompt"]},
                 {"key": row["key"], "instruction_id_list": list(row["instruction_id_list"]),
                  "kwargs": [{k: v for k, v in kw.items() if v is not None} for kw in row["kwargs"]]})
            for row in rows]


def _halueval(rows: list[dict[str, Any]], prefix: str, _seed: int) -> list[Item]:
    from mathxfer.eval.halueval import judge_prompt, subset_of

    items = []
    for i, row in enumerate(rows):
        subset = subset_of(row)
        items.append(Item(f"halueval:{subset}:{i}", {"question": judge_prompt(subset, row)},
                          {"answer": str(row["hallucination"]).strip().lower()}, subset=subset))
    return items


def _word_problems(rows: list[dict[str, Any]], _prefix: str, _seed: int) -> list[Item]:
    from mathxfer.mathdata.worked import parse

    return [Item(f"wp:{row['id']}", {"question": row["question"]}, {"answer": parse(row).answer}) for row in rows]


def _lcb(rows: list[dict[str, Any]], _prefix: str, _seed: int) -> list[Item]:
    from mathxfer.eval.livecodebench import lcb_item

    return [lcb_item(row) for row in rows]


CONVERTERS: dict[str, Callable[[list[dict[str, Any]], str, int], list[Item]]] = {
    "AIME24": _math, "AIME25": _math, "MATH500": _math, "OlympiadBench": _math,
    "GPQA-Diamond": _gpqa, "ACPBench": _acp, "HeadQA": _headqa, "MC-TACO": _mctaco, "CoQA": _coqa,
    "IFEval": _ifeval, "HaluEval": _halueval, "LiveCodeBench-v2": _lcb, "WordProblems": _word_problems,
}


def items_from_rows(name: str, rows: list[dict[str, Any]], *, seed: int = 0, prefix: str = "") -> list[Item]:
    """Convert rows in the local/hub schema (tests build a few by hand for absent benchmarks)."""
    return CONVERTERS[name](rows, prefix or name.lower(), seed)


def load_items(name: str, data_dir: str | Path | None = None, *, seed: int = 0,
               limit: int | None = None) -> tuple[list[Item], list[str]]:
    """(items, sources) for a benchmark; ``limit`` keeps the first N (in a stable order)."""
    spec = get_spec(name)
    sources = load_rows(spec, default_data_dir(data_dir))
    items: list[Item] = []
    for src in sources:
        prefix = Path(src.where).name.split(".")[0] if len(sources) > 1 else name.lower()
        items.extend(items_from_rows(name, src.rows, seed=seed, prefix=prefix))
    ids = [it.id for it in items]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{name}: duplicate item ids in {', '.join(s.where for s in sources)}")
    if limit is not None:
        items = _limit(items, limit, name)
    return items, [s.where for s in sources]


def _limit(items: list[Item], limit: int, name: str) -> list[Item]:
    if name == "HaluEval":  # keep every subset represented: the score is their mean
        out: list[Item] = []
        for subset in dict.fromkeys(it.subset for it in items):
            out.extend([it for it in items if it.subset == subset][:limit])
        return out
    return items[:limit]
