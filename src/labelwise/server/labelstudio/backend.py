"""The ML backend's logic: the routes' calls, answered without ever waiting for training.

The HTTP routes (:mod:`labelwise.server.labelstudio.app`) translate requests into calls of
:class:`LabelStudioBackend`:

* ``/webhook``: an annotation created, updated or deleted becomes a revision in the store
  (:mod:`~labelwise.server.labelstudio.state`) and is *noted* for the trainer thread
  (:mod:`~labelwise.server.labelstudio.trainer`), which retrains after ``train_every`` events or
  ``train_delay`` seconds; the webhook returns at once.
* ``/predict``: the last model's likeliest choice and the task's score from the last ranking
  (:mod:`~labelwise.server.labelstudio.ranking`); before a model exists, no choice at all
  (``result: []``), so nothing is pre-filled. A NER project (``<Labels>`` over ``<Text>``,
  :mod:`~labelwise.server.labelstudio.ner`) gets its CRF tagger's spans instead, each with
  its own ``score``, and the task's score the same way (its sequence strategy ranks).
* ``/setup``: the project's label config; answers the ``model_version`` predictions carry.

The trainer thread runs :meth:`LabelStudioBackend.refresh` (:mod:`~labelwise.server.
labelstudio.refresh`): re-read the project's annotations from Label Studio and learn what was
missed, retrain through the round engine, rank the unlabeled tasks, and push the predictions to
Label Studio in bulk with the new ``model_version`` (when ``--label-studio-url`` and
``--label-studio-token`` are set).

``model_version``: Label Studio orders by score only the predictions whose ``model_version``
equals the project's. Predictions carry, in this order: the version fixed in the settings; the
project's ``model_version`` as last seen (the backend sets it to its own ``labelwise-<n>`` with
every push; webhooks and ``/setup`` tell it otherwise); the settings' ``title``, which Label
Studio makes the project's version when the backend is connected.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from labelwise.errors import InvalidInputError
from labelwise.loop import RoundEngine
from labelwise.server.labelstudio import state
from labelwise.server.labelstudio.images import ImageSource, image_features
from labelwise.server.labelstudio.label_config import LabelConfig, parse_label_config
from labelwise.server.labelstudio.ner import store_label
from labelwise.server.labelstudio.payloads import (
    annotation_label,
    ask_model_version,
    int_field,
    task_value,
)
from labelwise.server.labelstudio.ranking import Ranking, rank_scores
from labelwise.server.labelstudio.resync import newest_revisions
from labelwise.server.labelstudio.security import label_studio_access, require_connected
from labelwise.server.labelstudio.settings import BackendSettings, project_id
from labelwise.server.labelstudio.state import ProjectState
from labelwise.server.labelstudio.task_features import TaskFeatures, text_encoder
from labelwise.server.labelstudio.trainer import Trainer
from labelwise.store import Store, list_projects
from labelwise.strategies import ScoringStrategy
from labelwise.stream.image_features import encode_features

logger = logging.getLogger(__name__)

#: Webhook actions that carry one annotation.
ANNOTATION_ACTIONS = ("ANNOTATION_CREATED", "ANNOTATION_UPDATED")

__all__ = ["ANNOTATION_ACTIONS", "BackendSettings", "LabelStudioBackend", "ProjectState"]


class LabelStudioBackend:
    """Predictions and training for every Label Studio project that talks to this backend."""

    def __init__(self, store: Store, settings: BackendSettings | None = None) -> None:
        from labelwise.server.labelstudio.client import LabelStudioClient

        self.store = store
        self.settings = settings or BackendSettings()
        self._projects: dict[int, ProjectState] = {}
        self._lock = threading.RLock()
        s = self.settings
        self.client = (
            LabelStudioClient(s.label_studio_url or "", s.label_studio_token or "")
            if s.talks_to_label_studio
            else None
        )
        self.trainer = Trainer(
            self.refresh,
            lambda: list(self._projects),
            train_every=s.train_every,
            train_delay=s.train_delay,
            resync_every=s.resync_every if self.client is not None else 0.0,
        )

    # -- life ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the trainer thread; with a Label Studio client, resync every known project."""
        self.trainer.start()
        if self.client is None:
            return
        prefix = state.store_project_name(0)[:-1]
        for record in list_projects(self.store):
            suffix = record.name.removeprefix(prefix)
            if record.name.startswith(prefix) and suffix.isdigit():
                self.trainer.ask(int(suffix), "start")

    def stop(self) -> None:
        """Stop the trainer thread (after the refresh it runs) and close the client."""
        self.trainer.stop()
        if self.client is not None:
            self.client.close()

    # -- projects -----------------------------------------------------------------------------
    def project(self, ls_id: int, label_config: str | None = None) -> ProjectState:
        """The state of project ``ls_id``, loaded from the store on first use.

        A project with a stored model is served again once the trainer has refitted it (it is
        asked to at once); until then predictions carry no choice.
        """
        with self._lock:
            held = self._projects.get(ls_id)
            if (
                held is not None
                and label_config
                and parse_label_config(label_config) != held.config
            ):
                held = None  # the config changed: check it against the store again
            if held is not None:
                return held
            if not label_config:
                raise InvalidInputError(
                    f"project {ls_id} is new to this backend: send its label_config "
                    "(Label Studio does so in /setup and /predict)"
                )
            config = parse_label_config(label_config)
            if not config.spans and self.settings.sequence_only:
                raise InvalidInputError(
                    f"strategy {self.settings.strategy!r} ranks sequences: it serves NER "
                    f"projects (<Labels> over <Text>) only, and project {ls_id} classifies"
                )
            features = self._task_features(ls_id, config)
            previous = self._projects.get(ls_id)
            loaded = state.load_project_state(self.store, ls_id, config, features, previous)
            if loaded.version is not None:  # a stored model: refit it
                self.trainer.ask(ls_id, "reload")
            self._projects[ls_id] = loaded
            return loaded

    def _task_features(self, ls_id: int, config: LabelConfig) -> TaskFeatures:
        if config.kind == "text":
            return TaskFeatures(encode_texts=text_encoder(self.settings.text_features)[1])

        def encode(task_id: int, value: str) -> Any:
            with self._lock:
                held = self._projects.get(ls_id)
            hostname, token = (held.hostname, held.token) if held is not None else ("", "")
            return self._fetch_image_features(hostname, token, task_id, value)

        return TaskFeatures(encode_image=encode)

    def model_version(self, project: ProjectState) -> str:
        """The ``model_version`` predictions carry (see the module docstring)."""
        return self.settings.model_version or project.ls_model_version or self.settings.title

    def setup(self, ls_project: Any, schema: str, hostname: str = "", token: str = "") -> str:
        """Answer ``/setup``: learn the project's config; returns the model version.

        A ``hostname`` that is not the configured Label Studio is refused before anything is
        stored or sent. A project new to this process is resynced in the background.
        """
        settings = self.settings
        url, token = label_studio_access(
            settings.label_studio_url, settings.label_studio_token, hostname, token
        )
        ls_id = project_id(ls_project)
        with self._lock:
            new = ls_id not in self._projects
        project = self.project(ls_id, schema)
        if url:
            project.hostname, project.token = url, token or project.token
        if settings.ask_label_studio and url and project.token and project.pushed is None:
            found = ask_model_version(url, project.token, project.ls_id)
            if found:
                project.ls_model_version = found
        if new and self.client is not None:
            self.trainer.ask(ls_id, "connect")
        return self.model_version(project)

    # -- predictions --------------------------------------------------------------------------
    def predict(
        self, tasks: Sequence[Mapping[str, Any]], ls_project: Any, label_config: str | None
    ) -> list[dict[str, Any]]:
        """One prediction per task, in order: the likeliest choice (once a model exists) and
        the task's score (lowest = label first)."""
        project = self.project(project_id(ls_project), label_config)
        config = project.config
        values = [task_value(task, config, position) for position, task in enumerate(tasks)]
        if not values:
            return []
        ids = [_task_id(task, position) for position, task in enumerate(tasks)]
        with self._lock:
            engine, ranking = project.engine, project.ranking
            new = 0
            if self.client is None:  # the pool is what /predict shows: rank it for next time
                for task_id, value, task in zip(ids, values, tasks, strict=True):
                    if task_id >= 0 and not task.get("annotations"):
                        new += project.seen.get(task_id) != value
                        project.seen[task_id] = value
        if new and engine is not None:
            self.trainer.ask(project.ls_id, "tasks")
        version = self.model_version(project)
        if config.spans:
            return self._predict_spans(project, ids, values, engine, ranking, version)
        # features first, model or not: images are checked and fetched once, then cached
        X = project.features.rows(list(zip(ids, values, strict=True)))
        if engine is None or not engine.can_rank:
            return [
                {
                    "result": [],
                    "score": ranking.score_of(i, None) if ranking else 1.0,
                    "model_version": version,
                }
                for i in ids
            ]
        with project.serve_lock:
            proba = np.asarray(engine.model.predict_proba(X))
            scores = self._scores(engine, ranking, ids, X)
        classes = list(getattr(engine.model, "classes", None) or config.labels)
        results = []
        for k, score in enumerate(scores):
            choice = str(classes[int(np.argmax(proba[k]))])
            results.append(
                {
                    "result": [
                        {
                            "from_name": config.from_name,
                            "to_name": config.to_name,
                            "type": "choices",
                            "value": {"choices": [choice]},
                        }
                    ],
                    "score": score,
                    "model_version": version,
                }
            )
        return results

    def _predict_spans(
        self,
        project: ProjectState,
        ids: list[int],
        values: list[str],
        engine: RoundEngine | None,
        ranking: Ranking | None,
        version: str,
    ) -> list[dict[str, Any]]:
        """A NER project's predictions: the tagger's spans, each with its score, and the
        task's score; before a model exists, no span."""
        from labelwise.server.labelstudio.ner import span_results

        if engine is None or not engine.can_rank:
            results: list[list[dict[str, Any]]] = [[] for _ in ids]
            scores = [ranking.score_of(i, None) if ranking else 1.0 for i in ids]
        else:
            with project.serve_lock:
                results = span_results(project.config, engine, values)
                scores = self._span_scores(engine, ranking, ids, values)
        return [
            {"result": result, "score": score, "model_version": version}
            for result, score in zip(results, scores, strict=True)
        ]

    def _span_scores(
        self, engine: RoundEngine, ranking: Ranking | None, ids: list[int], values: list[str]
    ) -> list[float]:
        """As :meth:`_scores`, with the sequence strategy's own scores of the texts."""
        from labelwise.server.labelstudio.ner import sequence_scores, words_of

        if ranking is not None and all(i in ranking.scores for i in ids):
            return [ranking.score_of(i, None) for i in ids]
        own = sequence_scores(engine, words_of(values), self.settings.seed)
        if own is None:
            return [ranking.score_of(i, None) if ranking else 1.0 for i in ids]
        if ranking is not None and ranking.reference is not None:
            return [ranking.score_of(i, float(v)) for i, v in zip(ids, own, strict=True)]
        order = np.argsort(-own, kind="stable").astype(np.intp)
        return [float(v) for v in rank_scores(order, len(ids))]

    def _scores(
        self, engine: RoundEngine, ranking: Ranking | None, ids: list[int], X: Any
    ) -> list[float]:
        """The tasks' scores: from the last ranking; a task it does not cover is placed in it
        by its own strategy score, or, with no ranking to place it in, ranked among the tasks
        of this request (scoring strategies; a batch strategy's unranked task gets 1.0)."""
        covered = ranking is not None and all(i in ranking.scores for i in ids)
        if covered or not isinstance(engine.strategy, ScoringStrategy):
            return [ranking.score_of(i, None) if ranking else 1.0 for i in ids]
        own = np.asarray(engine.scores(X, rng=self.settings.seed), dtype=np.float64)
        if ranking is not None and ranking.reference is not None:
            return [ranking.score_of(i, float(v)) for i, v in zip(ids, own, strict=True)]
        order = np.argsort(-own, kind="stable").astype(np.intp)
        return [float(v) for v in rank_scores(order, len(ids))]

    # -- annotations --------------------------------------------------------------------------
    def webhook(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Record one webhook event and return at once; training follows in the background."""
        action = payload.get("action")
        if not isinstance(action, str) or not action:
            raise InvalidInputError("a webhook body needs an 'action' (e.g. ANNOTATION_CREATED)")
        raw_project = payload.get("project")
        if raw_project is None:
            if action in (*ANNOTATION_ACTIONS, "ANNOTATIONS_DELETED", "START_TRAINING"):
                raise InvalidInputError(f"a {action} webhook body needs its 'project'")
            return {"status": "ignored", "action": action, "reason": "no project in the body"}
        ls_id = project_id(raw_project)
        config_xml = raw_project.get("label_config") if isinstance(raw_project, Mapping) else None
        with self._lock:
            require_connected(self.store, ls_id, self._projects)
            project = self.project(ls_id, config_xml or None)
            if isinstance(raw_project, Mapping) and raw_project.get("model_version"):
                project.ls_model_version = str(raw_project["model_version"])
        if action in ANNOTATION_ACTIONS:
            if not self._record_annotation(project, payload):
                return {"status": "unchanged", "action": action}
        elif action == "ANNOTATIONS_DELETED":
            self._record_deletions(project, payload.get("annotations"))
        elif action == "TASKS_CREATED" and self.client is not None:
            self.trainer.ask(ls_id, "tasks")  # rank and push the new tasks
            return {"status": "queued", "action": action}
        elif (
            action == "START_TRAINING" and self.client is not None and self._needs_webhook(project)
        ):
            # an annotation was saved but its own webhook may not reach us (Label Studio creates
            # the project webhook without our credentials): resync it, and fix the webhook
            self.trainer.ask(ls_id, "start_training")
            return {"status": "queued", "action": action}
        else:
            # START_TRAINING comes before every saved annotation's own webhook: that one counts
            return {"status": "ignored", "action": action}
        waiting = self.trainer.note(ls_id)
        return {
            "status": "queued",
            "action": action,
            "new_annotations": waiting,
            "model_version": project.version,
        }

    def _needs_webhook(self, project: ProjectState) -> bool:
        with self._lock:
            return self.settings.basic_auth() is not None and not project.webhook_authorized

    def train(self, ls_project: Any, label_config: str | None = None) -> dict[str, Any]:
        """Queue a refresh now (``POST /train``); it runs in the background."""
        project = self.project(project_id(ls_project), label_config)
        self.trainer.ask(project.ls_id, "train")
        return {"status": "queued", "model_version": project.version}

    def versions(self, ls_project: Any | None = None) -> list[str]:
        """The model versions the backend trained, for one project or all it has seen."""
        with self._lock:
            ids = [project_id(ls_project)] if ls_project is not None else sorted(self._projects)
            found: list[str] = []
            for ls_id in ids:
                held = self._projects.get(ls_id)
                name = held.name if held is not None else state.store_project_name(ls_id)
                try:
                    found += state.model_versions(self.store, name)
                except state.NotFoundError:
                    continue
            return found

    def health(self) -> dict[str, Any]:
        """Per project: ``state`` (``no_model``, ``training``, ``ready``), versions, counts."""
        with self._lock:
            held = list(self._projects.values())
        projects: dict[str, Any] = {}
        for project in held:
            trainer = self.trainer.state(project.ls_id)
            ready = project.engine is not None and project.engine.can_rank
            projects[str(project.ls_id)] = {
                "state": "training" if trainer["training"] else "ready" if ready else "no_model",
                "model_version": project.version,
                "pushed_version": project.pushed,
                "labeled_tasks": len(state.newest_labels(project.revisions)),
                "revisions": len(project.revisions),
                "pending_annotations": trainer["pending"],
                "refreshes": trainer["refreshes"],
                "last_error": trainer["error"],
                "last_refresh": project.last_refresh,
            }
        return projects

    # -- revisions ----------------------------------------------------------------------------
    def _record_annotation(self, project: ProjectState, payload: Mapping[str, Any]) -> bool:
        """Store the annotation as a revision; False when the task's newest revision is this
        annotation with this label already (a resync got there first, or a repeated event)."""
        annotation = payload.get("annotation")
        task = payload.get("task")
        if not isinstance(annotation, Mapping) or not isinstance(task, Mapping):
            raise InvalidInputError(
                f"{payload.get('action')} needs 'annotation' and 'task' objects in the body"
            )
        task_id = int_field(task, "id", "task")
        annotation_id = int_field(annotation, "id", "annotation")
        value = task_value(task, project.config, 0)
        label = (
            None
            if annotation.get("was_cancelled")
            else annotation_label(annotation, project.config, value)
        )
        with self._lock:
            held = newest_revisions(project.revisions).get(task_id)
        if held is not None and (held.annotation, held.label) == (annotation_id, label):
            return False
        self.add_revisions(project, [(task_id, annotation_id, value, label)])
        return True

    def _record_deletions(self, project: ProjectState, annotations: Any) -> None:
        if not isinstance(annotations, list):
            raise InvalidInputError("ANNOTATIONS_DELETED needs a list 'annotations' of {'id'}")
        deleted = {int_field(item, "id", "annotation") for item in annotations}
        with self._lock:
            newest = newest_revisions(project.revisions)
        rows = [
            (rev.task, rev.annotation, None, None)
            for rev in newest.values()
            if rev.annotation in deleted and rev.label is not None
        ]
        self.add_revisions(project, rows)

    def add_revisions(
        self,
        project: ProjectState,
        events: Sequence[tuple[int, int, str | None, str | None]],
    ) -> None:
        """Store ``(task, annotation, value, label)`` events as revisions (label None: the
        task has no label any more). An image revision keeps the image's features."""
        content: list[dict[str, Any]] = []
        for task_id, _, value, label in events:
            if project.config.kind == "text":
                content.append({"text": value or self._stored_text(project, task_id)})
            elif value is None:
                content.append({"image": f"labelstudio://task/{task_id}"})
            else:
                row: dict[str, Any] = {"image": self._image_uri(project, task_id, value)}
                if label is not None:
                    row["features"] = encode_features(project.features.rows([(task_id, value)])[0])
                content.append(row)
        with self._lock:
            counts: dict[int, int] = {}
            for revision in project.revisions:
                counts[revision.task] = max(counts.get(revision.task, 0), revision.number)
            rows: list[dict[str, Any]] = []
            added: list[state.Revision] = []
            for (task_id, annotation_id, _, label), body in zip(events, content, strict=True):
                number = counts.get(task_id, 0) + 1
                counts[task_id] = number
                row = {"id": state.revision_id(task_id, annotation_id, number), **body}
                if label is not None and project.config.spans:
                    row["label"], row["spans"] = store_label(label), label
                elif label is not None:
                    row["label"] = label
                rows.append(row)
                added.append(state.Revision(task_id, annotation_id, number, label))
            state.add_revisions(self.store, project.name, rows)
            project.revisions.extend(added)

    def _stored_text(self, project: ProjectState, task_id: int) -> str:
        """The text of the task's newest revision (a deletion keeps it: the store needs one)."""
        with self._lock:
            held = newest_revisions(project.revisions).get(task_id)
        if held is None:
            return "-"
        text = state.revision_text(
            self.store, project.name, state.revision_id(task_id, held.annotation, held.number)
        )
        return text or "-"

    # -- images -------------------------------------------------------------------------------
    def _fetch_image_features(self, hostname: str, token: str, task_id: int, value: str) -> Any:
        source = ImageSource(
            hostname or (self.settings.label_studio_url or "").rstrip("/"),
            token or self.settings.label_studio_token or "",
            self.settings.local_files_root,
            self.settings.image_timeout,
        )
        return image_features(value, task_id, source, self.settings.image_features)

    @staticmethod
    def _image_uri(project: ProjectState, task_id: int, value: str) -> str:
        """What the store keeps as the image's URI: its URL, or a reference to the task."""
        if value.startswith(("http://", "https://")):
            return value
        if value.startswith("/") and project.hostname:
            return project.hostname.rstrip("/") + value
        return f"labelstudio://task/{task_id}"

    # -- the trainer's work -------------------------------------------------------------------
    def refresh(self, ls_id: int, reason: str) -> None:
        """Resync, retrain and push one project (the trainer thread's work)."""
        from labelwise.server.labelstudio.refresh import refresh_project

        done = refresh_project(self, ls_id, reason)
        with self._lock:
            held = self._projects.get(ls_id)
            if held is not None:
                held.last_refresh = done
        if done["missed"] and not done["retrained"]:
            # learned from the resync but not trained on (one class so far): they count
            # toward the next retrain as their webhooks would have
            self.trainer.note(ls_id, done["missed"])


def _task_id(task: Mapping[str, Any], position: int) -> int:
    raw = task.get("id")
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    return -1 - position  # a task without an id is never in a ranking
