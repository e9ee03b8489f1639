"""Uniform random sampling: the baseline every strategy is measured against."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from labelwise.strategies.base import (
    Mask,
    PoolInputs,
    Rng,
    Selection,
    Strategy,
    register_strategy,
)


@register_strategy
class Random(Strategy):
    """Uniform random sampling (:func:`~labelwise.strategies.topk.random`); scores are zeros.

    Reads no array: ``PoolInputs(pool_size=n)`` is enough for a pool of n items.
    """

    name: ClassVar[str] = "random"
    needs = frozenset()

    def _select(self, inputs: PoolInputs, batch_size: int, rng: Rng, exclude: Mask) -> Selection:
        candidates = np.flatnonzero(~exclude)
        idx = np.asarray(rng.choice(candidates, size=batch_size, replace=False), dtype=np.intp)
        return Selection(idx, np.zeros(idx.size))
