"""Hybrid strategies: uncertainty combined with diversity, density or class balance.

* :func:`uncertainty_coreset`: the ``prefilter x batch`` most uncertain items, then k-center
  greedy among them (Sener & Savarese 2018 on an uncertainty shortlist).
* :func:`class_balanced`: the most uncertain items of each predicted class, round-robin over the
  classes, rarest in the predictions first.
* :func:`information_density`: ``phi(x) * (1/U sum_u cos(x, x_u))^beta`` (Settles & Craven 2008).
* :func:`cluster_margin`: margin shortlist, average-linkage clusters, round-robin from the
  smallest cluster (Citovsky et al. 2021, "Batch Active Learning at Scale", NeurIPS).

Each function validates its arrays once, through the strategy's ``select``.
"""

from __future__ import annotations

from typing import ClassVar, Literal, get_args

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.errors import InvalidInputError
from labelwise.strategies.base import (
    Mask,
    PoolInputs,
    Rng,
    Selection,
    Strategy,
    register_strategy,
    select_indices,
)
from labelwise.strategies.chunking import iter_chunks
from labelwise.strategies.coreset import k_center_greedy
from labelwise.strategies.topk import top_k_masked
from labelwise.strategies.uncertainty import score_rows
from labelwise.validation import check_positive_int, row_sq_norms

ScoreName = Literal["margin", "entropy", "least_confidence", "ratio"]
_ROWS = 8192


def _check_score(score: str) -> ScoreName:
    if score not in get_args(ScoreName):
        known = ", ".join(get_args(ScoreName))
        raise InvalidInputError(f"unknown uncertainty score {score!r}; known: {known}")
    return score  # type: ignore[return-value]  # one of ScoreName, checked above


def _uncertainty(inputs: PoolInputs, score: str) -> NDArray[np.float64]:
    """The uncertainty ``score`` of the checked ``inputs.proba`` (no second validation)."""
    assert inputs.proba is not None  # select() checked the declared inputs
    return score_rows(inputs.proba, _check_score(score), validate=False)


def _shortlist(scores: NDArray[np.float64], size: int, exclude: Mask) -> NDArray[np.intp]:
    """The ``size`` best selectable items (at most all of them), in pool order."""
    return np.sort(top_k_masked(scores, min(size, scores.size - int(exclude.sum())), exclude))


def _round_robin(
    group: NDArray[np.intp], scores: NDArray[np.float64], ids: NDArray[np.intp], k: int
) -> NDArray[np.intp]:
    """Positions of ``k`` items taken round-robin over groups visited in order 0, 1, ...

    Each visit takes the group's best remaining item (highest score, then lowest id).
    """
    order = np.lexsort((ids, -scores, group))
    g = group[order]
    rank = np.arange(order.size) - np.searchsorted(g, g, side="left")
    return order[np.lexsort((g, rank))[:k]]


def uncertainty_coreset(
    proba: ArrayLike,
    embeddings: ArrayLike,
    labeled_embeddings: ArrayLike | None,
    batch_size: int,
    prefilter: int = 10,
    score: ScoreName = "margin",
    rng: np.random.Generator | int | None = None,
    exclude: ArrayLike | None = None,
) -> NDArray[np.intp]:
    """k-center greedy over the ``prefilter * batch_size`` most uncertain pool items.

    Parameters
    ----------
    proba : (N, C) class probabilities; embeddings : (N, d); labeled_embeddings : (L, d).
    prefilter : shortlist size as a multiple of the batch.
    score : uncertainty score of :mod:`labelwise.strategies.uncertainty` for the shortlist.

    Returns
    -------
    (batch_size,) distinct pool indices in the order the core-set picked them.
    """
    labeled = np.empty((0, 0)) if labeled_embeddings is None else labeled_embeddings
    strategy = UncertaintyCoreset(prefilter, score)
    arrays = {"proba": proba, "embeddings": embeddings, "labeled_embeddings": labeled}
    return select_indices(strategy, batch_size, rng, exclude, **arrays)


