"""Two named semantics for the latent (d*) and token (KL, rank shift) analyses.

``official`` reproduces the authors' released scripts (analyse_PCA_Shift/analyse_PCA_Shift.py,
analysis_token_distribution_shift/calculate_logits_and_ranks_token_level.py and calculate_KL.py):
hidden states of ONE left-padded tokenizer call over all texts of a task, averaged over the
sequence pads included; prompt + response tokenized as one string, the first response token
dropped by the scripts' index arithmetic, probabilities smoothed by 1e-10 before the log ratio.

``paper`` is the paper's text as we read it: a mean over real tokens only (batch composition does
not matter), every response token scored, no smoothing.

The PCA sign convention (``latent.Sign``) is a separate choice: neither the paper nor its code says
which scikit-learn version fixed it.
"""

from __future__ import annotations

from mathxfer.analysis.hidden import HiddenConfig, Pooling
from mathxfer.analysis.semantics_names import (KL_SMOOTHING, SEMANTICS, Semantics, check_semantics,
                                               other_semantics)
from mathxfer.analysis.tokens import ScoreConfig

__all__ = ["KL_SMOOTHING", "SEMANTICS", "Semantics", "check_semantics", "hidden_config", "other_semantics",
           "score_config"]

_CHUNK_TEXTS = 256  # texts per resumable chunk for batched (paper) extraction


def hidden_config(semantics: Semantics, *, layers: tuple[int, ...] | None = None, max_tokens: int = 128,
                  pooling: Pooling | None = None, batch_size: int = 8) -> HiddenConfig:
    """How to extract features under ``semantics``; ``pooling``, when given, overrides its pooling.

    official: pad-inclusive mean over one padded batch of all texts given (``batch_size`` unused);
    paper: masked mean in batches of ``batch_size``. Both store float32, as the script's features are.
    """
    if check_semantics(semantics) == "official":
        return HiddenConfig(layers=layers, pooling=pooling or "mean_with_pad", max_tokens=max_tokens,
                            batch_size=None, storage_dtype="float32")
    if batch_size < 1:
        raise ValueError(f"batch_size={batch_size}; use a positive number of texts per forward pass")
    return HiddenConfig(layers=layers, pooling=pooling or "masked_mean", max_tokens=max_tokens,
                        batch_size=batch_size, chunk_size=batch_size * max(1, _CHUNK_TEXTS // batch_size),
                        storage_dtype="float32")


def score_config(semantics: Semantics, *, max_response_tokens: int | None = None, add_special_tokens: bool = True,
                 batch_size: int = 4) -> ScoreConfig:
    """How to score responses under ``semantics`` (which tokens are scored; see ``tokens``)."""
    return ScoreConfig(batch_size=batch_size, add_special_tokens=add_special_tokens,
                       max_response_tokens=max_response_tokens, semantics=check_semantics(semantics))
