"""Acquisition for regression: predictive spread, expected model change, greedy sampling.

Inputs (see :class:`~labelwise.strategies.PoolInputs`): ``pred_mean`` (N,) predictions,
``pred_samples`` (K, N) predictions of K stochastic passes / ensemble members / bootstrap models,
``pred_committee`` (M, N) predictions of a committee, ``pred_std`` (N,) a predictive standard
deviation, ``embeddings`` (N, d) pool features, ``labeled_embeddings`` (L, d) and
``labeled_targets`` (L,) the labeled set. Every score is higher = label sooner.
"""

from __future__ import annotations

from typing import ClassVar

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
from labelwise.strategies.coreset import k_center_greedy
from labelwise.strategies.target_validation import (
    check_prediction_members,
    check_predictions,
    check_std,
)
from labelwise.strategies.topk import top_k_masked
from labelwise.validation import (
    check_batch_size,
    check_exclude,
    check_matrix,
    check_matrix_with_norms,
)

FloatArray = NDArray[np.float64]


def predictive_variance(pred_samples: ArrayLike) -> FloatArray:
    """Variance of the predictions over K samples, ``(1/K) sum_k (f_k(x) - fbar(x))^2``.

    The samples are MC Dropout passes (Gal & Ghahramani, "Dropout as a Bayesian Approximation",
    ICML 2016, eq. 8's variance term), deep-ensemble members (Lakshminarayanan, Pritzel & Blundell,
    NeurIPS 2017) or bootstrap models (Efron & Tibshirani 1993): the spread of the predictive
    distribution's mean, the regression counterpart of max-entropy sampling.

    Parameters
    ----------
    pred_samples : (K, N) predictions of N pool items by K samples.

    Returns
    -------
    (N,) variances (0 where all samples agree).

    Examples
    --------
    >>> predictive_variance([[0.0, 1.0], [2.0, 1.0]]).tolist()
    [1.0, 0.0]
    """
    samples = check_prediction_members(pred_samples, "pred_samples")
    return np.asarray(samples.var(axis=0, dtype=np.float64), dtype=np.float64)


def committee_variance(pred_committee: ArrayLike) -> FloatArray:
    """Query-by-committee for regression: variance of the M members' predictions.

    ``(1/M) sum_m (f_m(x) - fbar(x))^2`` (Burbidge, Rowland & King, "Active Learning for
    Regression Based on Query by Committee", IDEAL 2007; Krogh & Vedelsby, NIPS 1995, call it the
    ensemble's ambiguity). The members are models trained on bootstrap resamples of the labeled
    set. Same kernel as :func:`predictive_variance`, over committee members.
    """
    return predictive_variance(check_prediction_members(pred_committee, "pred_committee"))


def gp_std(pred_std: ArrayLike) -> FloatArray:
    """The posterior standard deviation of a Gaussian process, ``sigma(x)``, as the score.

    Uncertainty sampling with a GP (MacKay, "Information-Based Objective Functions for Active Data
    Selection", Neural Computation 1992; Seo, Wallat, Graepel & Obermayer, "Gaussian Process
    Regression: Active Data Selection and Test Point Rejection", IJCNN 2000): the point where the
    posterior is widest. ``pred_std`` is what scikit-learn's
    ``GaussianProcessRegressor.predict(X, return_std=True)`` returns (any regressor with a
    predictive standard deviation serves too, e.g. ``BayesianRidge``).
    """
    return np.asarray(check_std(pred_std, "pred_std"), dtype=np.float64)


