"""Hybrid strategies: uncertainty combined with diversity, density or class balance.

* :func:`uncertainty_coreset`: the ``prefilter x batch`` most uncertain items, then k-center
  greedy among them (Sener & Savarese 2018 on an uncertainty shortlist).
* :func:`class_balanced`: the most uncertain items of each predicted class, round-robin over the
  classes, rarest in the predictions first.
* :func:`information_density`: ``phi(x) * (1/U sum_u cos(x, x_u))^beta`` (Settles & Craven 2008).
* :func:`cluster_margin`: margin shortlist, average-linkage clusters, round-robin from the
  smallest cluster (Citovsky et al. 2021, "Batch Active Learning at Scale", NeurIPS).
"""

from __future__ import annotations

from typing import ClassVar, Literal, get_args

import numpy as np
import scipy.cluster.hierarchy
from numpy.typing import ArrayLike, NDArray

from labelwise.errors import InvalidInputError
from labelwise.strategies.base import PoolInputs, Selection, Strategy, register_strategy
from labelwise.strategies.chunking import iter_chunks
from labelwise.strategies.coreset import check_embedding_pair, k_center_greedy
from labelwise.strategies.topk import top_k_masked
from labelwise.strategies.uncertainty import score_rows
from labelwise.strategies.validation import (
    check_batch_size,
    check_exclude,
    check_matrix_with_norms,
    check_proba,
    check_rng,
    row_sq_norms,
)

ScoreName = Literal["margin", "entropy", "least_confidence", "ratio"]
_ROWS = 8192


def _check_score(score: str) -> ScoreName:
    if score not in get_args(ScoreName):
        known = ", ".join(get_args(ScoreName))
        raise InvalidInputError(f"unknown uncertainty score {score!r}; known: {known}")
    return score  # type: ignore[return-value]  # one of ScoreName, checked above


def _uncertainty(proba: NDArray[np.floating], score: str) -> NDArray[np.float64]:
    """The uncertainty ``score`` of checked probabilities (no second validation)."""
    return score_rows(proba, _check_score(score), validate=False)


def _check_pair(
    proba: ArrayLike, embeddings: ArrayLike, exclude: ArrayLike | None, batch_size: int
) -> tuple[NDArray[np.floating], NDArray[np.floating], NDArray[np.bool_], int]:
    """The pure functions' entry: checked proba, embeddings (one row each), mask, batch size."""
    p = check_proba(proba)
    x, _ = check_matrix_with_norms(embeddings, "embeddings")
    _check_rows(p.shape[0], x)
    mask = check_exclude(exclude, x.shape[0])
    return p, x, mask, check_batch_size(batch_size, x.shape[0] - int(mask.sum()))


