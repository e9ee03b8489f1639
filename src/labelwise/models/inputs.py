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
) -> PoolInputs:
    """Build the :class:`PoolInputs` a strategy declared in ``needs`` from a fitted model.

    ``wants`` are the inputs a strategy reads when present (``Strategy.wants``): each is
    computed when the model supplies it (``grad_embeddings`` from ``grad_embed``) and left out
    otherwise. ``samples`` come from ``sample_proba`` (MC Dropout, ensembles);
    ``committee_proba`` from ``committee_proba``, or from ``sample_proba`` when the model only
    samples. Embeddings fall back to the raw features for models without ``embed``.
    ``pool_size`` is always set, so a strategy that reads no array (random) works before the
    model is fitted.
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
    if "embeddings" in needs:
        values["embeddings"] = embed_or_features(model, X_pool, chunk_size)
    if "labeled_embeddings" in needs:
        if X_labeled is None:
            raise InvalidInputError("this strategy needs the labeled set's features (X_labeled)")
        values["labeled_embeddings"] = embed_or_features(model, X_labeled, chunk_size)
    if "grad_embeddings" in wants and isinstance(model, SupportsGradEmbedding):
        values["grad_embeddings"] = _chunked(model.grad_embed, X_pool, chunk_size)
    if "grad_embeddings" in needs:
        if not isinstance(model, SupportsGradEmbedding):
            raise InvalidInputError(f"{type(model).__name__} has no grad_embed()")
        values["grad_embeddings"] = _chunked(model.grad_embed, X_pool, chunk_size)
    return PoolInputs(**values)
