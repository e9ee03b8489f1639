"""Randomness only through an explicit ``rng`` argument: the one rule every package applies."""

from __future__ import annotations

import numpy as np

from labelwise.errors import InvalidInputError


def check_rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    """Return a numpy Generator from a seed, a Generator or None (fresh entropy).

    As ``sklearn.utils.check_random_state``, for numpy Generators only: no global state.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, int | np.integer):
        return np.random.default_rng(rng)
    raise InvalidInputError(
        f"rng must be a numpy Generator, an int seed or None, got {type(rng).__name__}"
    )
