"""One refresh of a project, on the trainer thread: resync, retrain, rank, push.

1. **Resync** (with a Label Studio client): list the project's tasks with their annotations and
   store what the webhooks missed (:mod:`~labelwise.server.labelstudio.resync`): annotations
   made while the backend was down, changed or deleted since.
2. **Retrain** when the revisions changed since the last model: a copy of the served engine
   (warm start; the served one keeps answering ``/predict`` meanwhile) fitted through
   :meth:`labelwise.loop.RoundEngine.fit` on the newest label of every labeled task, recorded
   as round ``labelwise-<n>``, then swapped in.
3. **Rank** the unlabeled tasks with one :meth:`~labelwise.loop.RoundEngine.select`
   (:mod:`~labelwise.server.labelstudio.ranking`); before a model exists the engine starts
   cold (k-means over the features).
4. **Push** (with a client and ``push`` on): import one prediction per unlabeled task in bulk,
   ``model_version`` = the new version (``labelwise-0`` before the first model), lowest scores
   first, and make it the project's ``model_version`` once the first request's tasks are in,
   so uncertainty sampling follows the current model while the rest is imported. Before a
   model exists a prediction carries a score and no choice.

Steps 3 and 4 are skipped when nothing changed: same model, and every unlabeled task ranked.

A NER project (:mod:`~labelwise.server.labelstudio.ner`) learns the same way with a CRF tagger
over the tasks' tokens: a fresh one each retrain (a CRF has no warm start), once some answer
holds an entity; its predictions carry the tagger's spans.
"""

from __future__ import annotations

import copy
import logging
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from labelwise.controller.models import build_model
from labelwise.errors import LabelwiseError
from labelwise.loop import RoundEngine
from labelwise.server.labelstudio import state
from labelwise.server.labelstudio.client import IMPORT_CHUNK
from labelwise.server.labelstudio.ner import (
    has_entities,
    ner_engine,
    span_results,
    training_set,
    words_of,
)
from labelwise.server.labelstudio.ranking import Ranking, rank_pool
from labelwise.server.labelstudio.resync import (
    ListedTask,
    listed_task,
    missed_events,
    newest_revisions,
)
from labelwise.stream.image_features import decode_features

if TYPE_CHECKING:
    from labelwise.server.labelstudio.backend import LabelStudioBackend, ProjectState

logger = logging.getLogger(__name__)

#: The model version of predictions pushed before the first model (scores only).
COLD_VERSION = "labelwise-0"


