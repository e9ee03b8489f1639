"""BADGE: k-means++ seeding on gradient embeddings (Ash et al. 2020, "Deep Batch Active Learning
by Diverse, Uncertain Gradient Lower Bounds", ICLR).

The gradient embedding of pool item ``i`` is the gradient of the cross-entropy loss, at the
model's own prediction ``yhat_i = argmax_c p_ic``, with respect to the last layer's weights::

    g_i = (p_i - e_{yhat_i}) (x) h_i          (an outer product: C x d values)

where ``h_i`` is the penultimate-layer embedding. Its norm grows with uncertainty, and distances
between gradients grow with diversity, so D^2 sampling on them (k-means++) picks a batch that is
both. The N x (C d) matrix is never built: with ``r_i = p_i - e_{yhat_i}``::

    |g_i|^2 = |r_i|^2 |h_i|^2,    <g_i, g_j> = <r_i, r_j> <h_i, h_j>

so a distance costs one C-dot and one d-dot. As in the authors' code the first centre is the
item of largest gradient norm (ties to the lower index), the next ones are D^2-sampled.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.strategies.base import (
    Mask,
    PoolInputs,
    Rng,
    Selection,
    Strategy,
    register_strategy,
    select_indices,
)
from labelwise.strategies.clustering import SquaredDistances, d2_seeding, euclidean_sq_dist
from labelwise.validation import row_sq_norms


def gradient_embedding_distances(
    proba: NDArray[np.floating], h: NDArray[np.floating]
) -> tuple[SquaredDistances, NDArray[np.float64]]:
    """Squared distances ``|g_i|^2 + |g_j|^2 - 2 <r_i, r_j> <h_i, h_j>`` between implicit
    gradient embeddings, and their squared norms (extra memory: N x C for ``r``)."""
    n = proba.shape[0]
    h_sq_norms = row_sq_norms(h)
    residual = np.array(proba, dtype=np.float64)
    residual[np.arange(n), np.argmax(proba, axis=1)] -= 1.0
    sq_norms = np.einsum("ij,ij->i", residual, residual) * h_sq_norms

    def sq_dist(rows: slice | NDArray[np.intp], centers: NDArray[np.intp]) -> NDArray[np.float64]:
        r_dot = residual[rows] @ residual[centers].T
        h_dot = np.asarray(h[rows] @ h[centers].T, dtype=np.float64)
        return sq_norms[rows][:, None] + sq_norms[centers][None, :] - 2.0 * r_dot * h_dot

    return sq_dist, sq_norms


def badge(
    proba: ArrayLike | None,
    embeddings: ArrayLike | None,
    batch_size: int,
    rng: np.random.Generator | int | None = None,
    exclude: ArrayLike | None = None,
    grad_embeddings: ArrayLike | None = None,
) -> NDArray[np.intp]:
    """BADGE batch: k-means++ seeding on the gradient embeddings of the pool.

    Parameters
    ----------
    proba : (N, C) class probabilities (ignored, may be None, when ``grad_embeddings`` is given).
    embeddings : (N, d) penultimate-layer embeddings (same).
    batch_size : number of items to select.
    rng : numpy Generator or seed for the D^2 sampling (see
        :func:`labelwise.strategies.clustering.d2_seeding`).
    exclude : pool indices or mask that must not be selected.
    grad_embeddings : (N, D) explicit gradient embeddings, used as given when present.

    Returns
    -------
    (batch_size,) distinct pool indices in the order chosen (largest gradient norm first).
    """
    if grad_embeddings is None:
        arrays = {"proba": proba, "embeddings": embeddings}
        return select_indices(Badge(), batch_size, rng, exclude, **arrays)
    return select_indices(
        _GivenGradients(), batch_size, rng, exclude, grad_embeddings=grad_embeddings
    )


@register_strategy
class Badge(Strategy):
    """BADGE (:func:`badge`); scores are the gradient-embedding norms of the chosen items.

    Reads ``grad_embeddings`` where the model supplies them (``wants``: computed by models with
    ``grad_embed``), else the implicit gradients of ``proba`` and ``embeddings`` (``needs``).
    """

    name: ClassVar[str] = "badge"
    needs = frozenset({"proba", "embeddings"})
    wants = frozenset({"grad_embeddings"})

    def _select(self, inputs: PoolInputs, batch_size: int, rng: Rng, exclude: Mask) -> Selection:
        sq_dist: SquaredDistances
        if inputs.grad_embeddings is not None:
            sq_norms = row_sq_norms(inputs.grad_embeddings)
            sq_dist = euclidean_sq_dist(inputs.grad_embeddings, sq_norms)
        else:
            assert inputs.proba is not None and inputs.embeddings is not None
            sq_dist, sq_norms = gradient_embedding_distances(inputs.proba, inputs.embeddings)
        first = int(np.argmax(np.where(exclude, -np.inf, sq_norms)))
        indices = d2_seeding(sq_dist, sq_norms.size, batch_size, rng, ~exclude, first)
        return Selection(indices, np.sqrt(sq_norms[indices]))


class _GivenGradients(Badge):
    """BADGE over explicit gradient embeddings alone (:func:`badge` given them)."""

    needs = frozenset({"grad_embeddings"})
