"""Simulated active learning for regression and multi-label data: learning curves versus random.

A face over the round engine (:class:`labelwise.loop.RoundEngine`), as the classification
simulation: per seed the data is split into a pool and a test split, an initial set is drawn at
random, and each round the engine fits the model on the labeled set, the model is scored on the
test split, and the engine picks the next batch from the pool's features (the strategy never sees
a pool label before it is revealed, nor any test label). The same model trained on the whole pool
gives the ceiling the targets are fractions of.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from labelwise.datasets.tasks import TaskDataset, load_task_dataset
from labelwise.errors import InvalidInputError
from labelwise.loop import RoundEngine
from labelwise.loop.capabilities import check_runnable
from labelwise.simulate import multilabel as ml
from labelwise.simulate import regression as reg
from labelwise.strategies import available_strategies, get_strategy

__all__ = [
    "DEFAULT_STRATEGY",
    "TaskResult",
    "TaskSimulationConfig",
    "primary_metric",
    "run_task_simulation",
]

Task = Literal["regression", "multilabel"]
#: The strategy each task's simulation compares with random when none is named: the best area
#: under the curve in small runs (diabetes, 10 seeds; yeast, 3 seeds), never below random's.
DEFAULT_STRATEGY: dict[str, str] = {
    "regression": "qbc_variance",
    "multilabel": "multilabel_adaptive",
}
DEFAULT_MODEL: dict[str, str] = {"regression": "bayes_ridge", "multilabel": "logreg"}


def primary_metric(task: str) -> str:
    """The test metric a task's learning curve follows (higher is better): R2 or micro-F1."""
    return reg.PRIMARY_METRIC if task == "regression" else ml.PRIMARY_METRIC


@dataclass(frozen=True)
class TaskSimulationConfig:
    """One regression or multi-label simulation.

    Parameters
    ----------
    task : ``"regression"`` or ``"multilabel"``.
    dataset : a shipped set of that task type (:data:`labelwise.datasets.tasks.TASK_DATASETS`).
    strategies : strategy names; random is added first unless ``baseline`` is False.
    seeds : one curve per strategy and seed (seed s: the split, the initial set, the model).
    initial, batch_size, budget : labels at the start, per round, and at the end.
    test_size : held-out fraction.
    pool_size : subsample the pool to this many items (None: all of it).
    targets : fractions of the full-data metric to report labels-to-target for.
    model : the task's model (see ``make_regressor`` / ``make_multilabel_model``); None: default.
    n_bootstrap : bootstrap members of a regression model (predictive variance, QBC, EMCM).
    """

    task: Task
    dataset: str
    strategies: tuple[str, ...] = ()
    seeds: tuple[int, ...] = (0, 1, 2)
    initial: int = 20
    batch_size: int = 10
    budget: int = 200
    test_size: float = 0.25
    pool_size: int | None = None
    targets: tuple[float, ...] = (0.95, 0.98)
    model: str | None = None
    n_bootstrap: int = 5
    baseline: bool = True

    def __post_init__(self) -> None:
        if self.task not in ("regression", "multilabel"):
            raise InvalidInputError(f"task must be regression or multilabel, got {self.task!r}")
        if not 1 <= self.initial <= self.budget:
            raise InvalidInputError(f"need 1 <= initial ({self.initial}) <= budget ({self.budget})")
        if self.batch_size < 1:
            raise InvalidInputError(f"batch_size must be at least 1, got {self.batch_size}")
        if not 0.0 < self.test_size < 1.0:
            raise InvalidInputError(f"test_size must lie in (0, 1), got {self.test_size}")
        if not self.seeds:
            raise InvalidInputError("give at least one seed")
        served = available_strategies(self.task)
        for name in self.strategies:
            if name not in served:
                raise InvalidInputError(
                    f"strategy {name!r} does not serve {self.task}; those that do: "
                    f"{', '.join(served)}"
                )

    @property
    def run_strategies(self) -> tuple[str, ...]:
        """Random first (the baseline), then the named strategies (default: the task's)."""
        named = self.strategies or (DEFAULT_STRATEGY[self.task],)
        head = ("random",) if self.baseline else ()
        return tuple(dict.fromkeys(head + named))

    @property
    def model_name(self) -> str:
        return self.model or DEFAULT_MODEL[self.task]


@dataclass
class TaskResult:
    """What a run measured: one row per round, and each seed's full-data metric."""

    config: TaskSimulationConfig
    data: TaskDataset
    rounds: pd.DataFrame
    full_data: dict[int, float] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass(frozen=True)
class _Split:
    X_pool: NDArray[np.float64]
    y_pool: NDArray[Any]
    X_test: NDArray[np.float64]
    y_test: NDArray[Any]


def _split(data: TaskDataset, config: TaskSimulationConfig, seed: int) -> _Split:
    """Test split, pool subsample and feature standardization (pool statistics: features only)."""
    rng = np.random.default_rng([seed, 1])
    order = rng.permutation(data.X.shape[0])
    n_test = max(1, round(config.test_size * order.size))
    test, pool = order[:n_test], order[n_test:]
    if config.pool_size is not None and pool.size > config.pool_size:
        pool = pool[: config.pool_size]
    if pool.size < config.budget:
        raise InvalidInputError(
            f"the pool of {data.name} holds {pool.size} items, fewer than the budget "
            f"{config.budget}: lower --budget or --test-size"
        )
    mean = data.X[pool].mean(axis=0)
    scale = data.X[pool].std(axis=0)
    scale[scale == 0] = 1.0
    return _Split(
        (data.X[pool] - mean) / scale, data.y[pool], (data.X[test] - mean) / scale, data.y[test]
    )


