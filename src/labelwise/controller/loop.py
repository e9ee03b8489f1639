"""The loop over the store: train, score the pool chunk by chunk, enqueue, evaluate, stop.

One :meth:`Controller.run_round`:

1. down-weight annotators under the gold-accuracy threshold (relabel by weighted majority);
2. fit the model on the labeled pool samples (warm start from the previous round's fit);
3. score the pool's unlabeled and queued samples with the project's strategy, chunk by chunk;
4. measure: accuracy on the eval split, kappa between this and the previous round's predictions
   on the stop set, the largest uncertainty left in the pool;
5. record the round, its scores and a dataset version; decide whether to stop;
6. unless stopping, re-order the queue by the new scores and top it up to ``batch_size``.

The eval split is never scored nor queued. The latest model stays in memory for pre-annotation
(:meth:`Controller.guess`).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelwise.controller.features import Featurizer, featurizer_for
from labelwise.controller.settings import LOOP_KEY, LoopSettings, loop_settings
from labelwise.controller.stopping import StopDecision, decide_stop, prediction_kappa
from labelwise.controller.weighting import reweight_by_gold
from labelwise.models import SklearnModel
from labelwise.models.inputs import compute_inputs
from labelwise.store import (
    SampleRecord,
    Store,
    enqueue,
    get_project,
    labeled_set,
    list_rounds,
    list_samples,
    record_round,
    status,
)
from labelwise.store.members import update_settings
from labelwise.strategies import PoolInputs, ScoringStrategy, get_strategy

__all__ = ["Controller", "Guess", "RoundReport"]

_OPEN_STATES = ("unlabeled", "queued", "in_progress")


@dataclass(frozen=True)
class RoundReport:
    """What one round did and measured."""

    number: int
    strategy: str
    n_labeled: int
    queued: int
    eval_accuracy: float | None
    kappa: float | None
    max_uncertainty: float | None
    stop: StopDecision


@dataclass(frozen=True)
class Guess:
    """The model's current answer for a sample (pre-annotation)."""

    label: str
    probability: float
    round: int


def _default_estimator() -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=300)


