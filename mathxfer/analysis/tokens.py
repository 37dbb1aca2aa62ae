"""Token-space shift: each tuned model's own responses scored by the tuned and the base model with
teacher forcing (Figure 4 KL, Figure 17 rank shift, Figures 15-16 position profile, Figure 5 /
Table 8 most-shifted tokens).

Per response token y_t (predicted from the logits one position earlier) we keep:
  logp_tuned, logp_base  log-probabilities of y_t;
  kl_full                exact KL(tuned || base) over the whole vocabulary at that position;
  rank_tuned, rank_base  0-based rank of y_t (0 = the argmax; ties share the best rank, i.e. rank =
                         how many vocabulary entries have a strictly larger logit). vLLM's ranks,
                         which the official script stores, are 1-based (entries with a log-probability
                         >= the token's, itself included): without exact ties vLLM's = ours + 1, and
                         rank shift, a difference of ranks, is the same under both.
Rank shift = rank_base - rank_tuned: positive when tuning promoted the token.

Which tokens are scored depends on ``ScoreConfig.semantics`` (see ``semantics``):
  paper     prompt and response are tokenized separately and concatenated, so the scored ids are
            exactly the response's own tokens (no merge across the boundary), all of them.
  official  calculate_logits_and_ranks_token_level.py: ``full = tok(prompt + response)`` as one string
            (with special tokens, as vLLM tokenizes a string prompt), ``plen = len(tok(prompt,
            add_special_tokens=False))``, scored tokens ``full[plen + 1:]``. The script slices vLLM's
            ``prompt_logprobs``, whose entry j is token j given tokens < j (entry 0 is None: nothing
            predicts the first token), with ``[plen + 1:]``: for a tokenizer that adds no BOS (Qwen3)
            the response starts at position plen, so its first token is dropped; with a BOS it is kept.
``max_response_tokens`` keeps the first that many scored tokens under either semantics.
The official KL smooths each probability by 1e-10 (``summarize(scores, semantics="official")``).

Memory: the models run the backbone only; logits are formed for response positions, ``token_chunk``
positions at a time, so a batch never holds (batch x seq x vocab) logits and nothing per-vocabulary
outlives its chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from mathxfer import paths
from mathxfer.analysis.hidden import ModelOrLoader
from mathxfer.analysis.semantics_names import KL_SMOOTHING, Semantics, check_semantics
from mathxfer.analysis.store import load_npz, save_npz_atomic, texts_hash
from mathxfer.identity import tokenizer_fingerprint
from mathxfer.provenance import config_key, provenance

_FIELDS = ("token_id", "logp_tuned", "logp_base", "kl_full", "rank_tuned", "rank_base")
_DTYPES = {f: np.int32 if f in ("token_id", "rank_tuned", "rank_base") else np.float32 for f in _FIELDS}


@dataclass(frozen=True)
class ScoreConfig:
    batch_size: int = 4
    token_chunk: int = 1024  # response positions whose full-vocabulary logits exist at once
    add_special_tokens: bool = True  # to the prompt, as a tokenizer call on a prompt string does
    max_response_tokens: int | None = None  # truncate long responses (None: score all)
    semantics: Semantics = "paper"  # which tokens are scored (module docstring)

    def __post_init__(self) -> None:
        check_semantics(self.semantics)
        if self.batch_size < 1 or self.token_chunk < 1:
            raise ValueError("batch_size and token_chunk must be positive")
        if self.max_response_tokens is not None and self.max_response_tokens < 0:
            raise ValueError(f"max_response_tokens={self.max_response_tokens}; use None (all) or a count >= 0")

    def cache_fields(self) -> dict:
        fields = asdict(self)
        fields.pop("batch_size")  # right padding + masking: batching does not change the numbers
        fields.pop("token_chunk")
        if self.semantics == "paper":
            fields.pop("semantics")  # keys written before semantics existed scored the paper's way: keep them
        return fields


@dataclass(frozen=True)
class TokenScores:
    """Per-token arrays, all samples concatenated; sample i owns ``[offsets[i], offsets[i+1])``."""

    offsets: np.ndarray
    token_id: np.ndarray
    logp_tuned: np.ndarray
    logp_base: np.ndarray
    kl_full: np.ndarray
    rank_tuned: np.ndarray
    rank_base: np.ndarray

    @property
    def n_samples(self) -> int:
        return len(self.offsets) - 1

    @property
    def rank_shift(self) -> np.ndarray:
        return self.rank_base.astype(np.int64) - self.rank_tuned.astype(np.int64)

    def sample_index(self) -> np.ndarray:
        return np.repeat(np.arange(self.n_samples), np.diff(self.offsets))

    def positions(self) -> np.ndarray:
        """Each token's 0-based position within its response."""
        return np.arange(len(self.token_id)) - np.repeat(self.offsets[:-1], np.diff(self.offsets))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"sample": self.sample_index(), "position": self.positions(),
                             **{f: getattr(self, f) for f in _FIELDS}, "rank_shift": self.rank_shift})