def emcm(
    pred_mean: ArrayLike,
    pred_committee: ArrayLike,
    embeddings: ArrayLike,
    fit_intercept: bool = True,
) -> FloatArray:
    """Expected model change maximization (Cai, Zhang & Zhou, "Maximizing Expected Model Change
    for Active Learning in Regression", ICDM 2013).

    Under squared loss an SGD step on ``(x, y)`` changes a linear model by ``(f(x) - y) x``. The
    unknown label is replaced by the predictions of K bootstrap models ``f_k(x)`` (eq. 9)::

        EMCM(x) = (1/K) sum_k |(f(x) - f_k(x)) x|_2 = |x|_2 (1/K) sum_k |f(x) - f_k(x)|

    with ``x`` the features (or the embedding the model is linear in); with ``fit_intercept``
    the intercept's gradient counts too, ``|x|`` becoming ``sqrt(|x|^2 + 1)``.

    Parameters
    ----------
    pred_mean : (N,) predictions of the model trained on the whole labeled set.
    pred_committee : (K, N) predictions of K bootstrap models.
    embeddings : (N, d) the features the model is linear in.
    fit_intercept : whether the model has an intercept.
    """
    mean = check_predictions(pred_mean, "pred_mean")
    members = check_prediction_members(pred_committee, "pred_committee")
    _, sq_norms = check_matrix_with_norms(embeddings, "embeddings")
    return _emcm(mean, members, sq_norms, fit_intercept)


def _emcm(
    mean: NDArray[np.floating],
    members: NDArray[np.floating],
    sq_norms: NDArray[np.float64],
    fit_intercept: bool,
) -> FloatArray:
    spread = np.abs(members - mean[None, :]).mean(axis=0, dtype=np.float64)
    return np.asarray(np.sqrt(sq_norms + float(fit_intercept)) * spread, dtype=np.float64)


def _nearest_to_centre(values: NDArray[np.floating], open_rows: NDArray[np.intp]) -> int:
    """The open row nearest the mean of the open rows (Wu et al.'s first pick), lowest on ties."""
    rows = values[open_rows].reshape(open_rows.size, -1).astype(np.float64)
    distances = ((rows - rows.mean(axis=0)) ** 2).sum(axis=1)
    return int(open_rows[int(np.argmin(distances))])


def greedy_sampling_x(
    embeddings: ArrayLike,
    labeled_embeddings: ArrayLike | None,
    batch_size: int,
    exclude: ArrayLike | None = None,
) -> tuple[NDArray[np.intp], FloatArray]:
    """GSx: greedy sampling in the input space (Wu, Lin & Huang, "Active Learning for Regression
    Using Greedy Sampling", Information Sciences 474, 2019, Alg. 1).

    Each pick is ``argmax_n min_m |x_n - x_m|_2`` over the labeled points and those picked
    before it (k-center greedy, the kernel of :func:`~labelwise.strategies.coreset`). With no
    labeled point the first pick is the pool point nearest the pool's centroid.

    Returns
    -------
    (batch_size,) pool indices in the order picked and the min-distance of each when picked
    (``inf`` for a first pick without labeled points).
    """
    x, _ = check_matrix_with_norms(embeddings, "embeddings")
    lab = _labeled_matrix(labeled_embeddings, x.shape[1])
    mask = check_exclude(exclude, x.shape[0])
    check_batch_size(batch_size, x.shape[0] - int(mask.sum()))
    return _gsx(x, lab, int(batch_size), mask)


def _labeled_matrix(labeled: ArrayLike | None, width: int) -> NDArray[np.floating]:
    if labeled is None or np.size(labeled) == 0:
        return np.empty((0, width))
    return check_matrix(labeled, "labeled_embeddings")


def _gsx(
    x: NDArray[np.floating],
    lab: NDArray[np.floating],
    k: int,
    exclude: NDArray[np.bool_],
) -> tuple[NDArray[np.intp], FloatArray]:
    if lab.shape[0] > 0:
        idx, dist = k_center_greedy(x, lab, k, np.random.default_rng(0), exclude)
        return idx, dist
    first = _nearest_to_centre(x, np.flatnonzero(~exclude))
    if k == 1:
        return np.array([first], dtype=np.intp), np.array([np.inf])
    rest_mask = exclude.copy()
    rest_mask[first] = True
    idx, dist = k_center_greedy(x, x[[first]], k - 1, np.random.default_rng(0), rest_mask)
    return np.concatenate([[first], idx]).astype(np.intp), np.concatenate([[np.inf], dist])


