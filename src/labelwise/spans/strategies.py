"""Sequence acquisition scores: pure functions over per-token marginals, one score per sequence.

Inputs, as a sequence model gives them:

- ``marginals``: a list of N arrays, the i-th of shape ``(T_i, K)``, ``m[t, k] = P(y_t = k | x)``
  (a CRF's forward-backward marginals, a token classifier's softmax). ``T_i`` may be 0.
- ``path_log_proba``: ``(N,)`` log-probability of each sequence's best path ``log P(y* | x)``.
  A CRF gives it exactly (:meth:`~labelwise.spans.crf.CRFTagger.best_path`). It is *not* the
  product of the per-token maximum marginals: the tokens of a CRF are dependent, so that product
  belongs to a path that may not be the CRF's best, and its value is not that path's CRF
  probability. :func:`independent_path_log_proba` is the exact value only for a model whose
  tokens are independent given ``x`` (a softmax token classifier).
- ``samples``: a list of N arrays ``(S, T_i, K)``: S stochastic forward passes (MC Dropout) or
  ensemble members.

Every score is higher = more informative. Empty sequences score 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.errors import InvalidInputError

__all__ = [
    "Reduce",
    "WindowChoice",
    "check_marginals",
    "independent_path_log_proba",
    "least_confidence_path",
    "mnlp",
    "sequence_bald",
    "token_entropies",
    "token_entropy",
    "uncertain_windows",
]

Reduce = Literal["sum", "mean", "max"]
_ATOL = 1e-4


def check_marginals(
    marginals: Sequence[ArrayLike], name: str = "marginals", ndim: int = 2
) -> list[NDArray[np.float64]]:
    """Validate per-token probability arrays: finite, in [0, 1], each token's row summing to 1.

    ``ndim`` is 2 for marginals ``(T, K)`` and 3 for samples ``(S, T, K)``.
    """
    if isinstance(marginals, np.ndarray) and marginals.dtype != object:
        raise InvalidInputError(
            f"{name} must be a list of per-sequence arrays (sequences differ in length), "
            f"got one array of shape {marginals.shape}"
        )
    checked: list[NDArray[np.float64]] = []
    for i, m in enumerate(marginals):
        a = np.asarray(m, dtype=np.float64)
        if a.ndim != ndim:
            raise InvalidInputError(f"{name}[{i}] must have {ndim} dimensions, got {a.shape}")
        if a.size and a.shape[-1] < 1:
            raise InvalidInputError(f"{name}[{i}] has no label columns: {a.shape}")
        if a.size:
            if not np.all(np.isfinite(a)):
                raise InvalidInputError(f"{name}[{i}] holds NaN or infinite values")
            if a.min() < -_ATOL or a.max() > 1 + _ATOL:
                raise InvalidInputError(f"{name}[{i}] holds values outside [0, 1]")
            if not np.allclose(a.sum(axis=-1), 1.0, atol=_ATOL):
                raise InvalidInputError(
                    f"{name}[{i}]: each token's probabilities must sum to 1 over the labels"
                )
        checked.append(np.clip(a, 0.0, 1.0))
    return checked


def _entropy(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """Shannon entropy (nats) over the last axis, with 0 log 0 = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(p), 0.0)
    return np.asarray(-terms.sum(axis=-1), dtype=np.float64)


def _reduce(values: NDArray[np.float64], reduce: Reduce) -> float:
    if values.size == 0:
        return 0.0
    if reduce == "sum":
        return float(values.sum())
    if reduce == "mean":
        return float(values.mean())
    if reduce == "max":
        return float(values.max())
    raise InvalidInputError(f"unknown reduce {reduce!r}; use 'sum', 'mean' or 'max'")


def token_entropies(marginals: Sequence[ArrayLike]) -> list[NDArray[np.float64]]:
    """Each token's entropy ``H_t = -sum_k m[t, k] log m[t, k]``, one ``(T_i,)`` array per
    sequence."""
    return [_entropy(m) for m in check_marginals(marginals)]


def token_entropy(marginals: Sequence[ArrayLike], reduce: Reduce = "sum") -> NDArray[np.float64]:
    """Token entropy of each sequence (Settles & Craven, EMNLP 2008): ``sum_t H_t``, its mean
    over tokens, or its maximum.

    ``sum`` prefers long sequences (more to learn, more to label); ``mean`` removes the length;
    ``max`` looks for the one most doubtful token.
    """
    return np.array([_reduce(h, reduce) for h in token_entropies(marginals)], dtype=np.float64)