def refresh_project(backend: LabelStudioBackend, ls_id: int, reason: str) -> dict[str, Any]:
    """Resync, retrain, rank and push project ``ls_id``; returns what was done and its times."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    project = _loaded(backend, ls_id)
    listed: list[ListedTask] | None = None
    missed = 0
    if backend.client is not None:
        authorize_webhooks(backend, project)
        listed = [
            found
            for raw in backend.client.iter_tasks(ls_id)
            if (found := listed_task(raw, project.config)) is not None
        ]
        with backend._lock:
            events = missed_events(listed, project.revisions)
        if events:
            rows = [(m.task, m.annotation, m.value, m.label) for m in events]
            backend.add_revisions(project, rows)
            missed = len(events)
            logger.info("project %d: learned %d missed annotation events", ls_id, missed)
    timings["resync"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    retrained = _retrain(backend, project)
    timings["fit"] = time.perf_counter() - t1
    pool = _pool(backend, project, listed)
    version = backend.settings.model_version or project.version or COLD_VERSION
    held = project.ranking
    stale = (
        held is None
        or held.model_version != version
        or any(task_id not in held.scores for task_id, _ in pool)
    )
    done: dict[str, Any] = {"reason": reason, "missed": missed, "retrained": retrained}
    if not pool or not (retrained or stale):
        return {**done, "pushed": 0, "timings": _rounded(timings)}
    t2 = time.perf_counter()
    task_ids = [task_id for task_id, _ in pool]
    spans = project.config.spans
    X: Any = words_of([value for _, value in pool]) if spans else project.features.rows(pool)
    timings["features"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    engine = project.engine or _engine(backend, project, 0 if spans else X.shape[1])
    rng = np.random.default_rng(backend.settings.seed)
    with project.serve_lock:
        ranking = rank_pool(engine, task_ids, X, version, backend.settings.batch_size, rng)
        results = None
        if engine.can_rank and spans:
            results = span_results(project.config, engine, [value for _, value in pool])
        elif engine.can_rank:
            results = _choice_results(project, engine, np.asarray(engine.model.predict_proba(X)))
    with backend._lock:
        project.ranking = ranking
    timings["rank"] = time.perf_counter() - t3
    pushed = 0
    if backend.client is not None and backend.settings.push:
        t4 = time.perf_counter()
        pushed = _push(backend, project, ranking, results, timings)
        timings["push"] = time.perf_counter() - t4
    logger.info("project %d refreshed (%s): %s", ls_id, reason, timings)
    return {**done, "pushed": pushed, "model_version": version, "timings": _rounded(timings)}


def _rounded(timings: dict[str, float]) -> dict[str, float]:
    return {step: round(seconds, 4) for step, seconds in timings.items()}


def authorize_webhooks(backend: LabelStudioBackend, project: ProjectState) -> None:
    """Give the project's webhooks to this backend its basic-auth header.

    Label Studio creates the webhook of a connected model (``<model url>/webhook``) without the
    model's credentials, so a backend that requires them would refuse every annotation event.
    The connections whose basic-auth user is this backend's are this backend; their webhooks
    get the header (through the configured Label Studio, with the configured token). Failures
    are logged: the resync still learns the annotations, later.
    """
    import base64

    auth = backend.settings.basic_auth()
    client = backend.client
    if auth is None or client is None or project.webhook_authorized:
        return
    secret = base64.b64encode(f"{auth.user}:{auth.password}".encode()).decode()
    header = f"Basic {secret}"
    try:
        ours = {
            str(found.get("url", "")).rstrip("/") + "/webhook"
            for found in client.model_connections(project.ls_id)
            if found.get("auth_method") == "BASIC_AUTH"
            and found.get("basic_auth_user") == auth.user
        }
        hooks = [hook for hook in client.webhooks(project.ls_id) if hook.get("url") in ours]
        for hook in hooks:
            held = hook.get("headers")
            headers: dict[str, str] = dict(held) if isinstance(held, dict) else {}
            if headers.get("Authorization") != header:
                client.set_webhook_headers(int(hook["id"]), {**headers, "Authorization": header})
                logger.info(
                    "project %d: webhook %s now sends our credentials", project.ls_id, hook["id"]
                )
    except LabelwiseError as exc:
        logger.warning("project %d: cannot check its webhooks: %s", project.ls_id, exc)
        return
    if hooks:
        with backend._lock:
            project.webhook_authorized = True


def _loaded(backend: LabelStudioBackend, ls_id: int) -> ProjectState:
    """The project's state; its label config read from Label Studio when it is not loaded."""
    with backend._lock:
        held = backend._projects.get(ls_id)
    if held is not None:
        return held
    config = None
    if backend.client is not None:
        config = backend.client.get_project(ls_id).get("label_config")
    return backend.project(ls_id, config if isinstance(config, str) else None)


def _engine(backend: LabelStudioBackend, project: ProjectState, n_features: int) -> RoundEngine:
    """A fresh engine for the project: the settings' strategy and its service model."""
    settings = backend.settings
    if project.config.spans:
        return ner_engine(settings)
    model = build_model(settings.model_name, project.config.labels, n_features, settings.seed)
    return RoundEngine(model, settings.strategy, dense_features=True)


def _labeled(
    backend: LabelStudioBackend, project: ProjectState, revisions: list[state.Revision]
) -> tuple[Any, list[str]]:
    """Features and labels of the newest label of every labeled task."""
    from labelwise.store import labeled_set

    newest = newest_revisions(revisions)
    wanted = {
        state.revision_id(rev.task, rev.annotation, rev.number): rev.task
        for rev in newest.values()
        if rev.label is not None
    }
    pairs = [
        (record, label)
        for record, label in labeled_set(backend.store, project.name)
        if record.external_id in wanted
    ]
    labels = [str(label) for _, label in pairs]
    if not pairs:
        return np.zeros((0, 0), dtype=np.float32), labels
    if project.config.kind == "image":
        stored = state.load_features(backend.store, project.name, set(wanted))
        rows = [decode_features(stored[record.external_id]) for record, _ in pairs]
        return np.vstack(rows).astype(np.float32), labels
    tasks = [(wanted[record.external_id], record.text or "") for record, _ in pairs]
    return project.features.rows(tasks), labels


