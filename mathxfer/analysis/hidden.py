"""Pooled hidden states of chosen layers for many texts: batched, bounded memory, cached, resumable.

The paper's recipe (README "Latent-space shift"): raw text, no chat template, truncated to 128 tokens
with the BASE model's tokenizer for both models, left padding, every ``hidden_states`` entry
(embeddings + each layer), mean over the sequence INCLUDING pad positions (the official code's quirk).
``semantics.hidden_config`` names the two readings: ``official`` is analyse_PCA_Shift.py exactly (ONE
tokenizer call over all texts, ``HiddenConfig(batch_size=None)``, so every text is padded to the
longest of the set and the pad-inclusive mean sees those pads); ``paper`` is a masked mean in batches.

Memory: per batch the model returns all layers; the requested ones are pooled at once and the rest
dropped, so the working set is one batch of activations plus the output array (layers x texts x
hidden, float16), preallocated. Results go to ``results/hidden/KEY.npz``; while a run is in
progress, finished chunks sit in ``KEY.partial/`` so a crash resumes from the last chunk.
"""

from __future__ import annotations

import contextlib
import gc
import inspect
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from mathxfer import paths
from mathxfer.analysis.store import load_npz, save_npz_atomic, texts_hash
from mathxfer.identity import tokenizer_fingerprint
from mathxfer.provenance import config_key, provenance

Pooling = Literal["mean_with_pad", "masked_mean", "last"]
ModelOrLoader = PreTrainedModel | Callable[[], PreTrainedModel]


@dataclass(frozen=True)
class HiddenConfig:
    """How features are extracted. ``layers`` index ``hidden_states`` (0 = embeddings); None = all."""

    layers: tuple[int, ...] | None = None
    pooling: Pooling = "mean_with_pad"
    max_tokens: int = 128
    batch_size: int | None = 8  # None: one padded batch over all texts of the call (the official script)
    chunk_size: int = 256  # texts per resumable chunk on disk (with batch_size=None: one chunk)
    storage_dtype: Literal["float16", "float32"] = "float16"

    def __post_init__(self) -> None:
        if self.pooling not in ("mean_with_pad", "masked_mean", "last"):
            raise ValueError(f"pooling={self.pooling!r}; use 'mean_with_pad', 'masked_mean' or 'last'")
        if self.max_tokens < 1 or (self.batch_size is not None and self.batch_size < 1) or self.chunk_size < 1:
            raise ValueError("max_tokens, batch_size and chunk_size must be positive (batch_size may be None: "
                             "one batch over all texts)")
        if self.batch_size is not None and self.chunk_size % self.batch_size:
            # Chunks must not change batch composition: with pad-inclusive pooling it changes the numbers.
            raise ValueError(f"chunk_size={self.chunk_size} must be a multiple of batch_size={self.batch_size}")

    def cache_fields(self) -> dict:
        """What changes the stored numbers (chunk size does not; batch size only for pad-inclusive means,
        where None, one batch over all texts, is its own key)."""
        fields = asdict(self)
        fields.pop("chunk_size")
        if self.pooling != "mean_with_pad":
            fields.pop("batch_size")  # pad-inclusive means depend on batch-mates' lengths; the others do not
        fields["layers"] = list(self.layers) if self.layers is not None else "all"
        return fields


@dataclass(frozen=True)
class HiddenStates:
    """``features[i]`` holds layer ``layers[i]``: one pooled row per text, in input order."""

    layers: tuple[int, ...]
    features: np.ndarray  # (n_layers, n_texts, hidden), storage dtype
    key: str
    path: Path


