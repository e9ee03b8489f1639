"""Uniform random sampling: the baseline every strategy is measured against."""

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


def random(
    n_pool: int,
    batch_size: int,
    rng: np.random.Generator | int | None = None,
    exclude: ArrayLike | None = None,
) -> NDArray[np.intp]:
    """``batch_size`` distinct pool indices drawn uniformly outside ``exclude`` (the baseline)."""
    return select_indices(Random(), batch_size, rng, exclude, pool_size=n_pool)


@register_strategy
class Random(Strategy):
    """Uniform random sampling (:func:`random`); scores are zeros.

    Reads no array: ``PoolInputs(pool_size=n)`` is enough for a pool of n items.
    """

    name: ClassVar[str] = "random"
    needs = frozenset()

    def _select(self, inputs: PoolInputs, batch_size: int, rng: Rng, exclude: Mask) -> Selection:
        candidates = np.flatnonzero(~exclude)
        idx = np.asarray(rng.choice(candidates, size=batch_size, replace=False), dtype=np.intp)
        return Selection(idx, np.zeros(idx.size))
