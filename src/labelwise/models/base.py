"""The one model protocol: ``fit``, ``predict_proba`` and, where the model can, the extras that
Bayesian and diversity strategies need (``sample_proba``, ``committee_proba``, ``embed``,
``grad_embed``).

Any scikit-learn classifier with ``predict_proba`` drops in through
:class:`labelwise.models.SklearnModel`; PyTorch modules through ``labelwise.models.torch``.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray


@runtime_checkable
class Model(Protocol):
    """What every model adapter offers. ``classes_`` holds the label of each probability column."""

    classes_: NDArray[Any]

    def fit(self, X: Any, y: Any) -> Model:
        """Train on labeled data (warm start where the adapter supports it) and return self."""
        ...

    def predict_proba(self, X: Any) -> NDArray[np.floating]:
        """Class probabilities of shape (N, C), columns in the order of ``classes_``."""
        ...


@runtime_checkable
class SupportsSampling(Protocol):
    """Models with a predictive distribution: MC Dropout passes or ensemble members."""

    def sample_proba(
        self, X: Any, n_samples: int, rng: np.random.Generator | int | None = None
    ) -> NDArray[np.floating]:
        """Probabilities of shape (K, N, C) from K stochastic forward passes or members."""
        ...


@runtime_checkable
class SupportsCommittee(Protocol):
    """Committees for query-by-committee (bootstrap committees, ensembles)."""

    def committee_proba(self, X: Any) -> NDArray[np.floating]:
        """Probabilities of shape (M, N, C), one slice per committee member."""
        ...


@runtime_checkable
class SupportsEmbedding(Protocol):
    """Models that expose a representation (the penultimate layer) for diversity strategies."""

    def embed(self, X: Any) -> NDArray[np.floating]:
        """Embeddings of shape (N, d)."""
        ...


@runtime_checkable
class SupportsGradEmbedding(Protocol):
    """Models that compute explicit last-layer gradient embeddings (BADGE)."""

    def grad_embed(self, X: Any) -> NDArray[np.floating]:
        """Gradient embeddings of shape (N, C * d)."""
        ...
