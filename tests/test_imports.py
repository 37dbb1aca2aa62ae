"""The package's imports run one way: notebooks -> mathxfer.book -> the study record -> train / eval /
analysis -> the core; nothing lower imports anything higher, no module imports the CLI, and there is no
import cycle between modules (imports inside functions count too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from mathxfer.paths import PACKAGE_DIR

# Lower numbers are lower layers; a module may import its own package or any lower layer.
LAYERS = {"core": 0, "eval": 1, "micro": 1, "survey": 2, "train": 2, "analysis": 2, "study": 3,
          "controlled": 4, "book": 5, "cli": 6}
CLI = {"mathxfer.cli", "mathxfer.eval.cli", "mathxfer.__main__"}


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("mathxfer")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mathxfer"):
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}  # `from mathxfer.x import module`
    return found


MODULES = {_module(p): p for p in PACKAGE_DIR.rglob("*.py")}
GRAPH = {m: {i for i in _imports(p) if i in MODULES and i != m} for m, p in MODULES.items()}


def _layer(module: str) -> tuple[str, int]:
    if module in CLI:
        return "cli", LAYERS["cli"]
    part = module.split(".")[1] if module.count(".") else "core"
    package = part if part in LAYERS else "core"
    return package, LAYERS[package]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module):
    package, rank = _layer(module)
    for imported in GRAPH[module]:
        other, other_rank = _layer(imported)
        assert imported not in CLI or module in CLI, f"{module} imports the CLI ({imported})"
        assert other_rank < rank or other == package, f"{module} ({package}) imports {imported} ({other}): upward"


def test_no_import_cycles():
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for n in GRAPH[m]:
            if state.get(n) == 1:
                cycle = path[path.index(n):] + [n] if n in path else [m, n]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if n not in state:
                visit(n, [*path, n])
        state[m] = 2

    for m in sorted(GRAPH):
        if m not in state:
            visit(m, [m])


def test_notebooks_never_train():
    for nb in (PACKAGE_DIR.parent / "notebooks").glob("*.ipynb"):
        text = nb.read_text()
        for word in ("run_study", "train(", "mathxfer.train", "mathxfer.study.run"):
            assert word not in text, f"{nb.name} calls {word}"