def _positive_int(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise InvalidInputError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _check_rows(n_proba: int, x: NDArray[np.floating]) -> None:
    if x.shape[0] != n_proba:
        raise InvalidInputError(
            f"proba has {n_proba} rows but embeddings has {x.shape[0]}: one per pool item"
        )


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


# --- uncertainty then core-set -------------------------------------------------------------


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
    p, x, mask, k = _check_pair(proba, embeddings, exclude, batch_size)
    x, lab = check_embedding_pair(x, labeled_embeddings)
    prefilter = _positive_int(prefilter, "prefilter")
    score = _check_score(score)
    idx, _ = _uncertainty_coreset(p, x, lab, k, prefilter, score, check_rng(rng), mask)
    return idx


def _uncertainty_coreset(
    proba: NDArray[np.floating],
    x: NDArray[np.floating],
    labeled: NDArray[np.floating],
    k: int,
    prefilter: int,
    score: str,
    rng: np.random.Generator,
    mask: NDArray[np.bool_],
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    scores = _uncertainty(proba, score)
    m = min(prefilter * k, x.shape[0] - int(mask.sum()))
    shortlist = np.sort(top_k_masked(scores, m, mask))
    sub, dist = k_center_greedy(x[shortlist], labeled, k, rng, np.zeros(m, dtype=bool))
    return shortlist[sub], dist


@register_strategy
class UncertaintyCoreset(Strategy):
    """:func:`uncertainty_coreset`; scores are the core-set distances when picked."""

    name: ClassVar[str] = "uncertainty_coreset"
    needs = frozenset({"proba", "embeddings", "labeled_embeddings"})

    def __init__(self, prefilter: int = 10, score: ScoreName = "margin") -> None:
        self.prefilter = _positive_int(prefilter, "prefilter")
        self.score = _check_score(score)

    def _select(
        self,
        inputs: PoolInputs,
        batch_size: int,
        rng: np.random.Generator,
        exclude: NDArray[np.bool_],
    ) -> Selection:
        p, x, lab = inputs.proba, inputs.embeddings, inputs.labeled_embeddings
        assert p is not None and x is not None  # select() checked the declared inputs
        if lab is None:
            lab = np.empty((0, x.shape[1]), dtype=x.dtype)
        idx, dist = _uncertainty_coreset(
            p, x, lab, batch_size, self.prefilter, self.score, rng, exclude
        )
        return Selection(idx, dist)


# --- class-balanced uncertainty ------------------------------------------------------------


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
    p = check_proba(proba)
    mask = check_exclude(exclude, p.shape[0])
    k = check_batch_size(batch_size, p.shape[0] - int(mask.sum()))
    idx, _ = _class_balanced(p, k, _check_score(score), mask)
    return idx


def _class_balanced(
    p: NDArray[np.floating], k: int, score: str, mask: NDArray[np.bool_]
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    scores = _uncertainty(p, score)
    pool = np.flatnonzero(~mask)
    predicted = np.argmax(p[pool], axis=1)
    counts = np.bincount(predicted, minlength=p.shape[1])
    visit = np.empty(p.shape[1], dtype=np.intp)
    visit[np.lexsort((np.arange(counts.size), counts))] = np.arange(counts.size)
    chosen = pool[_round_robin(visit[predicted], scores[pool], pool, k)]
    return chosen.astype(np.intp), scores[chosen]


@register_strategy
class ClassBalanced(Strategy):
    """:func:`class_balanced`; scores are the uncertainty scores."""

    name: ClassVar[str] = "class_balanced"
    needs = frozenset({"proba"})

    def __init__(self, score: ScoreName = "margin") -> None:
        self.score = _check_score(score)

    def _select(
        self,
        inputs: PoolInputs,
        batch_size: int,
        rng: np.random.Generator,
        exclude: NDArray[np.bool_],
    ) -> Selection:
        assert inputs.proba is not None
        return Selection(*_class_balanced(inputs.proba, batch_size, self.score, exclude))


# --- information density -------------------------------------------------------------------


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
    p, x, mask, k = _check_pair(proba, embeddings, exclude, batch_size)
    idx, _ = _information_density(p, x, k, _check_beta(beta), _check_score(score), mask)
    return idx


def density_scores(
    proba: ArrayLike,
    embeddings: ArrayLike,
    beta: float = 1.0,
    score: ScoreName = "entropy",
    exclude: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """``ID(x)`` of every pool item (see :func:`information_density`)."""
    p = check_proba(proba)
    x, _ = check_matrix_with_norms(embeddings, "embeddings")
    _check_rows(p.shape[0], x)
    mask = check_exclude(exclude, x.shape[0])
    return _density_scores(p, x, _check_beta(beta), _check_score(score), mask)


def _check_beta(beta: float) -> float:
    if not np.isfinite(beta) or beta < 0:
        raise InvalidInputError(f"beta must be a finite number >= 0, got {beta!r}")
    return float(beta)


def _density_scores(
    proba: NDArray[np.floating],
    x: NDArray[np.floating],
    beta: float,
    score: str,
    mask: NDArray[np.bool_],
) -> NDArray[np.float64]:
    phi = _uncertainty(proba, score)
    if score == "margin":
        phi = 1.0 + phi
    norms = np.sqrt(row_sq_norms(x))
    inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    weights = np.where(mask, 0.0, inv)
    total = np.zeros(x.shape[1], dtype=np.float64)
    for rows in iter_chunks(x.shape[0], _ROWS):
        total += weights[rows] @ np.asarray(x[rows], dtype=np.float64)
    mean_hat = total / max(1, x.shape[0] - int(mask.sum()))
    similarity = np.empty(x.shape[0], dtype=np.float64)
    for rows in iter_chunks(x.shape[0], _ROWS):
        similarity[rows] = (np.asarray(x[rows], dtype=np.float64) @ mean_hat) * inv[rows]
    return np.asarray(phi * np.maximum(similarity, 0.0) ** beta, dtype=np.float64)


def _information_density(
    proba: NDArray[np.floating],
    x: NDArray[np.floating],
    k: int,
    beta: float,
    score: str,
    mask: NDArray[np.bool_],
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    scores = _density_scores(proba, x, beta, score, mask)
    idx = top_k_masked(scores, k, mask)
    return idx, scores[idx]


@register_strategy
class InformationDensity(Strategy):
    """:func:`information_density`; scores are ``ID(x)``."""

    name: ClassVar[str] = "information_density"
    needs = frozenset({"proba", "embeddings"})

    def __init__(self, beta: float = 1.0, score: ScoreName = "entropy") -> None:
        _check_beta(beta)
        self.beta = beta
        self.score = _check_score(score)

    def _select(
        self,
        inputs: PoolInputs,
        batch_size: int,
        rng: np.random.Generator,
        exclude: NDArray[np.bool_],
    ) -> Selection:
        assert inputs.proba is not None and inputs.embeddings is not None
        return Selection(
            *_information_density(
                inputs.proba, inputs.embeddings, batch_size, self.beta, self.score, exclude
            )
        )


# --- cluster-margin ------------------------------------------------------------------------


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
    p, x, mask, k = _check_pair(proba, embeddings, exclude, batch_size)
    factor = _positive_int(margin_factor, "margin_factor")
    t = k if n_clusters is None else _positive_int(n_clusters, "n_clusters")
    idx, _ = _cluster_margin(p, x, k, factor, t, mask)
    return idx


def _cluster_margin(
    proba: NDArray[np.floating],
    x: NDArray[np.floating],
    k: int,
    margin_factor: int,
    t: int,
    mask: NDArray[np.bool_],
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    scores = _uncertainty(proba, "margin")
    m = min(margin_factor * k, x.shape[0] - int(mask.sum()))
    shortlist = np.sort(top_k_masked(scores, m, mask))
    if m == 1:
        labels = np.zeros(1, dtype=np.intp)
    else:
        tree = scipy.cluster.hierarchy.linkage(
            np.asarray(x[shortlist], dtype=np.float64), method="average", metric="euclidean"
        )
        labels = scipy.cluster.hierarchy.fcluster(tree, t=min(t, m), criterion="maxclust")
        labels = np.unique(labels, return_inverse=True)[1].astype(np.intp)
    sizes = np.bincount(labels)
    lowest = np.full(sizes.size, m, dtype=np.intp)
    np.minimum.at(lowest, labels, np.arange(m))
    visit = np.empty(sizes.size, dtype=np.intp)
    visit[np.lexsort((lowest, sizes))] = np.arange(sizes.size)
    chosen = shortlist[_round_robin(visit[labels], scores[shortlist], shortlist, k)]
    return chosen.astype(np.intp), scores[chosen]


@register_strategy
class ClusterMargin(Strategy):
    """:func:`cluster_margin`; scores are the margin scores (higher = smaller margin)."""

    name: ClassVar[str] = "cluster_margin"
    needs = frozenset({"proba", "embeddings"})

    def __init__(self, margin_factor: int = 10, n_clusters: int | None = None) -> None:
        self.margin_factor = _positive_int(margin_factor, "margin_factor")
        self.n_clusters = None if n_clusters is None else _positive_int(n_clusters, "n_clusters")

    def _select(
        self,
        inputs: PoolInputs,
        batch_size: int,
        rng: np.random.Generator,
        exclude: NDArray[np.bool_],
    ) -> Selection:
        assert inputs.proba is not None and inputs.embeddings is not None
        t = batch_size if self.n_clusters is None else self.n_clusters
        return Selection(
            *_cluster_margin(
                inputs.proba, inputs.embeddings, batch_size, self.margin_factor, t, exclude
            )
        )