def check_same_tokenizer(tuned: PreTrainedTokenizerBase, base: PreTrainedTokenizerBase) -> None:
    """Token-level comparisons need one vocabulary: raise naming the differences otherwise."""
    vt, vb = tuned.get_vocab(), base.get_vocab()
    if vt == vb:
        return
    only_t = sorted(set(vt) - set(vb))[:5]
    only_b = sorted(set(vb) - set(vt))[:5]
    moved = sorted(t for t in set(vt) & set(vb) if vt[t] != vb[t])[:5]
    raise ValueError(
        f"the tuned and base tokenizers differ (sizes {len(vt)} vs {len(vb)}; only in tuned: {only_t}; "
        f"only in base: {only_b}; different ids: {moved}). Token-level KL and ranks need identical "
        "vocabularies: compare models that share a tokenizer, or score both with the base tokenizer "
        "only if the tuned model's vocabulary is a strict superset with the same ids.")


def _encode(tokenizer: PreTrainedTokenizerBase, prompts: Sequence[str], responses: Sequence[str],
            config: ScoreConfig) -> list[tuple[list[int], int]]:
    """Per sample (ids to run, first scored position): positions first..len(ids)-1 are scored, each
    predicted from the logits one position earlier."""
    out = []
    for i, (prompt, response) in enumerate(zip(prompts, responses, strict=True)):
        if not prompt:
            raise ValueError(f"prompt {i} is empty: the first response token needs a position to be predicted "
                             "from; drop the sample or give it a prompt")
        if config.semantics == "official":
            ids = list(tokenizer(prompt + response, add_special_tokens=config.add_special_tokens)["input_ids"])
            first = len(tokenizer(prompt, add_special_tokens=False)["input_ids"]) + 1
        else:
            p = tokenizer(prompt, add_special_tokens=config.add_special_tokens)["input_ids"]
            if not p:
                raise ValueError(f"prompt {i} tokenizes to nothing: the first response token needs a position "
                                 "to be predicted from")
            ids = list(p) + list(tokenizer(response, add_special_tokens=False)["input_ids"])
            first = len(p)
        first = min(first, len(ids))  # a prompt whose tokens merge with the response's may leave none
        if config.max_response_tokens is not None:
            ids = ids[:first + config.max_response_tokens]
        out.append((ids, first))
    return out


def _check_logits_are_plain(model: PreTrainedModel) -> None:
    for attr in ("final_logit_softcapping", "logit_scale"):
        if getattr(model.config, attr, None):
            raise NotImplementedError(f"{type(model).__name__} sets config.{attr}: the backbone+lm_head path "
                                      "would skip it; extend tokens._chunk_logits for this architecture")