def pool(hidden: torch.Tensor, attention_mask: torch.Tensor, pooling: Pooling) -> torch.Tensor:
    """(batch, seq, hidden) -> (batch, hidden) in float32.

    ``mean_with_pad`` averages every position, pads included (so a text's features depend on how
    much it was padded, i.e. on its batch-mates: the official code's behaviour, kept on purpose).
    """
    hidden = hidden.float()
    if pooling == "mean_with_pad":
        return hidden.mean(dim=1)
    mask = attention_mask.to(hidden.dtype)
    if pooling == "masked_mean":
        return (hidden * mask.unsqueeze(-1)).sum(dim=1) / mask.sum(dim=1, keepdim=True).clamp_min(1.0)
    if pooling == "last":
        positions = torch.arange(mask.shape[1], device=mask.device).expand_as(mask)
        last = (positions * attention_mask.long()).argmax(dim=1)  # last real token, whatever the padding side
        return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
    raise ValueError(f"unknown pooling {pooling!r}")


@contextlib.contextmanager
def _paper_tokenizer(tokenizer: PreTrainedTokenizerBase) -> Iterator[PreTrainedTokenizerBase]:
    """Left padding and right truncation (keep the first max_tokens), restored afterwards."""
    if tokenizer.pad_token is None:
        raise ValueError("the tokenizer has no pad token; set one before extracting, e.g. "
                         "`tokenizer.pad_token = tokenizer.eos_token`")
    old = tokenizer.padding_side, tokenizer.truncation_side
    tokenizer.padding_side, tokenizer.truncation_side = "left", "right"
    try:
        yield tokenizer
    finally:
        tokenizer.padding_side, tokenizer.truncation_side = old


def cache_key(model_id: str, tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], config: HiddenConfig) -> dict:
    """The configuration a result is stored under (hashed by ``config_key``)."""
    return {"kind": "hidden", "model": model_id, "tokenizer": tokenizer_fingerprint(tokenizer),
            "texts": texts_hash(texts), "n_texts": len(texts), **config.cache_fields()}


def cache_problem(arrays: Mapping[str, np.ndarray], config: Mapping[str, Any]) -> str:
    """Why a hidden-state cache (or one of its chunks) does not hold what its configuration asks ('' if it does)."""
    if "features" not in arrays or "layers" not in arrays:
        return f"a hidden-state cache needs arrays 'layers' and 'features'; it has {sorted(arrays)}"
    features, layers = arrays["features"], arrays["layers"]
    if features.ndim != 3 or layers.ndim != 1 or features.shape[0] != layers.shape[0]:
        return (f"features of shape {features.shape} for layers of shape {layers.shape}; expected "
                "(n_layers, n_texts, hidden) with one layer index per row")
    if not np.issubdtype(features.dtype, np.floating) or not np.issubdtype(layers.dtype, np.integer):
        return f"features of dtype {features.dtype} and layers of dtype {layers.dtype}; expected floats and integers"
    if "n_texts" in config and features.shape[1] != config["n_texts"]:
        return f"features for {features.shape[1]} texts; its configuration asks for {config['n_texts']}"
    if isinstance(config.get("layers"), list) and len(config["layers"]) != layers.shape[0]:
        return f"{layers.shape[0]} layers; its configuration asks for {len(config['layers'])}"
    if "storage_dtype" in config and features.dtype != np.dtype(config["storage_dtype"]):
        return f"features of dtype {features.dtype}; its configuration asks for {config['storage_dtype']}"
    return ""