def greedy_sampling_y(
    pred_mean: ArrayLike,
    labeled_targets: ArrayLike,
    batch_size: int,
    exclude: ArrayLike | None = None,
) -> tuple[NDArray[np.intp], FloatArray]:
    """GSy: greedy sampling in the output space (Wu, Lin & Huang 2019, Alg. 2).

    Each pick is ``argmax_n min_m |f(x_n) - y_m|`` over the labeled targets; within a batch a
    picked item's prediction stands in for its unknown label. With no labeled target the first
    pick is the item whose prediction is nearest the mean prediction (the paper starts from GSx;
    without features, the output space's centre). Ties go to the lower pool index.
    """
    f = check_predictions(pred_mean, "pred_mean")
    y = check_predictions(labeled_targets, "labeled_targets")
    mask = check_exclude(exclude, f.shape[0])
    check_batch_size(batch_size, f.shape[0] - int(mask.sum()))
    return _greedy_output(f, y, int(batch_size), mask, None, None)


def improved_greedy_sampling(
    embeddings: ArrayLike,
    labeled_embeddings: ArrayLike | None,
    pred_mean: ArrayLike,
    labeled_targets: ArrayLike,
    batch_size: int,
    exclude: ArrayLike | None = None,
) -> tuple[NDArray[np.intp], FloatArray]:
    """iGS: greedy sampling in inputs and outputs together (Wu, Lin & Huang 2019, Alg. 3).

    Each pick is ``argmax_n min_m |x_n - x_m|_2 |f(x_n) - y_m|`` over the labeled set; within a
    batch a picked item joins it with its prediction as label. With no labeled item the first
    pick is the pool point nearest the centroid (GSx's start).
    """
    x, _ = check_matrix_with_norms(embeddings, "embeddings")
    lab = _labeled_matrix(labeled_embeddings, x.shape[1])
    f = check_predictions(pred_mean, "pred_mean")
    y = check_predictions(labeled_targets, "labeled_targets")
    mask = check_exclude(exclude, x.shape[0])
    check_batch_size(batch_size, x.shape[0] - int(mask.sum()))
    return _greedy_output(f, y, int(batch_size), mask, x, lab)


def _greedy_output(
    f: NDArray[np.floating],
    y: NDArray[np.floating],
    k: int,
    exclude: NDArray[np.bool_],
    x: NDArray[np.floating] | None,
    lab: NDArray[np.floating] | None,
) -> tuple[NDArray[np.intp], FloatArray]:
    """GSy (``x`` None) or iGS: greedy picks by the min over the labeled set of the distance
    product, updated with each pick (O(N) per pick after an O(N L d) start)."""
    f64 = f.astype(np.float64)
    best = np.full(f.shape[0], np.inf)
    for m in range(y.shape[0]):
        best = np.minimum(best, _distance_to(f64, x, float(y[m]), None if lab is None else lab[m]))
    best[exclude] = -np.inf
    picks = np.empty(k, dtype=np.intp)
    scores = np.empty(k, dtype=np.float64)
    for step in range(k):
        if y.shape[0] == 0 and step == 0:
            open_rows = np.flatnonzero(~exclude)
            j = _nearest_to_centre(f64 if x is None else x, open_rows)
            score = np.inf
        else:
            j = int(np.argmax(best))
            score = float(best[j])
        picks[step], scores[step] = j, score
        best = np.minimum(best, _distance_to(f64, x, float(f64[j]), None if x is None else x[j]))
        best[picks[: step + 1]] = -np.inf
    return picks, scores


def _distance_to(
    f: NDArray[np.float64],
    x: NDArray[np.floating] | None,
    target: float,
    point: NDArray[np.floating] | None,
) -> FloatArray:
    """``|f_n - target|``, times ``|x_n - point|`` when inputs count (iGS)."""
    dy = np.abs(f - target)
    if x is None or point is None:
        return dy
    diff = x - point[None, :]
    return np.asarray(np.sqrt(np.einsum("ij,ij->i", diff, diff, dtype=np.float64)) * dy)