@register_strategy
class UncertaintyCoreset(Strategy):
    """:func:`uncertainty_coreset`; scores are the core-set distances when picked."""

    name: ClassVar[str] = "uncertainty_coreset"
    needs = frozenset({"proba", "embeddings", "labeled_embeddings"})

    def __init__(self, prefilter: int = 10, score: ScoreName = "margin") -> None:
        self.prefilter = check_positive_int(prefilter, "prefilter")
        self.score = _check_score(score)

    def _select(self, inputs: PoolInputs, batch_size: int, rng: Rng, exclude: Mask) -> Selection:
        x, lab = inputs.embeddings, inputs.labeled_embeddings
        assert x is not None
        short = _shortlist(_uncertainty(inputs, self.score), self.prefilter * batch_size, exclude)
        sub, dist = k_center_greedy(x[short], lab, batch_size, rng, np.zeros(short.size, bool))
        return Selection(short[sub], dist)


def class_balanced(
    proba: ArrayLike,
    batch_size: int,
    score: ScoreName = "margin",
    rng: np.random.Generator | int | None = None,
    exclude: ArrayLike | None = None,
) -> NDArray[np.intp]:
    """The most uncertain items spread over the predicted classes.

    Classes are visited round-robin, the rarest among the predictions ``argmax_c p_ic`` of the
    selectable items first (ties to the lower class); each visit takes that class's most
    uncertain remaining item. ``rng`` is accepted for a uniform signature and unused.

    Returns
    -------
    (batch_size,) distinct pool indices in the order taken.
    """
    return select_indices(ClassBalanced(score), batch_size, rng, exclude, proba=proba)


@register_strategy
class ClassBalanced(Strategy):
    """:func:`class_balanced`; scores are the uncertainty scores."""

    name: ClassVar[str] = "class_balanced"
    needs = frozenset({"proba"})

    def __init__(self, score: ScoreName = "margin") -> None:
        self.score = _check_score(score)

    def _select(self, inputs: PoolInputs, batch_size: int, rng: Rng, exclude: Mask) -> Selection:
        p = inputs.proba
        assert p is not None
        scores = _uncertainty(inputs, self.score)
        pool = np.flatnonzero(~exclude)
        predicted = np.argmax(p[pool], axis=1)
        counts = np.bincount(predicted, minlength=p.shape[1])
        visit = np.empty(p.shape[1], dtype=np.intp)
        visit[np.lexsort((np.arange(counts.size), counts))] = np.arange(counts.size)
        chosen = pool[_round_robin(visit[predicted], scores[pool], pool, batch_size)]
        return Selection(chosen.astype(np.intp), scores[chosen])


def information_density(
    proba: ArrayLike,
    embeddings: ArrayLike,
    batch_size: int,
    beta: float = 1.0,
    score: ScoreName = "entropy",
    rng: np.random.Generator | int | None = None,
    exclude: ArrayLike | None = None,
) -> NDArray[np.intp]:
    """Top-k by information density (Settles & Craven 2008, "An Analysis of Active Learning
    Strategies for Sequence Labeling Tasks", EMNLP)::

        ID(x) = phi(x) * ( (1/U) sum_{u=1..U} cos(x, x_u) )^beta

    over the ``U`` selectable pool items. The mean of cosines is ``x_hat . mean_u(x_hat_u)``
    with ``x_hat = x / |x|``, so it costs O(N d). ``phi`` is the uncertainty ``score`` made
    non-negative (``margin`` becomes ``1 + margin = 1 - (p_1 - p_2)``); a negative mean
    similarity counts as 0, a zero embedding has similarity 0. ``rng`` is unused.

    Returns
    -------
    (batch_size,) distinct pool indices, highest density-weighted score first.
    """
    strategy = InformationDensity(beta, score)
    return select_indices(strategy, batch_size, rng, exclude, proba=proba, embeddings=embeddings)


