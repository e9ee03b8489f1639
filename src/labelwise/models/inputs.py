"""Compute for the pool only what a strategy declared it needs, chunk by chunk."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.errors import InvalidInputError
from labelwise.models._labels import n_rows
from labelwise.models.base import (
    Model,
    SupportsCommittee,
    SupportsEmbedding,
    SupportsGradEmbedding,
    SupportsSampling,
)
from labelwise.models.task_inputs import task_inputs
from labelwise.strategies import PoolInputs
from labelwise.strategies.chunking import DEFAULT_CHUNK_SIZE, iter_chunks


def _chunked(
    fn: Callable[[Any], NDArray[np.floating]], X: Any, chunk_size: int, axis: int = 0
) -> NDArray[np.floating]:
    n = n_rows(X)
    if n <= chunk_size:
        return np.asarray(fn(X))
    parts = [np.asarray(fn(X[chunk])) for chunk in iter_chunks(n, chunk_size)]
    return np.concatenate(parts, axis=axis)


def embed_or_features(model: Model, X: Any, chunk_size: int = DEFAULT_CHUNK_SIZE) -> NDArray[Any]:
    """The model's embeddings where it has them, else the raw features as a float matrix."""
    if isinstance(model, SupportsEmbedding):
        return _chunked(model.embed, X, chunk_size)
    if hasattr(X, "tocsr"):
        raise InvalidInputError(
            f"this model has no embed() and the features are a sparse matrix of "
            f"{X.shape[1]} columns: diversity strategies need dense embeddings (sentence "
            "embeddings, or a model with embed())"
        )
    features = np.asarray(X)
    if features.dtype.kind not in "fiub":
        raise InvalidInputError(
            "this model has no embed() and the features are not numeric: diversity strategies "
            "need embeddings"
        )
    return features.reshape(len(features), -1).astype(np.float64, copy=False)


def standardize(pool: NDArray[Any], *others: NDArray[Any]) -> tuple[NDArray[np.float64], ...]:
    """Z-score the columns of ``pool`` and of each of ``others`` with the pool's mean and std.

    Raw features stand in for embeddings where the model has none; distances over them would be
    ruled by whichever feature has the largest units (pixels in 0..255 beside a ratio in 0..1).
    Standardised, every feature counts alike, and rescaling a feature changes no distance.
    Constant columns are only centred.

    Examples
    --------
    >>> standardize(np.array([[0.0, 10.0], [2.0, 10.0]]))[0].tolist()
    [[-1.0, 0.0], [1.0, 0.0]]
    """
    x = np.asarray(pool, dtype=np.float64)
    mean = x.mean(axis=0) if len(x) else np.zeros(x.shape[1:])
    std = x.std(axis=0) if len(x) else np.ones(x.shape[1:])
    std[~(std > 0)] = 1.0
    return tuple((np.asarray(a, dtype=np.float64) - mean) / std for a in (x, *others))


def compute_inputs(
    model: Model,
    X_pool: Any,
    needs: Collection[str],
    *,
    X_labeled: Any = None,
    n_samples: int = 20,
    exclude: ArrayLike | None = None,
    rng: np.random.Generator | int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    wants: Collection[str] = (),
    y_labeled: Any = None,
) -> PoolInputs:
    """Build the :class:`PoolInputs` a strategy declared in ``needs`` from a fitted model.

    ``wants`` are the inputs a strategy reads when present (``Strategy.wants``): each is
    computed when the model supplies it (``grad_embeddings`` from ``grad_embed``) and left out
    otherwise. ``samples`` come from ``sample_proba`` (MC Dropout, ensembles);
    ``committee_proba`` from ``committee_proba``, or from ``sample_proba`` when the model only
    samples. Embeddings fall back to the raw features for models without ``embed``,
    standardised with the pool's mean and std (:func:`standardize`; the labeled set's with the
    same), so distance-based strategies (core-set, BADGE, k-means) do not depend on units.
    ``pool_size`` is always set, so a strategy that reads no array (random) works before the
    model is fitted. The regression and multi-label inputs (``pred_mean``, ``label_proba``,
    ``labeled_targets``...) come from :func:`labelwise.models.task_inputs.task_inputs`, the
    labeled set's answers from ``y_labeled``.
    """
    values: dict[str, Any] = {
        "exclude": None if exclude is None else np.asarray(exclude),
        "pool_size": n_rows(X_pool),
    }
    if "proba" in needs:
        values["proba"] = _chunked(model.predict_proba, X_pool, chunk_size)
    if "samples" in needs or (
        "committee_proba" in needs and not isinstance(model, SupportsCommittee)
    ):
        if not isinstance(model, SupportsSampling):
            raise InvalidInputError(
                f"{type(model).__name__} cannot sample predictions: use a model with MC Dropout "
                "or an ensemble (TorchModel, DeepEnsemble, BootstrapCommittee)"
            )
        samples = _chunked(lambda x: model.sample_proba(x, n_samples, rng), X_pool, chunk_size, 1)
        values["samples"] = samples
        if "committee_proba" in needs:
            values["committee_proba"] = samples
    if "committee_proba" in needs and isinstance(model, SupportsCommittee):
        values["committee_proba"] = _chunked(model.committee_proba, X_pool, chunk_size, 1)
    if "labeled_embeddings" in needs and X_labeled is None:
        raise InvalidInputError("this strategy needs the labeled set's features (X_labeled)")
    if "embeddings" in needs or "labeled_embeddings" in needs:
        pool = embed_or_features(model, X_pool, chunk_size)
        labeled = (
            embed_or_features(model, X_labeled, chunk_size)
            if "labeled_embeddings" in needs
            else None
        )
        if not isinstance(model, SupportsEmbedding):  # raw features: make them unit-free
            pool, *rest = standardize(pool, *([] if labeled is None else [labeled]))
            labeled = rest[0] if rest else None
        if "embeddings" in needs:
            values["embeddings"] = pool
        if labeled is not None:
            values["labeled_embeddings"] = labeled
    if "grad_embeddings" in wants and isinstance(model, SupportsGradEmbedding):
        values["grad_embeddings"] = _chunked(model.grad_embed, X_pool, chunk_size)
    if "grad_embeddings" in needs:
        if not isinstance(model, SupportsGradEmbedding):
            raise InvalidInputError(f"{type(model).__name__} has no grad_embed()")
        values["grad_embeddings"] = _chunked(model.grad_embed, X_pool, chunk_size)
    values.update(
        task_inputs(
            model,
            X_pool,
            needs,
            y_labeled=y_labeled,
            n_samples=n_samples,
            rng=rng,
            chunk_size=chunk_size,
        )
    )
    return PoolInputs(**values)