def _labeled_spans(
    backend: LabelStudioBackend, project: ProjectState, revisions: list[state.Revision]
) -> tuple[list[list[str]], list[list[str]], bool]:
    """A NER project's token lists and BIO tags of the newest label of every labeled task,
    and whether any of them holds an entity (else there is nothing to learn yet)."""
    from labelwise.store import labeled_set

    newest = newest_revisions(revisions)
    wanted = {
        state.revision_id(rev.task, rev.annotation, rev.number): rev.label
        for rev in newest.values()
        if rev.label is not None
    }
    examples = [
        (record.text or "", str(wanted[record.external_id]))
        for record, _ in labeled_set(backend.store, project.name)
        if record.external_id in wanted
    ]
    words, tags = training_set(examples)
    return words, tags, has_entities([label for _, label in examples])


def _retrain(backend: LabelStudioBackend, project: ProjectState) -> bool:
    """Fit a new engine when the revisions changed (or none is served); whether one was."""
    with backend._lock:
        revisions = list(project.revisions)
        served = project.engine
    if served is not None and len(revisions) == project.trained_on:
        return False
    spans = project.config.spans
    X: Any
    y: Any
    if spans:
        X, y, enough = _labeled_spans(backend, project, revisions)
    else:
        X, labels = _labeled(backend, project, revisions)
        y, enough = np.asarray(labels, dtype=object), len(set(labels)) >= 2
    if not enough:  # nothing to tell apart yet: no model, the engine starts cold
        with backend._lock:
            project.engine = None
        return False
    if served is not None and not spans:
        with project.serve_lock:
            engine = copy.deepcopy(served)
    else:
        engine = _engine(backend, project, 0 if spans else X.shape[1])
    started = time.perf_counter()
    engine.fit(X, y)
    seconds = time.perf_counter() - started
    if served is None and project.version and len(revisions) == project.trained_on:
        version = project.version  # the stored model, refitted after a restart
    else:
        version = state.save_model_round(
            backend.store,
            project.name,
            {"n_train": len(y), "n_revisions": len(revisions), "seconds": round(seconds, 4)},
        )
        logger.info("project %d: trained %s on %d labels", project.ls_id, version, len(y))
    with backend._lock:
        project.engine, project.version, project.trained_on = engine, version, len(revisions)
    return True


def _pool(
    backend: LabelStudioBackend, project: ProjectState, listed: list[ListedTask] | None
) -> list[tuple[int, str]]:
    """The unlabeled tasks: Label Studio's listing, or the tasks ``/predict`` has seen."""
    with backend._lock:
        labeled = set(state.newest_labels(project.revisions))
        if listed is None:
            return [(t, v) for t, v in project.seen.items() if t not in labeled]
    return [(t.task, t.value) for t in listed if t.label is None and t.task not in labeled]


def _choice_results(
    project: ProjectState, engine: RoundEngine, proba: Any
) -> list[list[dict[str, Any]]]:
    """The likeliest choice of each task as a prediction's result."""
    config = project.config
    classes = list(getattr(engine.model, "classes", None) or config.labels)
    return [
        [
            {
                "from_name": config.from_name,
                "to_name": config.to_name,
                "type": "choices",
                "value": {"choices": [str(classes[int(np.argmax(row))])]},
            }
        ]
        for row in proba
    ]


def _push(
    backend: LabelStudioBackend,
    project: ProjectState,
    ranking: Ranking,
    results: list[list[dict[str, Any]]] | None,
    timings: dict[str, float],
) -> int:
    """Import the ranking's predictions (``results`` in its order; None: no model yet, no
    result) and make their version the project's (after the first :data:`IMPORT_CHUNK`, the
    lowest scores); ``timings["push_first"]`` is when."""
    assert backend.client is not None
    started = time.perf_counter()
    predictions = []
    for k, (task_id, score) in enumerate(ranking.scores.items()):
        predictions.append(
            {
                "task": task_id,
                "result": results[k] if results is not None else [],
                "score": score,
                "model_version": ranking.model_version,
            }
        )
    # the most uncertain first: once they are in, the project follows the new version, and
    # Label Studio's sampling hands out the best of what has arrived while the rest follows
    predictions.sort(key=lambda p: (p["score"], p["task"]))
    first, rest = predictions[:IMPORT_CHUNK], predictions[IMPORT_CHUNK:]
    client = backend.client
    client.import_predictions(project.ls_id, first)
    client.set_model_version(project.ls_id, ranking.model_version)
    with backend._lock:
        project.pushed = ranking.model_version
        project.ls_model_version = ranking.model_version
    timings["push_first"] = time.perf_counter() - started
    client.import_predictions(project.ls_id, rest)
    return len(predictions)
