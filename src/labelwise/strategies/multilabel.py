"""Acquisition for multi-label classification: each item may carry any subset of Q labels.

Inputs (see :class:`~labelwise.strategies.PoolInputs`): ``label_proba`` (N, Q), the probability
that each label applies (binary relevance: one sigmoid or one binary classifier per label; rows
need not sum to one), and ``labeled_label_sets`` (L, Q), the labeled set's 0/1 indicator rows.
Throughout, ``f_q = 2 p_q - 1`` in [-1, 1] stands for a label's decision value and a label is
predicted where ``p_q >= 0.5``. Every score is higher = label sooner.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.errors import InvalidInputError
from labelwise.strategies.base import (
    PoolInputs,
    Selection,
    Strategy,
    register_strategy,
    scoring_strategy,
)
from labelwise.strategies.target_validation import check_label_proba, check_label_sets
from labelwise.strategies.topk import top_k_masked

FloatArray = NDArray[np.float64]
Aggregate = Literal["mean", "max", "min"]

#: Separation below which the max-margin uncertainty is capped (two labels at p = 0.5).
MIN_SEPARATION = 1e-12


def binary_relevance_uncertainty(
    label_proba: ArrayLike, aggregate: Aggregate = "mean"
) -> FloatArray:
    """One minus the aggregated per-label margin ``m_q = |2 p_q - 1|``.

    Binary relevance treats each label as its own binary task, whose margin uncertainty is
    ``1 - m_q`` (1 at ``p_q = 0.5``); the labels' margins are aggregated (Esuli & Sebastiani,
    "Active Learning Strategies for Multi-Label Text Classification", ECIR 2009, "AVG" and
    "MAX"/"MIN" aggregation; Brinker, "On Active Learning in Multi-label Classification", 2006,
    BinMin = ``min``)::

        mean: 1 - (1/Q) sum_q m_q     every label's doubt counts
        min:  1 - min_q m_q           the most doubtful label decides (BinMin)
        max:  1 - max_q m_q           high only when every label is in doubt

    Parameters
    ----------
    label_proba : (N, Q) probability of each label.
    aggregate : ``"mean"``, ``"min"`` or ``"max"`` over the labels' margins.

    Examples
    --------
    >>> binary_relevance_uncertainty([[0.5, 1.0]], "min").tolist()
    [1.0]
    >>> binary_relevance_uncertainty([[0.5, 1.0]], "max").tolist()
    [0.0]
    """
    p = check_label_proba(label_proba)
    margins = np.abs(2.0 * p.astype(np.float64) - 1.0)
    if aggregate == "mean":
        agg = margins.mean(axis=1)
    elif aggregate == "min":
        agg = margins.min(axis=1)
    elif aggregate == "max":
        agg = margins.max(axis=1)
    else:
        raise InvalidInputError(f"aggregate must be 'mean', 'min' or 'max', got {aggregate!r}")
    return np.asarray(1.0 - agg, dtype=np.float64)


def predicted_label_sets(p: NDArray[np.floating]) -> NDArray[np.bool_]:
    """The labels predicted for each item: those with ``p_q >= 0.5``."""
    return np.asarray(p >= 0.5)


def mmc(label_proba: ArrayLike, n_labels: ArrayLike | None = None) -> FloatArray:
    """Maximum loss reduction with maximal confidence (Yang, Sun, Wang, Chen & Zhou, "Effective
    Multi-Label Active Learning for Text Classification", KDD 2009, eq. 9).

    The predicted label vector ``y_q = +1`` for the ``k`` most probable labels and ``-1`` for the
    rest; the expected loss reduction of labeling the item is approximated by::

        MMC(x) = sum_q (1 - y_q f_q(x)) / 2,    f_q = 2 p_q - 1

    Yang et al. predict ``k`` with a logistic regression on the sorted probabilities; here
    ``n_labels`` gives it per item, and by default ``k`` is the number of labels with
    ``p_q >= 0.5`` (at least one).

    Parameters
    ----------
    label_proba : (N, Q) probability of each label.
    n_labels : (N,) number of labels each item is predicted to carry, in [1, Q].

    Examples
    --------
    >>> mmc([[0.9, 0.1], [0.6, 0.4]]).round(6).tolist()
    [0.2, 0.8]
    """
    p = check_label_proba(label_proba).astype(np.float64)
    n_items, q = p.shape
    if n_labels is None:
        k = np.maximum(predicted_label_sets(p).sum(axis=1), 1)
    else:
        k = np.asarray(n_labels)
        if k.shape != (n_items,) or k.dtype.kind not in "iu" or (k.size and k.min() < 1):
            raise InvalidInputError(f"n_labels must be {n_items} integers >= 1, got {k!r}")
        k = np.minimum(k, q)
    ranks = np.argsort(np.argsort(-p, axis=1, kind="stable"), axis=1, kind="stable")
    signs = np.where(ranks < k[:, None], 1.0, -1.0)
    return np.asarray(((1.0 - signs * (2.0 * p - 1.0)) / 2.0).sum(axis=1), dtype=np.float64)


def label_cardinality_inconsistency(
    label_proba: ArrayLike, labeled_label_sets: ArrayLike
) -> FloatArray:
    """``|sum_q [p_q >= 0.5] - (1/L) sum_i sum_q y_iq|``: how far the number of labels predicted
    for an item lies from the labeled set's mean label cardinality (Li & Guo, "Active Learning
    with Multi-Label SVM Classification", IJCAI 2013, eq. 5). 0 labeled items: cardinality 0."""
    p = check_label_proba(label_proba)
    sets = check_label_sets(labeled_label_sets)
    _check_widths(p, sets)
    return _lci(p, sets)


def _lci(p: NDArray[np.floating], sets: NDArray[np.floating]) -> FloatArray:
    mean_cardinality = float(sets.sum(axis=1).mean()) if sets.shape[0] else 0.0
    counts = predicted_label_sets(p).sum(axis=1)
    return np.asarray(np.abs(counts - mean_cardinality), dtype=np.float64)


def max_margin_uncertainty(label_proba: ArrayLike) -> FloatArray:
    """``1 / (min_{q in Y+} f_q - max_{q in Y-} f_q)``: the inverse separation between the
    predicted positive labels ``Y+`` (``p_q >= 0.5``) and negative ones ``Y-`` (Li & Guo 2013,
    eq. 4). Where one side is empty the threshold ``f = 0`` stands in for it; the separation is
    floored at :data:`MIN_SEPARATION`."""
    return _max_margin(check_label_proba(label_proba))


def _max_margin(p: NDArray[np.floating]) -> FloatArray:
    f = 2.0 * p.astype(np.float64) - 1.0
    positive = predicted_label_sets(p)
    lowest_positive = np.where(positive, f, np.inf).min(axis=1)
    highest_negative = np.where(positive, -np.inf, f).max(axis=1)
    lowest_positive = np.where(np.isinf(lowest_positive), 0.0, lowest_positive)
    highest_negative = np.where(np.isinf(highest_negative), 0.0, highest_negative)
    separation = np.maximum(lowest_positive - highest_negative, MIN_SEPARATION)
    return np.asarray(1.0 / separation, dtype=np.float64)


def adaptive(
    label_proba: ArrayLike, labeled_label_sets: ArrayLike, beta: float = 0.5
) -> FloatArray:
    """Li & Guo's adaptive score ``u(x)^beta c(x)^(1 - beta)`` (IJCAI 2013, eq. 6).

    ``u`` is :func:`max_margin_uncertainty`, ``c`` :func:`label_cardinality_inconsistency`.
    Li & Guo choose ``beta`` in {0, 0.1, ..., 1} each round by an estimate of the generalization
    error; here ``beta`` is fixed by the caller (0.5 weighs both alike).
    """
    if not 0.0 <= beta <= 1.0:
        raise InvalidInputError(f"beta must lie in [0, 1], got {beta!r}")
    p = check_label_proba(label_proba)
    sets = check_label_sets(labeled_label_sets)
    _check_widths(p, sets)
    return _adaptive(p, sets, beta)


def _adaptive(p: NDArray[np.floating], sets: NDArray[np.floating], beta: float) -> FloatArray:
    with np.errstate(over="ignore"):
        score = _max_margin(p) ** beta * _lci(p, sets) ** (1.0 - beta)
    return np.asarray(np.minimum(score, np.finfo(np.float64).max), dtype=np.float64)


def _check_widths(p: NDArray[np.floating], sets: NDArray[np.floating]) -> None:
    if sets.shape[0] and sets.shape[1] != p.shape[1]:
        raise InvalidInputError(
            f"labeled_label_sets has {sets.shape[1]} labels but label_proba has {p.shape[1]}"
        )


def _aggregated(how: Aggregate) -> Callable[[ArrayLike], FloatArray]:
    def score(label_proba: ArrayLike) -> FloatArray:
        return binary_relevance_uncertainty(label_proba, how)

    score.__name__ = f"binary_relevance_{how}"
    return score


MeanMargin = scoring_strategy(
    "MeanMargin",
    "multilabel_mean_margin",
    "label_proba",
    _aggregated("mean"),
    doc="Binary relevance, mean of the labels' margins (:func:`binary_relevance_uncertainty`).",
)
MinMargin = scoring_strategy(
    "MinMargin",
    "multilabel_min_margin",
    "label_proba",
    _aggregated("min"),
    doc="Binary relevance, the smallest label margin decides (Brinker 2006's BinMin).",
)
MaxMargin = scoring_strategy(
    "MaxMargin",
    "multilabel_max_margin",
    "label_proba",
    _aggregated("max"),
    doc="Binary relevance, the largest label margin decides (every label in doubt).",
)
MaximalConfidence = scoring_strategy(
    "MaximalConfidence",
    "mmc",
    "label_proba",
    mmc,
    doc="MMC (Yang et al. 2009): top-k by :func:`mmc`.",
)


class _LabeledSetStrategy(Strategy):
    """Top-k of a score of the pool's marginals and the labeled set's label sets."""

    needs = frozenset({"label_proba", "labeled_label_sets"})

    def _scores(self, p: NDArray[np.floating], sets: NDArray[np.floating]) -> FloatArray:
        raise NotImplementedError

    def _select(
        self,
        inputs: PoolInputs,
        batch_size: int,
        rng: np.random.Generator,
        exclude: NDArray[np.bool_],
    ) -> Selection:
        p, sets = inputs.label_proba, inputs.labeled_label_sets
        assert p is not None and sets is not None  # checked by select()
        scores = self._scores(p, sets)
        indices = top_k_masked(scores, batch_size, exclude)
        return Selection(indices, scores[indices], scores)


@register_strategy
class LabelCardinalityInconsistency(_LabeledSetStrategy):
    """Top-k by :func:`label_cardinality_inconsistency` (Li & Guo 2013)."""

    name: ClassVar[str] = "label_cardinality"

    def _scores(self, p: NDArray[np.floating], sets: NDArray[np.floating]) -> FloatArray:
        return _lci(p, sets)


@register_strategy
class Adaptive(_LabeledSetStrategy):
    """Li & Guo's adaptive strategy (IJCAI 2013): top-k by :func:`adaptive`.

    Parameters
    ----------
    beta : weight of the max-margin uncertainty against the label-cardinality inconsistency.
    """

    name: ClassVar[str] = "multilabel_adaptive"

    def __init__(self, beta: float = 0.5) -> None:
        if not 0.0 <= beta <= 1.0:
            raise InvalidInputError(f"beta must lie in [0, 1], got {beta!r}")
        self.beta = beta

    def _scores(self, p: NDArray[np.floating], sets: NDArray[np.floating]) -> FloatArray:
        return _adaptive(p, sets, self.beta)
