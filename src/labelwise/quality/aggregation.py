"""From several annotations per item to one label: majority vote and Dawid-Skene EM.

Both take the long annotation table of ``(item, annotator, label)`` rows (see
:func:`labelwise.quality._validation.check_annotations`) and return one label per item in
``[0, n_items)``; every item needs at least one annotation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:  # SciPy is imported by Dawid-Skene, not with the store that imports this
    from scipy import sparse

from labelwise._random import check_rng
from labelwise.errors import InvalidInputError
from labelwise.quality._validation import (
    AnnotationTable,
    FloatArray,
    IntArray,
    check_annotations,
    check_annotator_weights,
    check_count,
    vote_counts,
)

TieRule = Literal["random", "lowest"]

#: Probabilities are floored here before their log, so that a zero estimate never makes every
#: class impossible for an item (the EM maximum likelihood estimate may put exact zeros).
_LOG_FLOOR = 1e-300


def _check_covered(table: AnnotationTable) -> None:
    """Refuse an item index range with items that nobody annotated."""
    covered = np.bincount(table.items, minlength=table.n_items) > 0
    if not covered.all():
        missing = np.flatnonzero(~covered)
        raise InvalidInputError(
            f"{missing.size} item(s) have no annotation (first: {int(missing[0])}): aggregate "
            "only annotated items, or map item ids to 0..n_items-1 without gaps"
        )


def vote_shares(
    annotations: ArrayLike,
    n_classes: int,
    weights: ArrayLike | None = None,
    n_items: int | None = None,
) -> FloatArray:
    """Each item's (weighted) share of votes per class: ``n_ic / sum_c n_ic``.

    Parameters
    ----------
    annotations : int array of shape (M, 3)
        Rows ``(item, annotator, label)``.
    n_classes : int
    weights : array of shape (n_annotators,), optional
        Non-negative weight of each annotator's vote (e.g. from
        :func:`labelwise.quality.gold.gold_weights`); default 1 each.
    n_items : int, optional

    Returns
    -------
    array of shape (N, C)
        Rows sum to one; an item whose votes all weigh zero gets the uniform row.
    """
    table = check_annotations(annotations, n_classes, n_items=n_items)
    _check_covered(table)
    w = None if weights is None else check_annotator_weights(weights, table.n_annotators)
    counts = vote_counts(table, w)
    total = counts.sum(axis=1, keepdims=True)
    return np.where(total > 0, counts / np.where(total > 0, total, 1.0), 1.0 / n_classes)


def majority_vote(
    annotations: ArrayLike,
    n_classes: int,
    weights: ArrayLike | None = None,
    ties: TieRule = "random",
    rng: np.random.Generator | int | None = None,
    n_items: int | None = None,
) -> IntArray:
    """The class with the most (weighted) votes for each item.

    ``y_i = argmax_c sum_{annotations (i, k, c)} w_k``; with ``w_k = 1`` the plain majority
    (plurality) vote. Weighting each vote by the log-odds of its annotator's accuracy makes it the
    Bayes-optimal rule for independent, symmetric annotator noise (Nitzan & Paroush 1982).

    Parameters
    ----------
    annotations : int array of shape (M, 3)
        Rows ``(item, annotator, label)``.
    n_classes : int
    weights : array of shape (n_annotators,), optional
        Non-negative vote weight per annotator; default 1 each.
    ties : {"random", "lowest"}
        Between classes with equal votes, pick one uniformly at random with ``rng`` (no class is
        favoured), or the lowest class index (deterministic).
    rng : numpy Generator, int seed or None
        Used only for ``ties="random"``.
    n_items : int, optional
        Default: one more than the largest item index.

    Returns
    -------
    array of shape (N,)
        One class index per item.

    References
    ----------
    Nitzan, S., & Paroush, J. (1982). Optimal decision rules in uncertain dichotomous choice
    situations. International Economic Review, 23(2), 289-297.
    """
    shares = vote_shares(annotations, n_classes, weights=weights, n_items=n_items)
    best = shares.max(axis=1, keepdims=True)
    tied = shares >= best - 1e-12
    if ties == "lowest":
        return np.argmax(tied, axis=1).astype(np.intp)
    if ties != "random":
        raise InvalidInputError(f"ties must be 'random' or 'lowest', got {ties!r}")
    generator = check_rng(rng)
    draw = np.where(tied, generator.random(shares.shape), -1.0)
    return np.argmax(draw, axis=1).astype(np.intp)


@dataclass(frozen=True)
class DawidSkeneResult:
    """What Dawid-Skene EM estimated.

    Attributes
    ----------
    posterior : array of shape (N, C)
        ``P(true class of item i = c | all annotations)``.
    labels : array of shape (N,)
        ``argmax_c posterior[i, c]`` (lowest class on a tie).
    confusion : array of shape (A, C, C)
        ``confusion[k, j, l] = P(annotator k says l | true class j)``; rows sum to one. A row for a
        class the annotator never met is uniform.
    priors : array of shape (C,)
        Estimated class frequencies ``p_j``.
    log_likelihood : float
        Log-likelihood of the annotations under the returned parameters.
    n_iter : int
        EM iterations run.
    converged : bool
        Whether the log-likelihood changed by less than ``tol`` before ``max_iter``.
    """

    posterior: FloatArray
    labels: IntArray
    confusion: FloatArray
    priors: FloatArray
    log_likelihood: float
    n_iter: int
    converged: bool


def _m_step(
    posterior: FloatArray, by_answer: sparse.csr_array, n_annotators: int, n_classes: int
) -> tuple[FloatArray, FloatArray]:
    """Priors ``mean_i T_ij`` and confusions ``sum_i T_ij n_il^k`` normalised over l."""
    priors = posterior.mean(axis=0)
    # by_answer: (A*C answers, N items) counts n_il^k, so by_answer @ T is indexed [k*C + l, j].
    counts = np.asarray(by_answer @ posterior).reshape(n_annotators, n_classes, n_classes)
    counts = counts.transpose(0, 2, 1)  # [k, true j, said l]
    total = counts.sum(axis=2, keepdims=True)
    confusion = np.where(total > 0, counts / np.where(total > 0, total, 1.0), 1.0 / n_classes)
    return priors, confusion


def _e_step(
    table: AnnotationTable,
    by_item: sparse.csr_array,
    priors: FloatArray,
    confusion: FloatArray,
) -> tuple[FloatArray, float]:
    """Posterior ``T_ij ∝ p_j prod_k prod_l pi_jl^k ^ n_il^k`` and the log-likelihood."""
    from scipy.special import logsumexp

    log_confusion = np.log(np.maximum(confusion, _LOG_FLOOR))
    per_annotation = log_confusion[table.annotators, :, table.labels]  # (M, C)
    joint = np.log(np.maximum(priors, _LOG_FLOOR)) + np.asarray(by_item @ per_annotation)
    norm = logsumexp(joint, axis=1, keepdims=True)
    return np.exp(joint - norm), float(norm.sum())


def dawid_skene(
    annotations: ArrayLike,
    n_classes: int,
    max_iter: int = 100,
    tol: float = 1e-6,
    n_items: int | None = None,
    n_annotators: int | None = None,
) -> DawidSkeneResult:
    """Aggregate annotations with per-annotator confusion matrices fitted by EM (Dawid & Skene).

    Model: item i has a latent true class j with prior ``p_j``; annotator k, shown an item of
    class j, says l with probability ``pi^k_jl``, independently of everything else. With
    ``n^k_il`` the number of times k said l for item i, EM alternates

    - M-step: ``p_j = (1/N) sum_i T_ij`` and
      ``pi^k_jl = sum_i T_ij n^k_il / sum_l' sum_i T_ij n^k_il'``;
    - E-step: ``T_ij = p_j prod_k prod_l (pi^k_jl)^(n^k_il) / sum_j' (same for j')``,

    starting from the vote shares ``T_ij = sum_k n^k_ij / sum_k sum_l n^k_il`` (the soft majority
    vote, as in the paper), until the log-likelihood
    ``sum_i log sum_j p_j prod_k prod_l (pi^k_jl)^(n^k_il)`` changes by less than ``tol``.
    EM climbs to a local maximum; the majority-vote start makes it deterministic.

    Parameters
    ----------
    annotations : int array of shape (M, 3)
        Rows ``(item, annotator, label)``; an annotator may label an item several times.
    n_classes : int
    max_iter : int
        At most this many EM iterations (each one M-step and one E-step).
    tol : float
        Stop when the log-likelihood improves by less than this.
    n_items, n_annotators : int, optional
        Sizes of the index spaces; default one more than the largest index present.

    Returns
    -------
    DawidSkeneResult
        Posterior, labels, confusion matrices, priors and convergence information.

    References
    ----------
    Dawid, A. P., & Skene, A. M. (1979). Maximum likelihood estimation of observer error-rates
    using the EM algorithm. Journal of the Royal Statistical Society, Series C, 28(1), 20-28.
    """
    from scipy import sparse

    table = check_annotations(annotations, n_classes, n_items=n_items, n_annotators=n_annotators)
    _check_covered(table)
    max_iter = check_count(max_iter, "max_iter")
    if not (np.isfinite(tol) and tol >= 0):
        raise InvalidInputError(f"tol must be a finite number >= 0, got {tol}")
    n, a, c = table.n_items, table.n_annotators, table.n_classes
    ones = np.ones(table.items.size)
    rows = np.arange(table.items.size)
    by_item = sparse.csr_array((ones, (table.items, rows)), shape=(n, rows.size))
    answer = table.annotators * c + table.labels
    by_answer = sparse.csr_array((ones, (answer, table.items)), shape=(a * c, n))

    counts = vote_counts(table)
    posterior = counts / counts.sum(axis=1, keepdims=True)
    log_likelihood = -np.inf
    converged = False
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        priors, confusion = _m_step(posterior, by_answer, a, c)
        posterior, new_log_likelihood = _e_step(table, by_item, priors, confusion)
        improvement = new_log_likelihood - log_likelihood
        log_likelihood = new_log_likelihood
        if improvement < tol:
            converged = True
            break
    labels = np.argmax(posterior, axis=1).astype(np.intp)
    return DawidSkeneResult(
        posterior=posterior,
        labels=labels,
        confusion=confusion,
        priors=priors,
        log_likelihood=log_likelihood,
        n_iter=n_iter,
        converged=converged,
    )
