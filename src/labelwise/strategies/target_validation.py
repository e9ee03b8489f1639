"""Validation of the regression and multi-label inputs, at the edge, once.

The counterpart of :mod:`labelwise.strategies.validation` for the inputs of the task types
beyond single-label classification: predictions, prediction samples, predictive standard
deviations, the labeled set's targets, multi-label marginals and label-indicator rows. Each check
returns the array as floats (no copy when it already is one) or raises
:class:`~labelwise.errors.InvalidInputError` naming the array and what is wrong with it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.errors import InvalidInputError
from labelwise.validation import check_finite

FloatArray = NDArray[np.floating]


def _finite_floats(value: ArrayLike, name: str, ndim: int) -> FloatArray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiub":
        raise InvalidInputError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    if arr.ndim != ndim:
        raise InvalidInputError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    check_finite(arr, name)
    return arr


def check_predictions(value: ArrayLike, name: str = "pred_mean") -> FloatArray:
    """(N,) finite predictions (or targets) of a regressor."""
    return _finite_floats(value, name, 1)


def check_prediction_members(value: ArrayLike, name: str = "pred_samples") -> FloatArray:
    """(K, N) finite predictions of K members or stochastic passes, K >= 1."""
    arr = _finite_floats(value, name, 2)
    if arr.shape[0] < 1:
        raise InvalidInputError(f"{name} needs at least one member, got shape {arr.shape}")
    return arr


def check_std(value: ArrayLike, name: str = "pred_std") -> FloatArray:
    """(N,) finite, non-negative predictive standard deviations."""
    arr = _finite_floats(value, name, 1)
    if arr.size and arr.min() < 0.0:
        raise InvalidInputError(f"{name} must be non-negative: it is a standard deviation")
    return arr


def check_label_proba(value: ArrayLike, name: str = "label_proba") -> FloatArray:
    """(N, Q) multi-label marginals: one probability in [0, 1] per item and label, Q >= 1.

    Rows need not sum to one: each label applies or not on its own.
    """
    arr = _finite_floats(value, name, 2)
    if arr.shape[1] < 1:
        raise InvalidInputError(f"{name} needs at least one label, got shape {arr.shape}")
    if arr.size and (arr.min() < 0.0 or arr.max() > 1.0):
        raise InvalidInputError(
            f"{name} must lie in [0, 1] (one probability per label): are these decision "
            "values or logits? apply a sigmoid first"
        )
    return arr


def check_label_sets(value: ArrayLike, name: str = "labeled_label_sets") -> FloatArray:
    """(L, Q) label-indicator rows: 1 where a label applies, 0 where it does not."""
    arr = _finite_floats(value, name, 2)
    if arr.size and not np.isin(arr, (0.0, 1.0)).all():
        raise InvalidInputError(f"{name} must hold only 0 and 1 (a label-indicator matrix)")
    return arr


#: The check of each regression or multi-label input, by name.
TARGET_CHECKS: dict[str, Callable[[Any, str], FloatArray]] = {
    "pred_mean": check_predictions,
    "pred_samples": check_prediction_members,
    "pred_committee": check_prediction_members,
    "pred_std": check_std,
    "labeled_targets": check_predictions,
    "label_proba": check_label_proba,
    "labeled_label_sets": check_label_sets,
}


def check_target_shapes(checked: dict[str, Any]) -> None:
    """Refuse inputs of one pool that disagree with each other in their non-pool axis.

    The labeled set's targets must be as many as its embeddings, and its label sets as wide as
    the pool's marginals. Pool sizes are compared by ``PoolInputs.n_pool``.
    """
    targets, lab = checked.get("labeled_targets"), checked.get("labeled_embeddings")
    if targets is not None and lab is not None and targets.shape[0] != lab.shape[0]:
        raise InvalidInputError(
            f"labeled_targets has {targets.shape[0]} values but labeled_embeddings has "
            f"{lab.shape[0]} rows: one target per labeled item"
        )
    sets, proba = checked.get("labeled_label_sets"), checked.get("label_proba")
    if sets is not None and proba is not None and sets.shape[1] != proba.shape[1]:
        raise InvalidInputError(
            f"labeled_label_sets has {sets.shape[1]} labels but label_proba has {proba.shape[1]}"
        )
