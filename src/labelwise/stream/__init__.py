"""Stream-based selection: items arrive one by one, a stream rule decides which to label.

Sources (:mod:`~labelwise.stream.sources`: an iterable, a JSONL file read as it grows, an HTTP
endpoint polled with httpx) yield :class:`StreamItem`; a :class:`StreamSelector` scores each with
its model and asks a stream rule of :mod:`labelwise.strategies.stream` (budgets per window of
items kept exactly, and optionally a :class:`TimeWindowBudget`); a :class:`StreamRun` puts asked
items into the store's queue and teaches the model the answers annotators give.
:func:`simulate_stream` measures a rule against random labeling at the same budget.
"""

from labelwise.stream.budget import RandomLabeling, TimeWindowBudget
from labelwise.stream.items import StreamItem, item_from_record
from labelwise.stream.runner import StreamReport, StreamRun
from labelwise.stream.scoring import labelstudio_score, uncertainty
from labelwise.stream.selector import Decision, StreamSelector, featurize
from labelwise.stream.simulate import (
    StreamSimulation,
    StreamSimulationConfig,
    simulate_stream,
    write_stream_results,
)
from labelwise.stream.sources import follow_jsonl, from_iterable, poll_http

__all__ = [
    "Decision",
    "RandomLabeling",
    "StreamItem",
    "StreamReport",
    "StreamRun",
    "StreamSelector",
    "StreamSimulation",
    "StreamSimulationConfig",
    "TimeWindowBudget",
    "featurize",
    "follow_jsonl",
    "from_iterable",
    "item_from_record",
    "labelstudio_score",
    "poll_http",
    "simulate_stream",
    "uncertainty",
    "write_stream_results",
]
