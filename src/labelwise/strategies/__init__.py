"""Acquisition strategies: arrays in, scores and selected pool indices out.

Scoring functions (``entropy(proba) -> (N,)`` ...) are pure and chunkable; every strategy also
has a :class:`Strategy` object with ``select(inputs, batch_size, rng)`` and a registry name.
"""

from labelwise.strategies.base import (
    INPUT_NAMES,
    PoolInputs,
    ScoringStrategy,
    Selection,
    Strategy,
    available_strategies,
    get_strategy,
    register_strategy,
)
from labelwise.strategies.chunking import score_in_chunks
from labelwise.strategies.topk import StreamingTopK, random, top_k
from labelwise.strategies.uncertainty import entropy, least_confidence, margin, ratio

__all__ = [
    "INPUT_NAMES",
    "PoolInputs",
    "ScoringStrategy",
    "Selection",
    "Strategy",
    "StreamingTopK",
    "available_strategies",
    "entropy",
    "get_strategy",
    "least_confidence",
    "margin",
    "random",
    "ratio",
    "register_strategy",
    "score_in_chunks",
    "top_k",
]
