"""labelwise as the benchmarks call it: its public scoring functions and its strategy registry.

A function or strategy that does not exist yet (another part of the project still being written)
makes its implementation :class:`~benchmarks.case.Unavailable` instead of failing the run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.case import Data, Params, Unavailable

SEED = 0
MB = 1e6


def labelwise_function(name: str) -> Callable[..., Any]:
    """A public function of :mod:`labelwise.strategies`, or :class:`Unavailable`."""
    import labelwise.strategies as strategies

    fn = getattr(strategies, name, None)
    if fn is None:
        raise Unavailable(f"labelwise.strategies has no {name!r} yet")
    return fn


def labelwise_strategy(name: str) -> Any:
    """A registered strategy built with its defaults, or :class:`Unavailable`."""
    from labelwise.strategies import available_strategies, get_strategy

    if name not in available_strategies():
        raise Unavailable(f"no strategy {name!r} is registered yet")
    return get_strategy(name)


def ours_score(name: str, key: str = "proba") -> Callable[[Data, Params], Callable[[], Any]]:
    """``labelwise.strategies.<name>(data[key])``: one score per pool item."""

    def prepare(data: Data, params: Params) -> Callable[[], Any]:
        fn, array = labelwise_function(name), data[key]
        return lambda: fn(array)

    return prepare


def ours_select(name: str, **inputs: str) -> Callable[[Data, Params], Callable[[], Any]]:
    """``get_strategy(name).select(PoolInputs(field=data[key], ...), batch, rng=0).indices``."""

    def prepare(data: Data, params: Params) -> Callable[[], Any]:
        from labelwise.strategies import PoolInputs

        strategy = labelwise_strategy(name)
        pool_inputs = PoolInputs(**{field: data[key] for field, key in inputs.items()})
        b = params["batch"]
        return lambda: strategy.select(pool_inputs, b, rng=SEED).indices

    return prepare


def picks_check(data: Data, params: Params, output: Any) -> dict[str, Any]:
    """Keep the chosen indices, in order, for comparisons across implementations."""
    return {"picks": np.asarray(output, dtype=np.intp).ravel().tolist()}