def _forward_chunk(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, texts: Sequence[str],
                   config: HiddenConfig) -> tuple[tuple[int, ...], np.ndarray]:
    """Pooled features (n_layers, len(texts), hidden) for one chunk, stored dtype."""
    device = next(model.parameters()).device
    kwargs = {"output_hidden_states": True, "use_cache": False}
    if "logits_to_keep" in inspect.signature(model.forward).parameters:
        kwargs["logits_to_keep"] = 1  # skip (batch x seq x vocab) logits we never use
    per_batch: list[np.ndarray] = []
    layers: tuple[int, ...] = ()
    step = config.batch_size or len(texts)
    for start in range(0, len(texts), step):
        batch = list(texts[start:start + step])
        enc = tokenizer(batch, return_tensors="pt", padding=True, truncation=True,
                        max_length=config.max_tokens, add_special_tokens=True)
        enc = {k: v.to(device) for k, v in enc.items() if k in ("input_ids", "attention_mask")}
        with torch.inference_mode():
            out = model(**enc, **kwargs)
        states = out.hidden_states
        n_states = len(states)
        wanted = config.layers if config.layers is not None else tuple(range(n_states))
        layers = tuple(layer % n_states for layer in wanted)
        pooled = torch.stack([pool(states[layer], enc["attention_mask"], config.pooling) for layer in layers])
        del out, states  # drop the unrequested layers before the next batch
        array = pooled.cpu().numpy()
        stored = array.astype(config.storage_dtype)
        if not np.isfinite(stored).all() and np.isfinite(array).all():
            raise OverflowError("pooled hidden states exceed the float16 range (massive activations); "
                                "use HiddenConfig(storage_dtype='float32')")
        per_batch.append(stored)
    return layers, np.concatenate(per_batch, axis=1)


def extract_hidden(model: ModelOrLoader, tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], *,
                   model_id: str, config: HiddenConfig = HiddenConfig(),
                   cache_dir: Path | None = None) -> HiddenStates:
    """Pooled hidden states of ``texts`` under ``model``, from cache when present.

    ``tokenizer`` is the BASE model's tokenizer, whichever model runs (the paper's setup).
    ``model_id`` names the weights in the cache key: use ``identity.model_identity(path, revision)``.
    ``model`` may be a zero-argument loader, called only if something must be computed.
    """
    texts = list(texts)
    if not texts:
        raise ValueError("no texts to extract")
    if any(not t for t in texts):
        raise ValueError(f"{sum(not t for t in texts)} empty text(s); drop them before extracting")
    key_config = cache_key(model_id, tokenizer, texts, config)
    key = config_key(key_config)
    root = Path(cache_dir) if cache_dir is not None else paths.cache_dir("hidden")
    path = root / f"{key}.npz"
    if path.exists():
        arrays, _ = load_npz(path, cache_problem)
        return HiddenStates(tuple(int(x) for x in arrays["layers"]), arrays["features"], key, path)

    partial = root / f"{key}.partial"
    loaded_model: PreTrainedModel | None = None
    chunk_size = config.chunk_size if config.batch_size is not None else len(texts)  # one batch = one chunk
    starts = list(range(0, len(texts), chunk_size))
    with _paper_tokenizer(tokenizer):
        for start in starts:
            chunk_path = partial / f"chunk_{start:09d}.npz"
            if chunk_path.exists():
                continue  # resumed: this chunk finished in an earlier run
            if loaded_model is None:
                loaded_model = model if isinstance(model, torch.nn.Module) else model()
                loaded_model.eval()
            layers, feats = _forward_chunk(loaded_model, tokenizer, texts[start:start + chunk_size], config)
            save_npz_atomic(chunk_path, {"layers": np.array(layers), "features": feats})
            del feats
            gc.collect()  # model outputs leave reference cycles; without this garbage grows with n until GC runs

    # Assemble into one preallocated array: peak memory = the result plus one chunk.
    features: np.ndarray | None = None
    layers_out: tuple[int, ...] = ()
    for start in starts:
        arrays, _ = load_npz(partial / f"chunk_{start:09d}.npz", cache_problem)
        if features is None:
            layers_out = tuple(int(x) for x in arrays["layers"])
            n_layers, _, hidden = arrays["features"].shape
            features = np.empty((n_layers, len(texts), hidden), dtype=arrays["features"].dtype)
        features[:, start:start + arrays["features"].shape[1]] = arrays["features"]
        del arrays
    assert features is not None
    save_npz_atomic(path, {"layers": np.array(layers_out), "features": features},
                    meta=provenance(key_config))
    shutil.rmtree(partial, ignore_errors=True)
    return HiddenStates(layers_out, features, key, path)