def _model(config: TaskSimulationConfig, seed: int) -> Any:
    if config.task == "regression":
        return reg.make_regressor(config.model_name, seed, config.n_bootstrap)
    return ml.make_multilabel_model(config.model_name, seed)


def _evaluate(model: Any, task: str, split: _Split) -> dict[str, float]:
    if task == "regression":
        return reg.regression_metrics(split.y_test, model.predict(split.X_test))
    return ml.multilabel_metrics(split.y_test, model.predict(split.X_test))


def full_data_metric(config: TaskSimulationConfig, split: _Split, seed: int) -> float:
    """The primary metric of the model trained on the whole pool: the curve's ceiling."""
    model = _model(config, seed).fit(split.X_pool, split.y_pool)
    return _evaluate(model, config.task, split)[primary_metric(config.task)]


def task_learning_curve(
    config: TaskSimulationConfig, split: _Split, strategy: str, seed: int
) -> list[dict[str, Any]]:
    """One strategy's curve for one seed: a row per round, from ``initial`` to ``budget``."""
    model = _model(config, seed)
    engine = RoundEngine(model, strategy, dense_features=True)
    rng = np.random.default_rng([seed, 2, zlib.crc32(strategy.encode())])
    labeled = np.zeros(split.y_pool.shape[0], dtype=bool)
    labeled[np.random.default_rng([seed, 3]).permutation(labeled.size)[: config.initial]] = True
    rows: list[dict[str, Any]] = []
    for round_index in range(10**9):
        engine.fit(split.X_pool[labeled], split.y_pool[labeled])  # the oracle's answers
        row: dict[str, Any] = {
            "strategy": strategy,
            "seed": seed,
            "round": round_index,
            "n_labels": int(labeled.sum()),
            **_evaluate(model, config.task, split),
        }
        rows.append(row)
        n_left = config.budget - int(labeled.sum())
        if n_left <= 0:
            break
        open_rows = np.flatnonzero(~labeled)
        t0 = time.perf_counter()
        result = engine.select(split.X_pool[open_rows], min(config.batch_size, n_left), rng)
        row["acquisition_seconds"] = time.perf_counter() - t0
        labeled[open_rows[result.indices]] = True
    return rows


def run_task_simulation(config: TaskSimulationConfig) -> TaskResult:
    """Every strategy for every seed, and the full-data ceiling per seed."""
    t0 = time.perf_counter()
    data = load_task_dataset(config.dataset, config.task)
    probe = _model(config, 0)
    for name in config.run_strategies:
        check_runnable(get_strategy(name), probe, hint=f"model {config.model_name!r}")
    rows: list[dict[str, Any]] = []
    full: dict[int, float] = {}
    for seed in config.seeds:
        split = _split(data, config, seed)
        full[seed] = full_data_metric(config, split, seed)
        for name in config.run_strategies:
            rows.extend(task_learning_curve(config, split, name, seed))
    return TaskResult(config, data, pd.DataFrame(rows), full, time.perf_counter() - t0)


#: Default data set of each task's simulation.
DEFAULT_DATASET: dict[str, str] = {"regression": "diabetes", "multilabel": "yeast"}
#: The classification simulation's settings that mean the same here.
_SHARED_SETTINGS = ("initial", "batch_size", "budget", "test_size", "pool_size")


def config_from_settings(task: str, settings: dict[str, Any]) -> TaskSimulationConfig:
    """A task simulation from the settings ``labelwise simulate`` was given (only those given).

    ``dataset`` (default: diabetes / yeast), ``strategies`` (comma-separated), ``seeds`` (a
    tuple), ``target`` (one fraction: else 95% and 98%), ``baseline``, and the shared sizes.
    Settings that only mean something for classification are refused by name.
    """
    if task not in ("regression", "multilabel"):
        raise InvalidInputError(f"task must be regression or multilabel, got {task!r}")
    known = {*_SHARED_SETTINGS, "dataset", "strategies", "seeds", "target", "baseline"}
    unused = sorted(set(settings) - known)
    if unused:
        flags = ", ".join("--" + name.replace("_", "-") for name in unused)
        raise InvalidInputError(f"{flags}: for classification only, not for --task {task}")
    values: dict[str, Any] = {name: settings[name] for name in _SHARED_SETTINGS if name in settings}
    if "strategies" in settings:
        values["strategies"] = tuple(
            s.strip() for s in str(settings["strategies"]).split(",") if s.strip() != "random"
        )
    if "seeds" in settings:  # a count (3: seeds 0..2) or the seeds themselves
        seeds = settings["seeds"]
        values["seeds"] = tuple(range(seeds)) if isinstance(seeds, int) else tuple(seeds)
    if "target" in settings:
        values["targets"] = (float(settings["target"]),)
    if "baseline" in settings:
        values["baseline"] = bool(settings["baseline"])
    dataset = str(settings.get("dataset", DEFAULT_DATASET[task]))
    return TaskSimulationConfig(task, dataset, **values)  # type: ignore[arg-type]
