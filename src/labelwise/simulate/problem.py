"""One seed's experiment set-up: the pool / test split (the fence) and the initial labeled set.

The test split is cut off before anything else happens and never enters the pool: strategies
only ever see model outputs computed on pool features (see :mod:`labelwise.simulate.runner`).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from labelwise.datasets import Dataset
from labelwise.errors import InvalidInputError
from labelwise.simulate.config import SimulationConfig

#: Independent random streams derived from one seed, so that adding a strategy never shifts
#: the split or the initial set of the others.
STREAM_SPLIT, STREAM_INITIAL, STREAM_MODEL, STREAM_STRATEGY = 0, 1, 2, 3


def seed_rng(seed: int, stream: int, name: str = "") -> np.random.Generator:
    """A generator for one purpose (``stream``) of one seed, optionally per strategy name."""
    return np.random.default_rng([seed, stream, zlib.crc32(name.encode())])


@dataclass(frozen=True)
class Problem:
    """The arrays of one seed: the pool (labels hidden behind the oracle) and the test split."""

    X_pool: NDArray[np.floating]
    y_pool: NDArray[np.intp]
    X_test: NDArray[np.floating]
    y_test: NDArray[np.intp]
    class_names: tuple[str, ...]
    pool_ids: NDArray[np.intp]
    test_ids: NDArray[np.intp] | None

    @property
    def n_classes(self) -> int:
        """Number of classes C."""
        return len(self.class_names)


def make_problem(dataset: Dataset, config: SimulationConfig, seed: int) -> Problem:
    """Split ``dataset`` for ``seed``: its fixed test split, or a stratified random one.

    ``pool_ids`` / ``test_ids`` are row numbers in ``dataset.X`` (``test_ids`` is ``None`` for a
    fixed test split); they never overlap.
    """
    rng = seed_rng(seed, STREAM_SPLIT)
    n = len(dataset.X)
    if dataset.X_test is not None and dataset.y_test is not None:
        pool_ids = np.arange(n)
        test_ids = None
        X_test, y_test = dataset.X_test, dataset.y_test
    else:
        test_ids = stratified_holdout(dataset.y, config.test_size, rng)
        pool_mask = np.ones(n, dtype=bool)
        pool_mask[test_ids] = False
        pool_ids = np.flatnonzero(pool_mask)
        X_test, y_test = dataset.X[test_ids], dataset.y[test_ids]
    if config.pool_size is not None and config.pool_size < pool_ids.size:
        pool_ids = np.sort(rng.choice(pool_ids, size=config.pool_size, replace=False))
    if test_ids is not None and np.intersect1d(pool_ids, test_ids).size:
        raise AssertionError("the test split leaked into the pool")  # the fence, checked
    if config.budget > pool_ids.size:
        raise InvalidInputError(
            f"budget {config.budget} exceeds the pool of {pool_ids.size} items: lower --budget"
        )
    return Problem(
        X_pool=dataset.X[pool_ids],
        y_pool=dataset.y[pool_ids],
        X_test=X_test,
        y_test=y_test,
        class_names=dataset.class_names,
        pool_ids=pool_ids,
        test_ids=test_ids,
    )


def stratified_holdout(
    y: NDArray[np.intp], fraction: float, rng: np.random.Generator
) -> NDArray[np.intp]:
    """Row numbers of a test split holding ``fraction`` of every class (at least one each)."""
    chosen = []
    for c in np.unique(y):
        rows = np.flatnonzero(y == c)
        k = min(max(1, round(fraction * rows.size)), rows.size - 1)
        chosen.append(rng.choice(rows, size=k, replace=False))
    return np.sort(np.concatenate(chosen))


def initial_indices(
    y_pool: NDArray[np.intp],
    n_initial: int,
    how: str,
    rng: np.random.Generator,
    n_classes: int,
) -> NDArray[np.intp]:
    """The initial labeled set: ``n_initial`` pool indices, uniformly or balanced per class.

    ``balanced`` takes ``n_initial // C`` items of every class (the remainder from classes
    chosen at random), as Gal et al. (2017) start from 2 labels per MNIST class.
    """
    if how == "random":
        return np.sort(rng.choice(y_pool.size, size=n_initial, replace=False)).astype(np.intp)
    counts = np.full(n_classes, n_initial // n_classes)
    counts[rng.choice(n_classes, size=n_initial % n_classes, replace=False)] += 1
    chosen = []
    for c in range(n_classes):
        rows = np.flatnonzero(y_pool == c)
        if rows.size < counts[c]:
            raise InvalidInputError(
                f"class {c} has only {rows.size} pool items for a balanced start"
            )
        chosen.append(rng.choice(rows, size=counts[c], replace=False))
    return np.sort(np.concatenate(chosen)).astype(np.intp)
