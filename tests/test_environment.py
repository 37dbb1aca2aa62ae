"""The pinned environment: requirements.txt (the lock), environment.yml and pyproject agree."""

from __future__ import annotations

import tomllib

import yaml


def lock_lines(repo_root) -> list[str]:
    lines = (repo_root / "requirements.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_environment_yml_mirrors_requirements(repo_root):
    env = yaml.safe_load((repo_root / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip_section == lock_lines(repo_root)
    assert "python=3.11" in env["dependencies"]


def test_every_lock_line_is_an_exact_pin(repo_root):
    for line in lock_lines(repo_root):
        name, sep, version = line.partition("==")
        assert sep and name and version and "+" not in version, line


def test_pyproject_dependencies_equal_the_lock(repo_root):
    lock = {line.split("==")[0].lower().replace("_", "-"): line.split("==")[1] for line in lock_lines(repo_root)}
    project = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]
    for dep in project["dependencies"]:
        name, _, version = dep.partition("==")
        assert lock.get(name.lower()) == version, f"{dep} differs from requirements.txt"
    assert lock["torch"] == "2.13.0"
    # the GPU extra's vLLM 0.31 pins torch 2.13 and transformers<5.18: the lock must stay inside that
    assert tuple(int(x) for x in lock["transformers"].split(".")[:2]) < (5, 18)
    # ... and DeepSpeed 0.19.8 (the paper profile's ZeRO-3 launcher) asks only torch>=2.0
    assert project["optional-dependencies"]["gpu"] == ["vllm==0.31.0", "deepspeed==0.19.8"]