PredictiveVariance = scoring_strategy(
    "PredictiveVariance", "predictive_variance", "pred_samples", predictive_variance
)
CommitteeVariance = scoring_strategy(
    "CommitteeVariance",
    "qbc_variance",
    "pred_committee",
    committee_variance,
    doc="Query-by-committee for regression: top-k by :func:`committee_variance` (Burbidge, "
    "Rowland & King 2007).",
)
GaussianProcessStd = scoring_strategy("GaussianProcessStd", "gp_std", "pred_std", gp_std)


@register_strategy
class ExpectedModelChange(Strategy):
    """EMCM (Cai, Zhang & Zhou 2013): top-k by :func:`emcm`.

    Parameters
    ----------
    fit_intercept : whether the model's intercept counts in the gradient.
    """

    name: ClassVar[str] = "emcm"
    needs = frozenset({"pred_mean", "pred_committee", "embeddings"})

    def __init__(self, fit_intercept: bool = True) -> None:
        self.fit_intercept = fit_intercept

    def _select(
        self,
        inputs: PoolInputs,
        batch_size: int,
        rng: np.random.Generator,
        exclude: NDArray[np.bool_],
    ) -> Selection:
        x, mean, members = inputs.embeddings, inputs.pred_mean, inputs.pred_committee
        assert x is not None and mean is not None and members is not None  # checked by select()
        sq_norms = np.einsum("ij,ij->i", x, x, dtype=np.float64)
        scores = _emcm(mean, members, sq_norms, self.fit_intercept)
        indices = top_k_masked(scores, batch_size, exclude)
        return Selection(indices, scores[indices], scores)


@register_strategy
class GreedySamplingX(Strategy):
    """GSx (Wu, Lin & Huang 2019): :func:`greedy_sampling_x` over the features.

    It reads no model output, so it serves every task type (core-set with Wu et al.'s start).
    """

    name: ClassVar[str] = "gsx"
    needs = frozenset({"embeddings", "labeled_embeddings"})

    def _select(
        self,
        inputs: PoolInputs,
        batch_size: int,
        rng: np.random.Generator,
        exclude: NDArray[np.bool_],
    ) -> Selection:
        x = inputs.embeddings
        assert x is not None
        lab = _labeled_matrix(inputs.labeled_embeddings, x.shape[1])
        return Selection(*_gsx(x, lab, batch_size, exclude))


@register_strategy
class GreedySamplingY(Strategy):
    """GSy (Wu, Lin & Huang 2019): :func:`greedy_sampling_y` over predictions and targets."""

    name: ClassVar[str] = "gsy"
    needs = frozenset({"pred_mean", "labeled_targets"})

    def _select(
        self,
        inputs: PoolInputs,
        batch_size: int,
        rng: np.random.Generator,
        exclude: NDArray[np.bool_],
    ) -> Selection:
        f, y = inputs.pred_mean, inputs.labeled_targets
        assert f is not None and y is not None
        return Selection(*_greedy_output(f, y, batch_size, exclude, None, None))


@register_strategy
class ImprovedGreedySampling(Strategy):
    """iGS (Wu, Lin & Huang 2019): :func:`improved_greedy_sampling`."""

    name: ClassVar[str] = "igs"
    needs = frozenset({"embeddings", "labeled_embeddings", "pred_mean", "labeled_targets"})

    def _select(
        self,
        inputs: PoolInputs,
        batch_size: int,
        rng: np.random.Generator,
        exclude: NDArray[np.bool_],
    ) -> Selection:
        x, f, y = inputs.embeddings, inputs.pred_mean, inputs.labeled_targets
        assert x is not None and f is not None and y is not None
        lab = _labeled_matrix(inputs.labeled_embeddings, x.shape[1])
        if lab.shape[0] != y.shape[0]:
            raise InvalidInputError(
                f"labeled_targets has {y.shape[0]} values but labeled_embeddings has "
                f"{lab.shape[0]} rows"
            )
        return Selection(*_greedy_output(f, y, batch_size, exclude, x, lab))
