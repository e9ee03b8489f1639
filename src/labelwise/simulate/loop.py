"""One learning curve: a strategy, a seed, the known labels playing the oracle.

A face over the round engine (:class:`labelwise.loop.RoundEngine`): each round fits the model
on the labeled set, evaluates it on the test split, lets the engine compute what the strategy
declared it needs *on pool features only* and choose a batch, and reveals those labels. The
strategy never receives a label: neither the pool's nor the test split's (the evaluation-set
fence).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelwise.loop import RoundEngine
from labelwise.models import Model
from labelwise.simulate.config import SimulationConfig
from labelwise.simulate.metrics import evaluate
from labelwise.simulate.models import make_model
from labelwise.simulate.problem import (
    STREAM_INITIAL,
    STREAM_STRATEGY,
    Problem,
    initial_indices,
    seed_rng,
)

Row = dict[str, Any]
RoundCallback = Callable[[Row], None]


def build_model(problem: Problem, config: SimulationConfig, seed: int, image_shape: Any) -> Model:
    """The configured model for one seed's problem."""
    return make_model(
        config.model,
        problem.n_classes,
        int(problem.X_pool.shape[1]),
        seed,
        image_shape=image_shape,
        device=config.device,
        params=config.model_params,
        pool_features=problem.X_pool,  # features only: the pool's labels stay with the oracle
    )


def full_data_accuracy(
    problem: Problem, config: SimulationConfig, seed: int, image_shape: Any = None
) -> float:
    """Test accuracy of the same model trained on the whole pool: the ceiling of the curve."""
    model = build_model(problem, config, seed, image_shape)
    model.fit(problem.X_pool, problem.y_pool)
    proba = np.asarray(model.predict_proba(problem.X_test))
    return float(np.mean(proba.argmax(axis=1) == problem.y_test))


def learning_curve(
    problem: Problem,
    strategy_name: str,
    seed: int,
    config: SimulationConfig,
    *,
    image_shape: Any = None,
    on_round: RoundCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[Row]:
    """Run one strategy for one seed from the initial set to the budget (or to
    ``config.stop_accuracy``); one row per round.

    Rows hold ``strategy, seed, round, n_labels, accuracy, macro_f1, ece, train_seconds,
    acquisition_seconds, choice`` (what chose the labels added before this round: the
    cold-start strategy, or ``auto:<arm>``) and ``recall_<class>`` for each class.
    ``on_round`` receives each row as it is made; ``should_stop`` is asked between rounds
    (Ctrl-C keeps what finished).
    """
    model = build_model(problem, config, seed, image_shape)
    engine = RoundEngine(
        model, strategy_name, n_samples=config.n_mc_samples, diversity=config.diversity
    )
    labeled = np.zeros(problem.y_pool.size, dtype=bool)
    start = initial_indices(
        problem.y_pool,
        config.initial,
        config.initial_strategy,
        seed_rng(seed, STREAM_INITIAL),
        problem.n_classes,
    )
    labeled[start] = True
    rng = seed_rng(seed, STREAM_STRATEGY, strategy_name)
    rows: list[Row] = []
    acquisition_seconds = 0.0
    choice = ""  # what chose the labels this round's model was trained on
    for round_index in range(10**9):
        engine.fit(problem.X_pool[labeled], problem.y_pool[labeled])  # the oracle's answers
        train_seconds = engine.fit_seconds
        row = _evaluate_round(model, problem, strategy_name, seed, round_index, int(labeled.sum()))
        row.update(
            train_seconds=train_seconds, acquisition_seconds=acquisition_seconds, choice=choice
        )
        rows.append(row)
        if on_round is not None:
            on_round(row)
        n_left = config.budget - int(labeled.sum())
        reached = config.stop_accuracy is not None and row["accuracy"] >= config.stop_accuracy
        if n_left <= 0 or labeled.all() or reached or (should_stop is not None and should_stop()):
            break
        t0 = time.perf_counter()
        chosen, choice = acquire(
            engine, problem.X_pool, labeled, min(config.batch_size, n_left), config, rng
        )
        acquisition_seconds = time.perf_counter() - t0
        if labeled[chosen].any():
            raise AssertionError(f"{strategy_name} chose an already labeled item")
        labeled[chosen] = True
    return rows


def acquire(
    engine: RoundEngine,
    X_pool: NDArray[Any],
    labeled: NDArray[np.bool_],
    batch_size: int,
    config: SimulationConfig,
    rng: np.random.Generator,
) -> tuple[NDArray[np.intp], str]:
    """Pool indices of the next batch, and what chose them (the engine's ``strategy``:
    ``auto:<arm>`` for ``auto``, the cold-start strategy before the model can rank).

    The strategy sees model outputs on pool features only (a random subset of
    ``config.candidates`` unlabeled items where set, as Gal et al. 2017)."""
    candidates = np.flatnonzero(~labeled)
    if config.candidates is not None and candidates.size > config.candidates:
        candidates = np.sort(rng.choice(candidates, size=config.candidates, replace=False))
    batch_size = min(batch_size, candidates.size)
    result = engine.select(X_pool[candidates], batch_size, rng)  # labeled set: the last fit's
    return candidates[result.indices], result.strategy


def _evaluate_round(
    model: Model, problem: Problem, strategy: str, seed: int, round_index: int, n_labels: int
) -> Row:
    proba = np.asarray(model.predict_proba(problem.X_test))
    scores = evaluate(proba, problem.y_test)
    row: Row = {
        "strategy": strategy,
        "seed": seed,
        "round": round_index,
        "n_labels": n_labels,
        "accuracy": scores["accuracy"],
        "macro_f1": scores["macro_f1"],
        "ece": scores["ece"],
    }
    recall = np.asarray(scores["recall"])
    for name, value in zip(problem.class_names, recall, strict=True):
        row[f"recall_{name}"] = float(value)
    return row