class Controller:
    """Rounds of active learning over one project of the store.

    Parameters
    ----------
    store, project : the store and the project's name
    featurizer : features of ``(text, uri)`` pairs; default from the project's task type
    estimator : a scikit-learn classifier (default ``LogisticRegression``), refitted with warm
        start through :class:`labelwise.models.SklearnModel`
    chunk_size : samples featurised and scored at once
    """

    def __init__(
        self,
        store: Store,
        project: str,
        *,
        featurizer: Featurizer | None = None,
        estimator: Any = None,
        chunk_size: int = 4096,
    ) -> None:
        info = get_project(store, project)
        self.store = store
        self.project = project
        self.classes = list(info.label_space)
        self.featurizer = featurizer or featurizer_for(info.task_type)
        self.chunk_size = chunk_size
        self._model = SklearnModel(
            estimator if estimator is not None else _default_estimator(),
            classes=self.classes,
            warm_start=True,
        )
        self._fitted: tuple[SklearnModel, int] | None = None  # (model, round number)
        self._round_lock = threading.Lock()
        self._stop_set: tuple[list[int], Any] | None = None

    # settings ---------------------------------------------------------------------------
    def settings(self) -> LoopSettings:
        """The project's loop settings as stored."""
        return loop_settings(get_project(self.store, self.project).settings)

    def configure(self, *, actor: str = "labelwise", **changes: Any) -> LoopSettings:
        """Change loop settings (checked first; nothing is stored when one is bad)."""
        new = loop_settings(get_project(self.store, self.project).settings, **changes)
        update_settings(self.store, self.project, {LOOP_KEY: new.to_dict()}, actor=actor)
        return new

    # features ---------------------------------------------------------------------------
    def _features(self, samples: Sequence[SampleRecord]) -> Any:
        return self.featurizer([(s.text, s.uri) for s in samples])

    def _proba(self, model: SklearnModel, samples: Sequence[SampleRecord]) -> NDArray[np.float64]:
        out = np.empty((len(samples), len(self.classes)), dtype=np.float64)
        for start in range(0, len(samples), self.chunk_size):
            chunk = samples[start : start + self.chunk_size]
            out[start : start + len(chunk)] = model.predict_proba(self._features(chunk))
        return out

    # the round --------------------------------------------------------------------------
    def run_round(self, *, actor: str = "labelwise") -> RoundReport:
        """Train, score, measure, record and re-order the queue; one round at a time."""
        with self._round_lock:
            return self._run_round(actor)

    def _run_round(self, actor: str) -> RoundReport:
        info = get_project(self.store, self.project)
        settings = loop_settings(info.settings)
        rng = np.random.default_rng(settings.seed + len(list_rounds(self.store, self.project)))
        reweight_by_gold(self.store, self.project, settings.gold_threshold, actor=actor)
        labeled = labeled_set(self.store, self.project)
        pool = list_samples(self.store, self.project, split="pool")
        candidates = [s for s in pool if s.state in _OPEN_STATES]
        model = self._fit(labeled)
        strategy_name = settings.strategy if model is not None else "random"
        proba = None if model is None else self._proba(model, candidates)
        scores = self._scores(settings, model, proba, labeled, candidates, rng)
        max_unc = None if proba is None or not len(proba) else float(1 - proba.max(axis=1).min())
        eval_accuracy = None if model is None else self._eval_accuracy(model)
        predictions = None if model is None else self._stop_predictions(model, pool, settings)
        kappas = self._kappas(predictions)
        st = status(self.store, self.project)
        stop = decide_stop(
            budget=st.budget,
            budget_used=st.budget_used,
            eval_accuracy=eval_accuracy,
            target_accuracy=settings.target_accuracy,
            kappas=kappas,
            stop_kappa=settings.stop_kappa,
            stop_window=settings.stop_window,
            max_uncertainty=max_unc,
            uncertainty_threshold=settings.max_uncertainty,
        )
        metrics = {
            "n_labeled": len(labeled),
            "annotations": st.annotations,
            "eval_accuracy": eval_accuracy,
            "kappa": kappas[-1] if kappas else None,
            "kappas": kappas,
            "max_uncertainty": max_unc,
            "stop": stop.stop,
            "stop_reason": stop.reason,
            "stop_predictions": predictions,
        }
        info_round = record_round(
            self.store,
            self.project,
            strategy_name,
            model_version=None if model is None else f"labels-{len(labeled)}",
            metrics=metrics,
            sample_ids=[s.id for s in candidates],
            scores=scores.tolist(),
            batch_size=settings.batch_size,
            actor=actor,
        )
        queued = 0
        if not stop.stop and candidates:
            queued = self._requeue(
                candidates, scores, settings.batch_size, info_round.number, actor
            )
        if model is not None:
            self._fitted = (copy.deepcopy(model), info_round.number)  # served while refitting
        return RoundReport(
            number=info_round.number,
            strategy=strategy_name,
            n_labeled=len(labeled),
            queued=queued,
            eval_accuracy=eval_accuracy,
            kappa=kappas[-1] if kappas else None,
            max_uncertainty=max_unc,
            stop=stop,
        )

    def _fit(self, labeled: list[tuple[SampleRecord, str]]) -> SklearnModel | None:
        if not labeled:
            return None
        X = self._features([sample for sample, _ in labeled])
        y = np.asarray([label for _, label in labeled], dtype=object)
        return self._model.fit(X, y)

    def _scores(
        self,
        settings: LoopSettings,
        model: SklearnModel | None,
        proba: NDArray[np.float64] | None,
        labeled: list[tuple[SampleRecord, str]],
        candidates: list[SampleRecord],
        rng: np.random.Generator,
    ) -> NDArray[np.float64]:
        """One score per candidate, higher = label sooner."""
        if model is None or proba is None:
            return rng.random(len(candidates))
        strategy = get_strategy(settings.strategy)
        if isinstance(strategy, ScoringStrategy) and strategy.needs == frozenset({"proba"}):
            return strategy.score(PoolInputs(proba=proba))
        if not candidates:
            return np.zeros(0)
        X_pool = self._features(candidates)
        X_labeled = self._features([sample for sample, _ in labeled])
        inputs = compute_inputs(
            model, X_pool, strategy.needs, X_labeled=X_labeled, rng=rng, exclude=None
        )
        if inputs.proba is None:
            inputs = replace(inputs, proba=proba)
        batch = min(settings.batch_size, len(candidates))
        selection = strategy.select(inputs, batch, rng)
        scores = np.zeros(len(candidates))
        # a batch strategy ranks only what it picked: picked first, in its order
        scores[selection.indices] = np.arange(batch, 0, -1, dtype=np.float64)
        return scores

    def _requeue(
        self,
        candidates: list[SampleRecord],
        scores: NDArray[np.float64],
        batch_size: int,
        round_number: int,
        actor: str,
    ) -> int:
        waiting = [i for i, s in enumerate(candidates) if s.state != "unlabeled"]
        fresh = [i for i, s in enumerate(candidates) if s.state == "unlabeled"]
        room = max(0, batch_size - sum(candidates[i].state == "queued" for i in waiting))
        order = sorted(fresh, key=lambda i: -scores[i])[:room]
        chosen = waiting + order
        if not chosen:
            return 0
        return enqueue(
            self.store,
            self.project,
            [candidates[i].id for i in chosen],
            [float(scores[i]) for i in chosen],
            round_number,
            actor=actor,
        )

    def _eval_accuracy(self, model: SklearnModel) -> float | None:
        evaluated = labeled_set(self.store, self.project, split="eval")
        if not evaluated:
            return None
        proba = self._proba(model, [sample for sample, _ in evaluated])
        predicted = np.asarray(self.classes, dtype=object)[proba.argmax(axis=1)]
        truth = np.asarray([label for _, label in evaluated], dtype=object)
        return float(np.mean(predicted == truth))

    def _stop_predictions(
        self, model: SklearnModel, pool: list[SampleRecord], settings: LoopSettings
    ) -> list[int]:
        """Class indices predicted for the stop set: a fixed random subset of the pool."""
        if self._stop_set is None or len(self._stop_set[0]) == 0:
            picks = np.random.default_rng(settings.seed).permutation(len(pool))
            chosen = [pool[i] for i in sorted(picks[: settings.stop_set_size])]
            self._stop_set = ([s.id for s in chosen], chosen)
        proba = self._proba(model, self._stop_set[1])
        return [int(i) for i in proba.argmax(axis=1)]

    def _kappas(self, predictions: list[int] | None) -> list[float]:
        """Between-round kappas so far, this round's last (Bloodgood & Vijay-Shanker 2009)."""
        rounds = list_rounds(self.store, self.project)
        previous = rounds[-1].metrics if rounds else {}
        kappas = [float(k) for k in previous.get("kappas") or []]
        before = previous.get("stop_predictions")
        if predictions is not None and before is not None and len(before) == len(predictions):
            kappas.append(prediction_kappa(before, predictions))
        return kappas

    # reading the model ------------------------------------------------------------------
    def guess(self, sample: SampleRecord) -> Guess | None:
        """The latest model's most probable label for ``sample``; None before any model."""
        fitted = self._fitted
        if fitted is None:
            return None
        model, number = fitted
        proba = model.predict_proba(self._features([sample]))[0]
        best = int(np.argmax(proba))
        return Guess(self.classes[best], float(proba[best]), number)

    @property
    def model_round(self) -> int | None:
        """The round whose model :meth:`guess` uses, None before the first fit."""
        return None if self._fitted is None else self._fitted[1]