def independent_path_log_proba(marginals: Sequence[ArrayLike]) -> NDArray[np.float64]:
    """``log P(y* | x) = sum_t log max_k m[t, k]``: exact when tokens are independent given x.

    Use it for a softmax token classifier; for a CRF use the CRF's own path probability.
    """
    out = []
    for m in check_marginals(marginals):
        best = m.max(axis=1) if m.size else np.ones(0)
        out.append(float(np.log(np.maximum(best, np.finfo(np.float64).tiny)).sum()))
    return np.array(out, dtype=np.float64)


def _check_log_proba(path_log_proba: ArrayLike) -> NDArray[np.float64]:
    lp = np.asarray(path_log_proba, dtype=np.float64)
    if lp.ndim != 1:
        raise InvalidInputError(f"path_log_proba must be one value per sequence, got {lp.shape}")
    if np.any(np.isnan(lp)) or np.any(lp > 1e-9):
        raise InvalidInputError("path_log_proba must be log-probabilities: <= 0 and not NaN")
    return np.minimum(lp, 0.0)


def least_confidence_path(path_log_proba: ArrayLike) -> NDArray[np.float64]:
    """Least confidence of the best path, ``1 - P(y* | x)`` (Culotta & McCallum, AAAI 2005).

    Prefers long sequences, whose best path is improbable for their length alone.
    """
    return np.asarray(-np.expm1(_check_log_proba(path_log_proba)), dtype=np.float64)


def mnlp(path_log_proba: ArrayLike, lengths: ArrayLike) -> NDArray[np.float64]:
    """Maximum normalized log-probability (Shen et al., ICLR 2018 / arXiv 2017), as a score:
    ``-(1 / T) log P(y* | x)``. Shen et al. select the lowest ``(1/T) max_y log P(y | x)``;
    its negation ranks the same, higher = more informative, free of least confidence's pull
    towards long sequences.
    """
    lp = _check_log_proba(path_log_proba)
    t = np.asarray(lengths, dtype=np.float64)
    if t.shape != lp.shape or np.any(t < 0):
        raise InvalidInputError(f"lengths must be {lp.shape[0]} non-negative sequence lengths")
    return np.where(t > 0, -lp / np.maximum(t, 1.0), 0.0)


def sequence_bald(samples: Sequence[ArrayLike], reduce: Reduce = "sum") -> NDArray[np.float64]:
    """BALD per token, reduced over the sequence (Houlsby et al. 2011; Siddhant & Lipton,
    EMNLP 2018 for sequences): ``I_t = H[E_s p_s(y_t)] - E_s H[p_s(y_t)]``, then sum, mean or
    max over ``t``. ``samples[i]`` has shape ``(S, T_i, K)``.
    """
    out = []
    for s in check_marginals(samples, "samples", ndim=3):
        if s.shape[1] == 0:
            out.append(0.0)
            continue
        mutual = _entropy(s.mean(axis=0)) - _entropy(s).mean(axis=0)
        out.append(_reduce(np.maximum(mutual, 0.0), reduce))
    return np.array(out, dtype=np.float64)


@dataclass(frozen=True)
class WindowChoice:
    """A stretch of a long document to ask about: tokens ``[start, end)`` of ``document``."""

    document: int
    start: int
    end: int
    score: float


def uncertain_windows(
    marginals: Sequence[ArrayLike],
    n_windows: int,
    window: int = 16,
    stride: int | None = None,
    reduce: Reduce = "sum",
) -> list[WindowChoice]:
    """The ``n_windows`` most uncertain, non-overlapping token windows across documents.

    Span-level selection for long documents: an annotator reads and corrects a window of
    ``window`` tokens (starting every ``stride`` tokens, default ``window // 2``; a document
    shorter than a window is one window), not the whole document. A window's score is the
    token entropy of its tokens reduced by ``reduce``. Windows are taken greedily by score
    (ties: earlier document, earlier start) skipping any that overlaps one already taken.
    """
    if window < 1 or (stride is not None and stride < 1) or n_windows < 0:
        raise InvalidInputError("window and stride must be >= 1 and n_windows >= 0")
    step = stride or max(window // 2, 1)
    candidates: list[WindowChoice] = []
    for d, h in enumerate(token_entropies(marginals)):
        n = h.size
        if n == 0:
            continue
        starts = list(range(0, max(n - window, 0) + 1, step))
        if starts[-1] + window < n:
            starts.append(n - window)  # cover the tail
        for s in starts:
            e = min(s + window, n)
            candidates.append(WindowChoice(d, s, e, _reduce(h[s:e], reduce)))
    candidates.sort(key=lambda c: (-c.score, c.document, c.start))
    chosen: list[WindowChoice] = []
    taken: dict[int, list[tuple[int, int]]] = {}
    for c in candidates:
        if len(chosen) == n_windows:
            break
        if any(c.start < e and s < c.end for s, e in taken.get(c.document, [])):
            continue
        chosen.append(c)
        taken.setdefault(c.document, []).append((c.start, c.end))
    return chosen
