"""What committees and ensembles share: predictions from a list of fitted members."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelwise.errors import InvalidInputError
from labelwise.models._labels import require_fitted


def check_n_samples(n_samples: int, available: int) -> int:
    """A number of probability samples between 1 and the members available."""
    if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer):
        raise InvalidInputError(f"n_samples must be an int, got {type(n_samples).__name__}")
    if not 1 <= n_samples <= available:
        raise InvalidInputError(
            f"n_samples={n_samples} must lie between 1 and the {available} committee member(s)"
        )
    return int(n_samples)


class MemberPredictions:
    """Mixin for models whose fitted state is ``members_`` (each with ``predict_proba``) and whose
    size is ``n_members``: committee, consensus and member samples."""

    members_: list[Any]
    n_members: int

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
        """Probabilities of the first ``n_samples`` members, shape (K, N, C); ``rng`` is unused."""
        require_fitted(self, "members_")
        k = check_n_samples(n_samples, self.n_members)
        return np.stack([member.predict_proba(X) for member in self.members_[:k]])
