"""The team loop over the store, a face over the round engine (:mod:`labelwise.loop`).

One :meth:`Controller.run_round`:

1. down-weight annotators under the gold-accuracy threshold (relabel by weighted majority);
2. take a snapshot of the pool: the labeled set, and the candidates (unlabeled or queued pool
   samples; those leased to an annotator are being labeled and are left alone);
3. the engine fits the project's model (warm start) on the labeled set's stored features and
   selects, over the candidates' features read chunk by chunk, a ranking deeper than the queue:
   the queue's depth plus as many again for top-ups (:meth:`Controller.top_up`) while the next
   round trains; before the model has seen two classes it starts cold (k-means);
4. measure: accuracy on the eval split, kappa between this and the previous round's predictions
   on a fixed stop set (appended only when the round saw new labels), the largest
   least-confidence uncertainty on the stop set;
5. record the round with the ranking's scores (not a row per pool sample), a histogram of the
   pool's scores where the strategy scores every item, and a dataset version; decide to stop;
6. unless stopping, queue the ranking's head. Samples labeled, skipped or leased since the
   snapshot are left out (:func:`labelwise.store.enqueue` with ``skip_unavailable``), so a round
   never fails because people are labeling.

The queue's depth follows the team: ``batch_size`` plus ``lookahead`` tasks per active
annotator. The eval split is never scored nor queued. The latest model stays in memory for
pre-annotation (:meth:`Controller.guess`), and is kept with its round in the store
(:mod:`labelwise.controller.published`), so that a process that did not train it (an API
process beside ``labelwise worker``, or a server restarted) serves it too.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from labelwise.controller.features import FeatureSource, TextFeatures, feature_source_for
from labelwise.controller.guessing import Guess, model_guess
from labelwise.controller.measure import RoundMeasurer, round_kappas
from labelwise.controller.models import (
    TASK_MODELS,
    build_model,
    build_task_model,
    span_sequences,
    span_targets,
    task_strategy,
    task_targets,
)
from labelwise.controller.pool import PoolFeatures
from labelwise.controller.published import NewestStoredModel, publishable, served_copy
from labelwise.controller.queue import RankingQueue, finite_scores, ranking_priorities
from labelwise.controller.settings import LOOP_KEY, LoopSettings, loop_settings
from labelwise.controller.stopping import StopDecision, decide_stop
from labelwise.controller.weighting import reweight_by_gold
from labelwise.loop import RoundEngine
from labelwise.store import (
    SampleRecord,
    Store,
    get_project,
    labeled_set,
    list_rounds,
    record_round,
    status,
)
from labelwise.store.members import update_settings
from labelwise.store.samples import sample_snapshot

__all__ = ["Controller", "Guess", "RoundReport", "stop_state"]

_CANDIDATE_STATES = ("unlabeled", "queued")
#: Bins of the pool-score histogram kept with each round.
HISTOGRAM_BINS = 20


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
    model: str = ""
    model_version: str | None = None
    cold: bool = False
    picks: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (``labelwise round run --json``)."""
        return {
            "number": self.number,
            "strategy": self.strategy,
            "model": self.model,
            "model_version": self.model_version,
            "cold_start": self.cold,
            "n_labeled": self.n_labeled,
            "queued": self.queued,
            "picks": list(self.picks),
            "eval_accuracy": self.eval_accuracy,
            "kappa": self.kappa,
            "max_uncertainty": self.max_uncertainty,
            "stop": self.stop.stop,
            "stop_reason": self.stop.reason,
            "timings": self.timings,
        }


def stop_state(store: Store, project: str) -> StopDecision:
    """The project's one stop state: the last round's decision (not stopped before any round).

    The dashboard, the annotators' next task and progress, and the CLI all read this.
    """
    rounds = list_rounds(store, project)
    if not rounds:
        return StopDecision(False)
    metrics = rounds[-1].metrics
    return StopDecision(bool(metrics.get("stop")), metrics.get("stop_reason"))


