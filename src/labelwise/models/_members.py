"""What committees and ensembles share: predictions from a list of fitted members."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelwise.errors import InvalidInputError
from labelwise.models._labels import require_fitted


def check_n_samples(n_samples: int) -> int:
    """A number of probability samples: a positive int."""
    if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer):
        raise InvalidInputError(f"n_samples must be an int, got {type(n_samples).__name__}")
    if n_samples < 1:
        raise InvalidInputError(f"n_samples must be at least 1, got {n_samples}")
    return int(n_samples)


class MemberPredictions:
    """Mixin for models whose fitted state is ``members_`` (each with ``predict_proba``):
    committee, consensus and member samples."""

    members_: list[Any]

    def committee_proba(self, X: Any) -> NDArray[np.float64]:
        """Probabilities of shape (M, N, C), one slice per member."""
        require_fitted(self, "members_")
        return np.stack([member.predict_proba(X) for member in self.members_])

    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        """The consensus: the mean of the members' probabilities, shape (N, C)."""
        return self.committee_proba(X).mean(axis=0)

    def sample_proba(
        self, X: Any, n_samples: int, rng: np.random.Generator | int | None = None
    ) -> NDArray[np.float64]:
        """The members as draws from the posterior: shape (M, N, C), whatever ``n_samples`` is.

        A committee's predictive distribution is its M members, equally weighted; it has no
        more draws to give and dropping some would only add noise. So the number of samples
        follows the committee's size: ``n_samples`` (the number a caller would ask of an MC
        Dropout model, 20 by default in :func:`labelwise.models.compute_inputs`) is checked to
        be a positive int and otherwise ignored, as is ``rng``. Callers read K from the
        result's first axis, never from what they asked.
        """
        require_fitted(self, "members_")
        check_n_samples(n_samples)
        return self.committee_proba(X)
