"""``run_simulation(config)``: strategies x seeds in parallel processes, with a progress bar.

Each job (one strategy, one seed; or one seed's full-data reference) runs in a worker process
that loads the dataset once. Rows stream back round by round over a queue, so a Ctrl-C keeps
every round that finished: the workers are told to stop after their current round and the
partial results are returned (``complete=False``).
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import queue as queue_mod
import signal
import sys
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from labelwise.datasets import Dataset, load_dataset
from labelwise.simulate.config import SimulationConfig
from labelwise.simulate.loop import Row, full_data_accuracy, learning_curve
from labelwise.simulate.problem import Problem, make_problem

FULL_DATA = "__full_data__"
Job = tuple[str, int]


@dataclass(frozen=True)
class SimulationResult:
    """Every round of every strategy and seed, the full-data accuracies, and the config.

    ``rounds`` is tidy: one row per (strategy, seed, round). ``full_data_accuracy`` maps each
    seed to the test accuracy of the model trained on the whole pool (empty when not measured).
    ``complete`` is False when the run was interrupted.
    """

    config: SimulationConfig
    rounds: pd.DataFrame
    full_data_accuracy: dict[int, float] = field(default_factory=dict)
    complete: bool = True
    dataset_info: dict[str, Any] = field(default_factory=dict)


def n_rounds(config: SimulationConfig) -> int:
    """Rounds per curve, the initial one included."""
    return 1 + math.ceil((config.budget - config.initial) / config.batch_size)


class _JobRunner:
    """Loads the dataset once and runs jobs for any seed (one per process)."""

    def __init__(self, config: SimulationConfig, dataset: Dataset | None = None):
        self.config = config
        self.dataset = dataset if dataset is not None else load_config_dataset(config)
        self._problems: dict[int, Problem] = {}

    def problem(self, seed: int) -> Problem:
        if seed not in self._problems:
            self._problems = {seed: make_problem(self.dataset, self.config, seed)}
        return self._problems[seed]

    def run(
        self, job: Job, emit: Callable[[tuple[Any, ...]], None], stop: Callable[[], bool]
    ) -> None:
        name, seed = job
        problem = self.problem(seed)
        shape = self.dataset.image_shape
        if name == FULL_DATA:
            emit(("full", seed, full_data_accuracy(problem, self.config, seed, shape)))
            return
        learning_curve(
            problem,
            name,
            seed,
            self.config,
            image_shape=shape,
            on_round=lambda row: emit(("row", row)),
            should_stop=stop,
        )


def load_config_dataset(config: SimulationConfig) -> Dataset:
    """The dataset a config names, loaded with its data options."""
    return load_dataset(
        config.dataset,
        data_dir=config.data_dir,
        label_column=config.label_column,
        text_features=config.text_features,
    )


# ------------------------------------------------------------------------ worker processes
_WORKER: dict[str, Any] = {}


def _init_worker(config: SimulationConfig, events: Any, stop: Any, threads: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
    except ImportError:  # pragma: no cover
        pass
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    runner = _JobRunner(config, _WORKER.pop("preloaded", None))
    _WORKER.update(runner=runner, events=events, stop=stop)


def _run_in_worker(job: Job) -> None:
    runner: _JobRunner = _WORKER["runner"]
    events, stop = _WORKER["events"], _WORKER["stop"]
    if stop.is_set():
        return
    runner.run(job, events.put, stop.is_set)


# --------------------------------------------------------------------------- the driver
def jobs_of(config: SimulationConfig) -> list[Job]:
    """Full-data references first, then every (strategy, seed), seeds interleaved."""
    jobs: list[Job] = [(FULL_DATA, s) for s in config.seeds] if config.full_data else []
    return jobs + [(name, seed) for seed in config.seeds for name in config.strategies]


def run_simulation(
    config: SimulationConfig,
    *,
    progress: bool = False,
    dataset: Dataset | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
) -> SimulationResult:
    """Run every strategy for every seed and return the rounds and the full-data accuracies.

    Parameters
    ----------
    config : the experiment.
    progress : show a progress bar (on stderr) over rounds, with the running best strategy.
    dataset : an already loaded dataset; default: load ``config.dataset`` (once: forked
        workers inherit it).
    checkpoint : a CSV file that receives every round as it finishes (a run killed from
        outside keeps its rounds there).

    Examples
    --------
    >>> cfg = SimulationConfig(dataset="iris", strategies=("margin",), seeds=1, initial=6,
    ...                        batch_size=6, budget=18, full_data=False)
    >>> run_simulation(cfg).rounds["n_labels"].tolist()
    [6, 12, 18, 6, 12, 18]
    """
    if dataset is None:
        dataset = load_config_dataset(config)
    collector = _Collector(config, checkpoint)
    collector.dataset = dataset
    display = _Progress(config, collector, enabled=progress)
    complete = True
    with display:
        try:
            if config.workers == 1:
                runner = _JobRunner(config, dataset)
                with _single_threaded_blas():
                    for job in jobs_of(config):
                        runner.run(job, display.handle, lambda: False)
            else:
                _WORKER["preloaded"] = dataset  # inherited by forked workers, not re-read
                try:
                    _run_pool(config, display)
                finally:
                    _WORKER.pop("preloaded", None)
        except KeyboardInterrupt:
            complete = False
    return collector.result(complete)


def _single_threaded_blas() -> Any:
    """One BLAS thread for the small, many fits of a simulation (several threads fight over
    the cores and make each fit many times slower), restored on exit."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        from contextlib import nullcontext

        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _run_pool(config: SimulationConfig, display: _Progress) -> None:
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    events = ctx.Queue()
    stop = ctx.Event()
    threads = max(1, (os.cpu_count() or 1) // config.workers)
    jobs = jobs_of(config)
    with ProcessPoolExecutor(
        max_workers=min(config.workers, len(jobs)),
        mp_context=ctx,
        initializer=_init_worker,
        initargs=(config, events, stop, threads),
    ) as pool:
        futures: list[Future[None]] = [pool.submit(_run_in_worker, job) for job in jobs]
        try:
            while not all(f.done() for f in futures):
                _drain(events, display, timeout=0.2)
                for f in futures:
                    if f.done() and f.exception() is not None:
                        stop.set()
                        raise f.exception()  # type: ignore[misc]
        except KeyboardInterrupt:
            stop.set()
            for f in futures:
                f.cancel()
            display.note("interrupted: finishing the rounds in flight (Ctrl-C again to abort)")
            while not all(f.done() for f in futures):
                _drain(events, display, timeout=0.2)
            _drain(events, display, timeout=0.2)
            raise
        _drain(events, display, timeout=0.2)


def _drain(events: Any, display: _Progress, timeout: float) -> None:
    try:
        item = events.get(timeout=timeout)
    except queue_mod.Empty:
        return
    display.handle(item)
    while True:
        try:
            display.handle(events.get_nowait())
        except queue_mod.Empty:
            return


class _Collector:
    """Gathers the rows and full-data accuracies as they arrive."""

    def __init__(self, config: SimulationConfig, checkpoint: Any = None):
        self.config = config
        self.checkpoint = checkpoint
        if checkpoint is not None:
            open(checkpoint, "w").close()
        self.rows: list[Row] = []
        self.full: dict[int, float] = {}
        self.dataset: Dataset | None = None

    def add(self, event: tuple[Any, ...]) -> None:
        if event[0] == "row":
            self.rows.append(event[1])
            if self.checkpoint is not None:
                pd.DataFrame([event[1]]).to_csv(
                    self.checkpoint, mode="a", index=False, header=len(self.rows) == 1
                )
        elif event[0] == "full":
            self.full[int(event[1])] = float(event[2])

    def running_best(self) -> str:
        """The strategy with the best mean accuracy at the latest round all have reached."""
        if not self.rows:
            return "-"
        frame = pd.DataFrame(self.rows)
        latest = frame.groupby("strategy")["round"].max()
        if len(latest) < len(self.config.strategies):
            return "-"
        at = frame[frame["round"] == latest.min()].groupby("strategy")["accuracy"].mean()
        return f"{at.idxmax()} ({at.max():.3f} at round {latest.min()})"

    def result(self, complete: bool) -> SimulationResult:
        frame = pd.DataFrame(self.rows)
        if not frame.empty:
            order = {name: i for i, name in enumerate(self.config.strategies)}
            frame = (
                frame.assign(_o=frame["strategy"].map(order))
                .sort_values(["_o", "seed", "round"], kind="stable")
                .drop(columns="_o")
                .reset_index(drop=True)
            )
        info = {}
        if self.dataset is not None:
            info = {
                "name": self.dataset.name,
                "n": len(self.dataset.X),
                "classes": list(self.dataset.class_names),
            }
        return SimulationResult(
            config=self.config,
            rounds=frame,
            full_data_accuracy=dict(sorted(self.full.items())),
            complete=complete,
            dataset_info=info,
        )


class _Progress:
    """A rich progress bar over rounds that shows the running best strategy."""

    def __init__(self, config: SimulationConfig, collector: _Collector, enabled: bool):
        self.collector = collector
        self.enabled = enabled
        self.total = len(config.strategies) * len(config.seeds) * n_rounds(config)
        self._bar: Any = None
        self._done = 0

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._bar = Progress(
                TextColumn("[bold]rounds"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("best so far: {task.fields[best]}"),
                console=Console(stderr=True),
            )
            if not self._bar.console.is_terminal:  # logs: a plain line every 2% of the rounds
                self._bar = None
                return self
            self._bar.start()
            self._task = self._bar.add_task("rounds", total=self.total, best="-")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def handle(self, event: tuple[Any, ...]) -> None:
        self.collector.add(event)
        if event[0] != "row":
            return
        self._done += 1
        if self._bar is not None:
            self._bar.update(self._task, advance=1, best=self.collector.running_best())
        elif self.enabled and (
            self._done % max(1, self.total // 50) == 0 or self._done == self.total
        ):
            best = self.collector.running_best()
            print(
                f"rounds {self._done}/{self.total}; best so far: {best}",
                file=sys.stderr,
                flush=True,
            )

    def note(self, message: str) -> None:
        if self._bar is not None:
            self._bar.console.print(message)


def rounds_as_arrays(frame: pd.DataFrame, strategy: str) -> dict[int, tuple[Any, Any]]:
    """``seed -> (n_labels, accuracy)`` arrays of one strategy's curves."""
    out = {}
    for seed, group in frame[frame["strategy"] == strategy].groupby("seed"):
        out[int(seed)] = (group["n_labels"].to_numpy(), group["accuracy"].to_numpy(np.float64))
    return out
