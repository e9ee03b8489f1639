"""Expected gradient length for a softmax last layer (Settles, Craven & Ray 2008).

The model change an item would cause if labeled: the expected norm, over the model's own label
distribution, of the cross-entropy gradient with respect to the last layer's weights.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.errors import InvalidInputError
from labelwise.strategies.base import ScoringStrategy, register_strategy
from labelwise.strategies.chunking import DEFAULT_CHUNK_SIZE
from labelwise.validation import check_matrix, check_proba


def expected_gradient_length(
    proba: ArrayLike, embeddings: ArrayLike, *, bias: bool = False
) -> NDArray[np.float64]:
    """``EGL(x) = sum_y p_y ||grad_W CE(x, y)||`` for a softmax layer ``p = softmax(W h)``.

    The gradient of the cross-entropy for label ``y`` with respect to ``W`` (C x d) is the outer
    product ``(p - e_y) h^T``, whose Frobenius norm is ``||p - e_y|| ||h||``, with
    ``||p - e_y||^2 = ||p||^2 - 2 p_y + 1``. So ``EGL = ||h|| sum_y p_y sqrt(||p||^2 - 2 p_y + 1)``
    (Settles, Craven & Ray, "Multiple-Instance Active Learning", NIPS 2008; Settles 2009, sec.
    3.4). With ``bias=True`` the layer also has a bias, whose gradient ``p - e_y`` adds 1 to
    ``||h||^2``.

    Parameters
    ----------
    proba : (N, C) class probabilities of the pool (the softmax output).
    embeddings : (N, d) inputs ``h`` of the last layer (penultimate activations).
    bias : whether the last layer has a bias term.

    Returns
    -------
    (N,) float64 expected gradient lengths, 0 for a certain prediction.

    Examples
    --------
    >>> expected_gradient_length([[0.5, 0.5]], [[3.0, 4.0]]).round(6).tolist()
    [3.535534]
    """
    p, h = check_proba(proba), check_matrix(embeddings, "embeddings")
    if p.shape[0] != h.shape[0]:
        raise InvalidInputError(
            f"proba has {p.shape[0]} rows but embeddings has {h.shape[0]}: they must describe "
            "the same pool items"
        )
    p64 = p.astype(np.float64, copy=False)
    sq_residual = _sq_residual_norms(p64)
    expected = np.einsum("nc,nc->n", p64, np.sqrt(sq_residual))
    sq_norm_h = np.einsum("nd,nd->n", h, h, dtype=np.float64) + (1.0 if bias else 0.0)
    return np.asarray(expected * np.sqrt(sq_norm_h), dtype=np.float64)


def _sq_residual_norms(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """(N, C) ``||p - e_y||^2 = (1 - p_y)^2 + sum_{c != y} p_c^2`` for every label ``y``; the
    most likely class's sum is added directly (``||p||^2 - p_y^2`` would cancel there)."""
    n = p.shape[0]
    rows = np.arange(n)
    sq = p * p
    top = p.argmax(axis=1)
    others = sq.sum(axis=1)[:, None] - sq
    masked = sq.copy()
    masked[rows, top] = 0.0
    others[rows, top] = masked.sum(axis=1)
    return (1.0 - p) ** 2 + np.maximum(others, 0.0)


@register_strategy
class ExpectedGradientLength(ScoringStrategy):
    """Top-k by :func:`expected_gradient_length`, scored chunk by chunk over the pool."""

    name = "egl"
    input_name, more_inputs = "proba", ("embeddings",)
    score_fn = staticmethod(expected_gradient_length)

    def __init__(
        self, bias: bool = False, chunk_size: int = DEFAULT_CHUNK_SIZE, n_jobs: int | None = None
    ) -> None:
        super().__init__(chunk_size, n_jobs)
        self.bias = bias

    def _score_params(self) -> dict[str, Any]:
        return {"bias": self.bias}
