"""Compute the regression and multi-label inputs a strategy declared, chunk by chunk.

The counterpart of :func:`labelwise.models.compute_inputs` for the task types beyond
single-label classification (it calls :func:`task_inputs`). A model adapter supplies them
through these methods (see :class:`~labelwise.models.SklearnRegressor` and
:class:`~labelwise.models.SklearnMultilabel`):

=====================  =========================================================
input                  from
=====================  =========================================================
``pred_mean``          ``predict(X)`` -> (N,)
``pred_samples``       ``sample_predict(X, n_samples, rng)`` -> (K, N)
``pred_committee``     ``committee_predict(X)`` -> (M, N), else ``pred_samples``
``pred_std``           ``predict_std(X)`` -> (N,)
``label_proba``        ``predict_label_proba(X)`` -> (N, Q)
``labeled_targets``    the labeled set's targets (L,)
``labeled_label_sets`` the labeled set's 0/1 label sets (L, Q)
=====================  =========================================================
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelwise.errors import InvalidInputError
from labelwise.models._labels import n_rows
from labelwise.strategies.chunking import DEFAULT_CHUNK_SIZE, iter_chunks

__all__ = ["TASK_INPUT_NAMES", "model_task", "task_inputs"]

TASK_INPUT_NAMES = frozenset(
    {
        "pred_mean",
        "pred_samples",
        "pred_committee",
        "pred_std",
        "label_proba",
        "labeled_targets",
        "labeled_label_sets",
    }
)


def model_task(model: Any) -> str:
    """The task type a model adapter serves: its ``task`` attribute, else classification."""
    return str(getattr(model, "task", "classification"))


def _method(model: Any, name: str, what: str) -> Callable[..., Any]:
    fn = getattr(model, name, None)
    if fn is None:
        raise InvalidInputError(f"{type(model).__name__} has no {name}(): {what}")
    return fn


def _chunked(
    fn: Callable[[Any], Any], X: Any, chunk_size: int, axis: int = 0
) -> NDArray[np.float64]:
    n = n_rows(X)
    if n <= chunk_size:
        return np.asarray(fn(X), dtype=np.float64)
    parts = [np.asarray(fn(X[rows]), dtype=np.float64) for rows in iter_chunks(n, chunk_size)]
    return np.concatenate(parts, axis=axis)


def task_inputs(
    model: Any,
    X_pool: Any,
    needs: Collection[str],
    *,
    y_labeled: Any = None,
    n_samples: int = 20,
    rng: np.random.Generator | int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> dict[str, Any]:
    """The regression and multi-label inputs among ``needs``, computed by ``model``.

    Parameters
    ----------
    model : a fitted regression or multi-label adapter.
    X_pool : the pool's features.
    needs : the strategy's declared inputs (the others are left to ``compute_inputs``).
    y_labeled : the labeled set's targets (regression) or label sets (multi-label), rows in the
        order of the labeled features.
    n_samples : samples asked of ``sample_predict``.
    rng : passed to ``sample_predict``.
    chunk_size : pool rows computed at once.
    """
    wanted = TASK_INPUT_NAMES.intersection(needs)
    values: dict[str, Any] = {}
    if "pred_mean" in wanted:
        values["pred_mean"] = _chunked(
            _method(model, "predict", "a regressor (SklearnRegressor)"), X_pool, chunk_size
        )
    if "pred_samples" in wanted or (
        "pred_committee" in wanted and not hasattr(model, "committee_predict")
    ):
        sample = _method(
            model, "sample_predict", "use SklearnRegressor(n_bootstrap >= 2) for prediction samples"
        )
        values["pred_samples"] = _chunked(
            lambda x: sample(x, n_samples, rng), X_pool, chunk_size, axis=1
        )
    if "pred_committee" in wanted:
        committee = getattr(model, "committee_predict", None)
        values["pred_committee"] = (
            values["pred_samples"]
            if committee is None
            else _chunked(committee, X_pool, chunk_size, axis=1)
        )
        if "pred_samples" not in wanted:
            values.pop("pred_samples", None)
    if "pred_std" in wanted:
        std = _method(model, "predict_std", "use a GaussianProcessRegressor for gp_std")
        values["pred_std"] = _chunked(std, X_pool, chunk_size)
    if "label_proba" in wanted:
        proba = _method(model, "predict_label_proba", "use a multi-label model (SklearnMultilabel)")
        values["label_proba"] = _chunked(proba, X_pool, chunk_size)
    for name, ndim in (("labeled_targets", 1), ("labeled_label_sets", 2)):
        if name in wanted:
            if y_labeled is None:
                raise InvalidInputError(f"this strategy needs the labeled set's answers ({name})")
            answers = np.asarray(y_labeled, dtype=np.float64)
            if answers.ndim != ndim:
                raise InvalidInputError(
                    f"{name} must be {ndim}-dimensional, got the labeled answers' shape "
                    f"{answers.shape}: is the model's task type the strategy's?"
                )
            values[name] = answers
    return values
