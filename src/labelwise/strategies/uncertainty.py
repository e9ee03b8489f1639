"""Uncertainty sampling over class probabilities (Lewis & Gale 1994; Settles 2009, sec. 3.1).

Each function maps ``proba`` of shape (N, C) to N scores, higher = more informative.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.strategies._validation import check_proba
from labelwise.strategies.base import ScoringStrategy, register_strategy


def _top_two(p: NDArray[np.floating]) -> tuple[NDArray[np.floating], NDArray[np.floating]]:
    """The largest and second-largest probability of each row."""
    if p.shape[1] == 2:
        return p.max(axis=1), p.min(axis=1)
    part = np.partition(p, p.shape[1] - 2, axis=1)
    return part[:, -1], part[:, -2]


def least_confidence(proba: ArrayLike) -> NDArray[np.float64]:
    """``1 - max_c p(c|x)``: how far the most likely class is from certain.

    >>> least_confidence([[0.5, 0.5], [1.0, 0.0]]).tolist()
    [0.5, 0.0]
    """
    p = check_proba(proba)
    return 1.0 - p.max(axis=1).astype(np.float64)


def margin(proba: ArrayLike) -> NDArray[np.float64]:
    """``-(p_1 - p_2)``, the negated gap between the two most likely classes (Scheffer 2001).

    Higher (a smaller gap) = more informative; the range is [-1, 0].
    """
    p = check_proba(proba)
    first, second = _top_two(p)
    return (second - first).astype(np.float64)


def ratio(proba: ArrayLike) -> NDArray[np.float64]:
    """``p_2 / p_1``, the ratio of the second to the most likely class probability, in [0, 1]."""
    p = check_proba(proba)
    first, second = _top_two(p)
    return (second / np.maximum(first, np.finfo(first.dtype).tiny)).astype(np.float64)


def entropy(proba: ArrayLike) -> NDArray[np.float64]:
    """Shannon entropy ``H[p] = -sum_c p_c log p_c`` in nats (0 log 0 = 0); uniform gives log C.

    >>> round(float(entropy([[0.25, 0.25, 0.25, 0.25]])[0]), 6)
    1.386294
    """
    p = check_proba(proba)
    return _entropy_unchecked(p)


def _entropy_unchecked(p: NDArray[np.floating]) -> NDArray[np.float64]:
    logp = np.log(np.where(p > 0, p, 1))
    return -np.einsum("ij,ij->i", p, logp, dtype=np.float64)


@register_strategy
class LeastConfidence(ScoringStrategy):
    """Top-k by :func:`least_confidence`."""

    name: ClassVar[str] = "least_confidence"
    input_name = "proba"
    score_fn = staticmethod(least_confidence)


@register_strategy
class Margin(ScoringStrategy):
    """Top-k by :func:`margin` (smallest gap between the two most likely classes)."""

    name: ClassVar[str] = "margin"
    input_name = "proba"
    score_fn = staticmethod(margin)


@register_strategy
class Ratio(ScoringStrategy):
    """Top-k by :func:`ratio`."""

    name: ClassVar[str] = "ratio"
    input_name = "proba"
    score_fn = staticmethod(ratio)


@register_strategy
class Entropy(ScoringStrategy):
    """Top-k by :func:`entropy` (max entropy)."""

    name: ClassVar[str] = "entropy"
    input_name = "proba"
    score_fn = staticmethod(entropy)