class Controller:
    """Rounds of active learning over one project of the store.

    Parameters
    ----------
    store, project : the store and the project's name
    features : the project's feature source; default by its task type and the ``features``
        setting (:func:`~labelwise.controller.features.feature_source_for`), followed when the
        setting changes
    chunk_size : samples featurised and scored at once
    model_check_seconds : how often :meth:`guess` asks the store whether a newer model than
        its own was stored (by a trainer in another process); one indexed read
    """

    def __init__(
        self,
        store: Store,
        project: str,
        *,
        features: FeatureSource | None = None,
        chunk_size: int = 4096,
        model_check_seconds: float = 2.0,
    ) -> None:
        info = get_project(store, project)
        self.store = store
        self.project = project
        self.classes = list(info.label_space)
        self.kind = info.answer_kind  # label, number (regression) or labels (multi-label)
        self._features_choice: TextFeatures | None = (
            None  # the setting behind self.features, if any
        )
        if features is None:
            self._features_choice = loop_settings(info.settings).features
            features = feature_source_for(store, project, text=self._features_choice)
        self.features = features
        self.chunk_size = chunk_size
        self._engine: RoundEngine | None = None
        self._engine_key: tuple[str, str, int] | None = None
        self._fitted: tuple[Any, int] | None = None  # (model copy, round number)
        self._stored = NewestStoredModel(store, project, check_seconds=model_check_seconds)
        self._round_lock = threading.Lock()
        self._queue = RankingQueue(store, project)
        self._measurer = RoundMeasurer(store, project, self.kind, self.classes, chunk_size)
        self._stop: StopDecision | None = None

    # settings ---------------------------------------------------------------------------
    def settings(self) -> LoopSettings:
        """The project's loop settings as stored."""
        return loop_settings(get_project(self.store, self.project).settings)

    def configure(self, *, actor: str = "labelwise", **changes: Any) -> LoopSettings:
        """Change loop settings (checked first; nothing is stored when one is bad)."""
        info = get_project(self.store, self.project)
        new = loop_settings(info.settings, answer_kind=info.answer_kind, **changes)
        update_settings(self.store, self.project, {LOOP_KEY: new.to_dict()}, actor=actor)
        return new

    def _follow_features(self, settings: LoopSettings) -> None:
        """Follow a change of the ``features`` setting (a source given by the caller stays)."""
        if self._features_choice not in (None, settings.features):
            self._features_choice = settings.features
            self.features = feature_source_for(self.store, self.project, text=settings.features)

    def _model_name(self, settings: LoopSettings) -> str:
        """The service model that runs: the setting's, or the task's for a regression or
        multi-label project (:data:`~labelwise.controller.models.TASK_MODELS`)."""
        return TASK_MODELS[self.kind][1] if self.kind in TASK_MODELS else settings.resolved_model

    def _engine_for(self, settings: LoopSettings, n_features: int) -> RoundEngine:
        """The engine for the current strategy and model; rebuilt when either changes."""
        model_name = self._model_name(settings)
        strategy = task_strategy(self.kind, settings.strategy)
        key = (strategy, model_name, n_features)
        if self._engine is None or self._engine_key != key:
            if self.kind in TASK_MODELS:
                model = build_task_model(self.kind, settings.seed)
            else:
                model = build_model(model_name, self.classes, n_features, settings.seed)
            self._engine = RoundEngine(
                model, strategy, chunk_size=self.chunk_size, dense_features=True
            )
            self._engine_key = key
        self._engine.diversity = settings.diversity
        return self._engine

    # the queue --------------------------------------------------------------------------
    def depth(self, settings: LoopSettings | None = None) -> int:
        """Open tasks the queue should hold: ``batch_size`` + ``lookahead`` per active annotator."""
        return self._queue.depth(settings or self.settings())

    def top_up(self, *, actor: str = "labelwise") -> int:
        """Fill the queue to its depth from the last round's ranking; tasks created.

        Cheap (two indexed reads, and a write only when the queue is short), so the trainer
        calls it often, also while a round trains. When no ranking is left (before the first
        round, or a round slower than the team) it queues random unlabeled samples, so the
        queue never runs dry (:class:`~labelwise.controller.queue.RankingQueue`).
        """
        if self.stop_decision().stop:
            return 0
        return self._queue.top_up(self.settings(), actor=actor)

    def stop_decision(self) -> StopDecision:
        """The project's stop state (:func:`stop_state`), kept in memory between rounds."""
        if self._stop is None:
            self._stop = stop_state(self.store, self.project)
        return self._stop

    # the round --------------------------------------------------------------------------
    def run_round(self, *, actor: str = "labelwise") -> RoundReport:
        """Train, select, measure, record and re-order the queue; one round at a time."""
        with self._round_lock:
            return self._run_round(actor)

    def _run_round(self, actor: str) -> RoundReport:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        info = get_project(self.store, self.project)
        settings = loop_settings(info.settings)
        self._follow_features(settings)
        rounds = list_rounds(self.store, self.project)
        rng = np.random.default_rng(settings.seed + len(rounds))
        reweight_by_gold(self.store, self.project, settings.gold_threshold, actor=actor)
        labeled = labeled_set(self.store, self.project)
        pool = sample_snapshot(self.store, self.project, split="pool")  # ids and states only
        candidates = pool.where_state(*_CANDIDATE_STATES)
        timings["snapshot"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        X_labeled: Any
        X_pool: Any
        if self.kind == "spans":  # token lists and BIO tags (tokens keep their offsets)
            tokens, X_labeled = span_sequences([sample.text for sample, _ in labeled])
            y_labeled: Any = span_targets(tokens, [label for _, label in labeled])
            X_pool = span_sequences([r.text for r in candidates.records(range(len(candidates)))])[1]
            n_features = 0
        else:
            X_labeled = self.features([sample for sample, _ in labeled]) if labeled else None
            y_labeled = task_targets(self.kind, [label for _, label in labeled], self.classes)
            X_pool = PoolFeatures(self.features, candidates)
            n_features = X_labeled.shape[1] if X_labeled is not None else X_pool.shape[1]
        timings["features"] = time.perf_counter() - t0
        engine = self._engine_for(settings, int(n_features))
        if labeled and X_labeled is not None:
            engine.fit(X_labeled, y_labeled)
        depth = self.depth(settings)
        ranking_size = min(len(candidates), 2 * depth)
        result = None
        if ranking_size:
            result = engine.select(X_pool, ranking_size, rng)
            timings.update(result.timings)
        model = engine.model if engine.fitted else None

        t0 = time.perf_counter()
        measured = self._measurer.measure(model, self.features, pool, settings)
        eval_accuracy = measured.eval_accuracy
        predictions = measured.stop_predictions
        max_unc = measured.max_uncertainty
        previous = rounds[-1].metrics if rounds else {}
        new_labels = len(labeled) > int(previous.get("n_labeled", 0) or 0)
        kappas = round_kappas(previous, predictions, new_labels)
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
        timings["measure"] = time.perf_counter() - t0

        strategy_name = (
            result.strategy if result is not None else task_strategy(self.kind, settings.strategy)
        )
        picked_ids = [] if result is None else candidates.ids[result.indices].tolist()
        priorities = ranking_priorities(result)
        metrics = {
            "n_labeled": len(labeled),
            "annotations": st.annotations,
            "eval_accuracy": eval_accuracy,
            **measured.task_eval,
            "kappa": kappas[-1] if kappas else None,
            "kappas": kappas,
            "new_labels": new_labels,
            "max_uncertainty": max_unc,
            "stop": stop.stop,
            "stop_reason": stop.reason,
            "stop_predictions": predictions,
            "model": self._model_name(settings),
            "cold_start": bool(result is not None and result.cold),
            "candidates": len(candidates),
            "score_histogram": self._histogram(result),
        }
        model_version = None if model is None else f"v{engine.version}-labels-{len(labeled)}"
        t0 = time.perf_counter()
        features_name = None if self.kind == "spans" else self.features.name
        blob = None if model is None else publishable(model, features_name)
        timings["publish"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        recorded = record_round(
            self.store,
            self.project,
            strategy_name,
            model_version=model_version,
            metrics=metrics,
            sample_ids=picked_ids,
            scores=[] if result is None else finite_scores(result.scores).tolist(),
            batch_size=depth,
            model=blob,
            actor=actor,
        )
        if model is not None:  # served while refitting; this process need not read it back
            self._fitted = (served_copy(model), recorded.number)
        queued = 0
        if not stop.stop and picked_ids:
            assert result is not None  # picks come from a ranking
            queued = self._queue.requeue(
                picked_ids,
                priorities,
                candidates,
                result.pool_scores,
                depth,
                recorded.number,
                actor,
            )
        timings["record_and_queue"] = time.perf_counter() - t0
        self._stop = stop
        return RoundReport(
            number=recorded.number,
            strategy=strategy_name,
            n_labeled=len(labeled),
            queued=queued,
            eval_accuracy=eval_accuracy,
            kappa=kappas[-1] if kappas else None,
            max_uncertainty=max_unc,
            stop=stop,
            model=self._model_name(settings),
            model_version=model_version,
            cold=bool(result is not None and result.cold),
            picks=tuple(candidates[i].external_id for i in result.indices[:depth])
            if result is not None
            else (),
            timings={k: round(v, 4) for k, v in timings.items()},
        )

    @staticmethod
    def _histogram(result: Any) -> dict[str, list[float]] | None:
        if result is None or result.pool_scores is None or not result.pool_scores.size:
            return None
        values = result.pool_scores[np.isfinite(result.pool_scores)]
        if not values.size:
            return None
        counts, edges = np.histogram(values, bins=HISTOGRAM_BINS)
        return {"counts": counts.astype(float).tolist(), "edges": edges.tolist()}

    # reading the model ------------------------------------------------------------------
    def guess(self, sample: SampleRecord) -> Guess | None:
        """The latest model's most probable label for ``sample``; None before any model.

        The latest model is this object's own (the round it ran last) or, when the store
        holds a newer round's (trained by another process, or before a restart), that one,
        read once per round (:class:`~labelwise.controller.published.NewestStoredModel`).
        """
        fitted = self._serving()
        if fitted is None:
            return None
        model, number = fitted
        return model_guess(model, number, self.kind, self.classes, self.features, sample)

    def _serving(self) -> tuple[Any, int] | None:
        """The model :meth:`guess` uses and its round: this object's own, unless the store
        holds a newer one that reads the features this object makes."""
        own = self._fitted
        stored = self._stored.newer_than(None if own is None else own[1])
        if stored is None:
            return own
        if self.kind != "spans" and stored.features != self.features.name:
            self._follow_features(self.settings())  # the setting changed in another process
            if stored.features != self.features.name:
                self._stored.refuse(
                    stored,
                    f"round {stored.round}'s model reads {stored.features} features, this "
                    f"process makes {self.features.name}: install the same extras where the "
                    "trainer and the API processes run",
                )
                return own
        return stored.model, stored.round

    @property
    def model_round(self) -> int | None:
        """The round whose model :meth:`guess` used last (this object's own or one read
        from the store), None before the first fit; reads nothing."""
        rounds = [self._fitted[1]] if self._fitted is not None else []
        if self._stored.loaded is not None:
            rounds.append(self._stored.loaded.round)
        return max(rounds, default=None)