@register_strategy
class InformationDensity(Strategy):
    """:func:`information_density`; scores are ``ID(x)``."""

    name: ClassVar[str] = "information_density"
    needs = frozenset({"proba", "embeddings"})

    def __init__(self, beta: float = 1.0, score: ScoreName = "entropy") -> None:
        if not np.isfinite(beta) or beta < 0:
            raise InvalidInputError(f"beta must be a finite number >= 0, got {beta!r}")
        self.beta = beta
        self.score = _check_score(score)

    def _select(self, inputs: PoolInputs, batch_size: int, rng: Rng, exclude: Mask) -> Selection:
        x = inputs.embeddings
        assert x is not None
        phi = _uncertainty(inputs, self.score)
        if self.score == "margin":
            phi = 1.0 + phi
        norms = np.sqrt(row_sq_norms(x))
        inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        weights = np.where(exclude, 0.0, inv)
        total = np.zeros(x.shape[1], dtype=np.float64)
        for rows in iter_chunks(x.shape[0], _ROWS):
            total += weights[rows] @ np.asarray(x[rows], dtype=np.float64)
        mean_hat = total / max(1, x.shape[0] - int(exclude.sum()))
        similarity = np.empty(x.shape[0], dtype=np.float64)
        for rows in iter_chunks(x.shape[0], _ROWS):
            similarity[rows] = (np.asarray(x[rows], dtype=np.float64) @ mean_hat) * inv[rows]
        scores = np.asarray(phi * np.maximum(similarity, 0.0) ** self.beta, dtype=np.float64)
        idx = top_k_masked(scores, batch_size, exclude)
        return Selection(idx, scores[idx])


def cluster_margin(
    proba: ArrayLike,
    embeddings: ArrayLike,
    batch_size: int,
    margin_factor: int = 10,
    n_clusters: int | None = None,
    rng: np.random.Generator | int | None = None,
    exclude: ArrayLike | None = None,
) -> NDArray[np.intp]:
    """Cluster-Margin (Citovsky et al. 2021).

    The ``margin_factor * batch_size`` smallest-margin items are clustered by average-linkage
    agglomerative clustering on Euclidean distances (:func:`scipy.cluster.hierarchy.linkage`),
    cut into at most ``n_clusters`` clusters (default ``batch_size``). Clusters are then visited
    round-robin from the smallest to the largest (ties to the cluster holding the lower index),
    each visit taking the cluster's smallest-margin remaining item. The clustering holds the
    shortlist's pairwise distances: O(m^2) memory for a shortlist of m items. ``rng`` is unused.

    Returns
    -------
    (batch_size,) distinct pool indices in the order taken.
    """
    strategy = ClusterMargin(margin_factor, n_clusters)
    return select_indices(strategy, batch_size, rng, exclude, proba=proba, embeddings=embeddings)


@register_strategy
class ClusterMargin(Strategy):
    """:func:`cluster_margin`; scores are the margin scores (higher = smaller margin)."""

    name: ClassVar[str] = "cluster_margin"
    needs = frozenset({"proba", "embeddings"})

    def __init__(self, margin_factor: int = 10, n_clusters: int | None = None) -> None:
        self.margin_factor = check_positive_int(margin_factor, "margin_factor")
        self.n_clusters = (
            None if n_clusters is None else check_positive_int(n_clusters, "n_clusters")
        )

    def _select(self, inputs: PoolInputs, batch_size: int, rng: Rng, exclude: Mask) -> Selection:
        x = inputs.embeddings
        assert x is not None
        scores = _uncertainty(inputs, "margin")
        short = _shortlist(scores, self.margin_factor * batch_size, exclude)
        m = short.size
        labels = np.zeros(1, dtype=np.intp)
        if m > 1:
            import scipy.cluster.hierarchy  # here, not at import: the server needs no SciPy

            points = np.asarray(x[short], dtype=np.float64)
            tree = scipy.cluster.hierarchy.linkage(points, method="average", metric="euclidean")
            t = min(batch_size if self.n_clusters is None else self.n_clusters, m)
            labels = scipy.cluster.hierarchy.fcluster(tree, t=t, criterion="maxclust")
            labels = np.unique(labels, return_inverse=True)[1].astype(np.intp)
        sizes = np.bincount(labels)
        lowest = np.full(sizes.size, m, dtype=np.intp)
        np.minimum.at(lowest, labels, np.arange(m))
        visit = np.empty(sizes.size, dtype=np.intp)
        visit[np.lexsort((lowest, sizes))] = np.arange(sizes.size)
        chosen = short[_round_robin(visit[labels], scores[short], short, batch_size)]
        return Selection(chosen.astype(np.intp), scores[chosen])