def _final_hidden(model: PreTrainedModel, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    device = next(model.parameters()).device
    with torch.inference_mode():
        out = model.base_model(input_ids=ids.to(device), attention_mask=mask.to(device), use_cache=False)
    return out.last_hidden_state


def _score_positions(h_tuned: torch.Tensor, h_base: torch.Tensor, targets: torch.Tensor,
                     head_tuned: torch.nn.Module, head_base: torch.nn.Module, chunk: int) -> dict[str, np.ndarray]:
    """Per-position scores from selected final hidden states (n, hidden) and targets (n,)."""
    parts: dict[str, list[np.ndarray]] = {f: [] for f in _FIELDS[1:]}
    device = h_tuned.device
    with torch.inference_mode():
        for s in range(0, len(targets), chunk):
            y = targets[s:s + chunk].to(device).unsqueeze(1)
            lt = head_tuned(h_tuned[s:s + chunk]).float()
            lb = head_base(h_base[s:s + chunk]).float().to(device)
            if lt.shape[-1] != lb.shape[-1]:
                raise ValueError(f"output vocabularies differ ({lt.shape[-1]} vs {lb.shape[-1]} logits)")
            lpt, lpb = torch.log_softmax(lt, -1), torch.log_softmax(lb, -1)
            parts["logp_tuned"].append(lpt.gather(1, y).squeeze(1).cpu().numpy())
            parts["logp_base"].append(lpb.gather(1, y).squeeze(1).cpu().numpy())
            parts["kl_full"].append((lpt.exp() * (lpt - lpb)).sum(-1).cpu().numpy())
            parts["rank_tuned"].append((lt > lt.gather(1, y)).sum(-1).to(torch.int32).cpu().numpy())
            parts["rank_base"].append((lb > lb.gather(1, y)).sum(-1).to(torch.int32).cpu().numpy())
            del lt, lb, lpt, lpb
    return {f: np.concatenate(v) if v else np.zeros(0, np.float32) for f, v in parts.items()}


def cache_problem(arrays: Mapping[str, np.ndarray], config: Mapping[str, Any]) -> str:
    """Why a token-scores cache does not hold what its configuration asks ('' if it does)."""
    missing = [name for name in ("offsets", *_FIELDS) if name not in arrays]
    if missing:
        return f"token scores lack array(s) {', '.join(missing)}"
    offsets = arrays["offsets"]
    if "n" in config and offsets.shape != (config["n"] + 1,):
        return f"offsets of shape {offsets.shape}; its configuration has {config['n']} samples"
    if offsets.size == 0 or offsets[0] != 0 or np.any(np.diff(offsets) < 0):
        return "offsets do not start at 0 and grow: not per-sample token ranges"
    ragged = {name: arrays[name].shape for name in _FIELDS if arrays[name].shape != (int(offsets[-1]),)}
    if ragged:
        return f"per-token arrays {ragged} for {int(offsets[-1])} tokens"
    return ""


def score_responses(tuned: ModelOrLoader, base: ModelOrLoader, tuned_tokenizer: PreTrainedTokenizerBase,
                    base_tokenizer: PreTrainedTokenizerBase, prompts: Sequence[str], responses: Sequence[str],
                    *, config: ScoreConfig = ScoreConfig(), cache_ids: tuple[str, str] | None = None,
                    cache_dir: Path | None = None) -> TokenScores:
    """Teacher-forced scores of the tuned model's ``responses`` to ``prompts`` under both models.

    ``cache_ids`` = (tuned id, base id) from ``identity.model_identity`` enables the on-disk cache
    ``results/tokens/KEY.npz``; without it nothing is stored. ``tuned`` and ``base`` may be zero-argument
    loaders, called only on a cache miss (as ``hidden.extract_hidden`` takes them).
    """
    check_same_tokenizer(tuned_tokenizer, base_tokenizer)
    if len(prompts) != len(responses):
        raise ValueError(f"{len(prompts)} prompts but {len(responses)} responses")
    path = key_config = None
    if cache_ids is not None:
        key_config = {"kind": "token_scores", "tuned": cache_ids[0], "base": cache_ids[1],
                      "tokenizer": tokenizer_fingerprint(base_tokenizer), "prompts": texts_hash(prompts),
                      "responses": texts_hash(responses), "n": len(prompts), **config.cache_fields()}
        root = Path(cache_dir) if cache_dir is not None else paths.cache_dir("tokens")
        path = root / f"{config_key(key_config)}.npz"
        if path.exists():
            arrays, _ = load_npz(path, cache_problem)
            return TokenScores(**arrays)

    tuned, base = (m if isinstance(m, torch.nn.Module) else m() for m in (tuned, base))
    for model in (tuned, base):
        _check_logits_are_plain(model)
        model.eval()
    pad_id = base_tokenizer.pad_token_id if base_tokenizer.pad_token_id is not None else 0
    encoded = _encode(base_tokenizer, prompts, responses, config)
    head_t, head_b = tuned.get_output_embeddings(), base.get_output_embeddings()
    parts: dict[str, list[np.ndarray]] = {f: [] for f in _FIELDS}
    for start in range(0, len(encoded), config.batch_size):
        batch = encoded[start:start + config.batch_size]
        width = max(len(seq) for seq, _ in batch)
        ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        rows, cols, targets = [], [], []
        for i, (seq, first) in enumerate(batch):
            ids[i, :len(seq)] = torch.tensor(seq)  # right padding: real tokens keep positions 0..len-1
            mask[i, :len(seq)] = 1
            rows += [i] * (len(seq) - first)
            cols += range(first - 1, len(seq) - 1)  # logits at t-1 predict token t
            targets += seq[first:]
        if not targets:
            continue
        rows_t, cols_t = torch.tensor(rows), torch.tensor(cols)
        h_t = _final_hidden(tuned, ids, mask)
        h_t = h_t[rows_t.to(h_t.device), cols_t.to(h_t.device)]
        h_b = _final_hidden(base, ids, mask)
        h_b = h_b[rows_t.to(h_b.device), cols_t.to(h_b.device)]
        scores = _score_positions(h_t, h_b, torch.tensor(targets), head_t, head_b, config.token_chunk)
        del h_t, h_b
        parts["token_id"].append(np.asarray(targets, dtype=np.int32))
        for f, v in scores.items():
            parts[f].append(v)
    lengths = np.array([len(seq) - first for seq, first in encoded], dtype=np.int64)
    arrays = {"offsets": np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
              **{f: (np.concatenate(v) if v else np.zeros(0)).astype(_DTYPES[f]) for f, v in parts.items()}}
    if path is not None:
        save_npz_atomic(path, arrays, meta=provenance(key_config))
    return TokenScores(**arrays)


# ---- aggregations (tidy frames for the charts) -------------------------------------------------

def _log_ratio(logp_tuned: np.ndarray, logp_base: np.ndarray, smoothing: float) -> np.ndarray:
    """log(p_tuned + s) - log(p_base + s) in float64; s = 0 takes the log-probabilities as they are
    (exp would underflow to 0 for very unlikely tokens)."""
    lt, lb = np.asarray(logp_tuned, np.float64), np.asarray(logp_base, np.float64)
    if smoothing == 0.0:
        return lt - lb
    return np.log(np.exp(lt) + smoothing) - np.log(np.exp(lb) + smoothing)


def per_sample(scores: TokenScores, smoothing: float = 0.0) -> pd.DataFrame:
    """One row per sample: n_tokens and the mean over its response tokens of log_ratio
    (log(p_tuned + smoothing) - log(p_base + smoothing)), kl_full and rank_shift. Empty responses
    give NaN means."""
    frame = scores.to_frame()
    frame["log_ratio"] = _log_ratio(scores.logp_tuned, scores.logp_base, smoothing)
    means = frame.groupby("sample")[["log_ratio", "kl_full", "rank_shift"]].mean()
    out = pd.DataFrame({"sample": np.arange(scores.n_samples), "n_tokens": np.diff(scores.offsets)})
    return out.join(means, on="sample")


def summarize(scores: TokenScores, semantics: Semantics = "paper") -> dict[str, float]:
    """Benchmark-level numbers; samples with no scored token are skipped.

    kl_sampled: the official code's estimate, |mean over samples of the per-sample mean log ratio|,
    each probability smoothed by ``KL_SMOOTHING[semantics]`` (official: 1e-10, paper: none).
    kl_full: mean over samples of the per-sample mean exact KL.
    rank_shift: mean over samples of the per-sample mean rank shift (the same averaging as the KL);
    rank_shift_pooled: mean over all tokens (long responses weigh more).
    """
    samples = per_sample(scores, smoothing=KL_SMOOTHING[check_semantics(semantics)]).dropna()
    return {"n_samples": len(samples), "n_tokens": int(samples.n_tokens.sum()),
            "kl_sampled": float(abs(samples.log_ratio.mean())), "kl_full": float(samples.kl_full.mean()),
            "rank_shift": float(samples.rank_shift.mean()),
            "rank_shift_pooled": float(scores.rank_shift.mean()) if len(scores.token_id) else float("nan")}


def summary_frame(scores_by: Mapping[tuple[str, str], TokenScores], semantics: Semantics = "paper") -> pd.DataFrame:
    """``{(model, benchmark): TokenScores}`` -> one summarize() row per pair."""
    return pd.DataFrame([{"model": m, "benchmark": b, **summarize(s, semantics)} for (m, b), s in scores_by.items()])


def position_profile(scores: TokenScores, n_bins: int = 10, relative: bool = True,
                     value: Literal["rank_shift", "kl_full", "log_ratio"] = "rank_shift",
                     bin_tokens: int = 256) -> pd.DataFrame:
    """Mean ``value`` along the response (Figures 15-16): ``relative`` bins are fractions of each
    response's length (bin k covers [k/n_bins, (k+1)/n_bins)); otherwise bins of ``bin_tokens``
    absolute positions. Rows: bin, bin_start, mean, n_tokens."""
    frame = scores.to_frame().assign(log_ratio=lambda d: d.logp_tuned.astype(np.float64) - d.logp_base)
    if relative:
        length = np.repeat(np.diff(scores.offsets), np.diff(scores.offsets))
        frame["bin"] = np.minimum((frame.position / np.maximum(length, 1) * n_bins).astype(int), n_bins - 1)
        start = lambda b: b / n_bins  # noqa: E731
    else:
        frame["bin"] = frame.position // bin_tokens
        start = lambda b: b * bin_tokens  # noqa: E731
    out = frame.groupby("bin")[value].agg(["mean", "size"]).rename(columns={"size": "n_tokens"}).reset_index()
    out.insert(1, "bin_start", out["bin"].map(start))
    return out


def shifted_tokens(scores: TokenScores, tokenizer: PreTrainedTokenizerBase, min_shift: int = 1,
                   direction: Literal["any", "up", "down"] = "any") -> pd.DataFrame:
    """Which token types tuning re-ranked, how often and how far (Figure 5 / Table 8).

    A token occurrence is shifted when its rank shift is >= min_shift ('up': promoted by tuning),
    <= -min_shift ('down') or either ('any'). Rows: token_id, token, n_occurrences, n_shifted,
    share_shifted, mean_shift (signed, over shifted occurrences), max_abs_shift; sorted by n_shifted.
    ``len(result)`` is the number of distinct shifted tokens (the paper's "about 15 for RL").
    """
    shift = scores.rank_shift
    hit = {"any": np.abs(shift) >= min_shift, "up": shift >= min_shift, "down": shift <= -min_shift}[direction]
    frame = pd.DataFrame({"token_id": scores.token_id, "shift": shift, "hit": hit})
    totals = frame.groupby("token_id").size().rename("n_occurrences")
    shifted = frame[frame.hit].groupby("token_id")["shift"].agg(
        n_shifted="size", mean_shift="mean", max_abs_shift=lambda s: s.abs().max())
    out = shifted.join(totals).reset_index()
    out["share_shifted"] = out.n_shifted / out.n_occurrences
    out.insert(1, "token", [tokenizer.convert_ids_to_tokens(int(i)) for i in out.token_id])
    out = out.sort_values(["n_shifted", "max_abs_shift"], ascending=False, ignore_index=True)
    return out[["token_id", "token", "n_occurrences", "n_shifted", "share_shifted", "mean_shift", "max_abs_shift"]]


def over(scores_by: Mapping[tuple[str, str], TokenScores], fn: Callable[..., pd.DataFrame], **kwargs) -> pd.DataFrame:
    """Apply a per-scores frame function to ``{(model, benchmark): TokenScores}``, with model and
    benchmark columns added, e.g. ``over(scores, position_profile, n_bins=20)``."""
    return pd.concat([fn(s, **kwargs).assign(model=m, benchmark=b) for (m, b), s in scores_by.items()],
                     ignore_index=True)
