"""The ML backend's logic: predictions with acquisition scores, training on annotations.

The HTTP routes (:mod:`labelwise.server.labelstudio.app`) only translate requests into calls
of :class:`LabelStudioBackend`. Per Label Studio project it keeps a classifier trained on the
newest label of every annotated task: for text, logistic regression over hashed words and
bigrams (:mod:`labelwise.stream.features`); for images, logistic regression over the image's
features (by default its 16 x 16 grayscale pixels, :mod:`labelwise.stream.image_features`; the
``image_features`` setting takes any ``bytes -> 1-D array`` callable, e.g. a pretrained
network's embedding). Images are fetched as :mod:`labelwise.server.labelstudio.images` says,
once per task while its data stays the same, and their features are kept with each annotation
in the store. The backend answers each task and answers each task with the most likely choice and
``score = 1 - uncertainty`` (:func:`labelwise.stream.scoring.labelstudio_score`): Label
Studio's "Uncertainty sampling" serves the lowest score first, so annotators get the tasks the
model is least sure of (Lewis & Gale 1994, uncertainty sampling).

``model_version``: Label Studio orders by score only the predictions whose ``model_version``
equals the project's, which it sets to the backend's *title* when the backend is connected. The
backend therefore answers with, in this order: the version fixed in the settings; the project's
``model_version`` as Label Studio last told it (webhook bodies carry the project, and
``/setup`` lets the backend read it through Label Studio's API); the settings' ``title``. Its
own model versions (``labelwise-1``, ``-2`` ...) are listed by ``/versions``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from labelwise.errors import InvalidInputError
from labelwise.server.labelstudio import state
from labelwise.server.labelstudio.images import FeatureCache, ImageSource, image_features
from labelwise.server.labelstudio.label_config import LabelConfig, parse_label_config
from labelwise.server.labelstudio.payloads import (
    ask_model_version,
    chosen_label,
    int_field,
    stack_features,
    task_value,
)
from labelwise.server.labelstudio.security import (
    MAX_BODY_BYTES,
    BasicAuth,
    check_label_studio_url,
    label_studio_access,
    require_connected,
)
from labelwise.store import Store
from labelwise.stream.features import hashed_text, text_classifier
from labelwise.stream.image_features import (
    decode_features,
    encode_features,
    image_classifier,
    pixel_features,
)
from labelwise.stream.scoring import UncertaintyKind, labelstudio_score

logger = logging.getLogger(__name__)

#: Webhook actions that carry one annotation.
ANNOTATION_ACTIONS = ("ANNOTATION_CREATED", "ANNOTATION_UPDATED")


@dataclass(frozen=True)
class BackendSettings:
    """How the backend behaves.

    Parameters
    ----------
    train_every : retrain after this many new annotation events (created, updated, deleted).
    score : the uncertainty behind the score: ``least_confidence``, ``margin`` or ``entropy``.
    title : the title the backend is connected with in Label Studio; the fallback
        ``model_version`` (see the module docstring).
    model_version : a fixed ``model_version`` for every prediction; None: follow the project.
    ask_label_studio : at ``/setup``, read the project's ``model_version`` from Label Studio's
        API with the token Label Studio sends (a short timeout; failures are ignored).
    image_features : ``bytes -> 1-D array``: the features of an encoded image (default
        :func:`~labelwise.stream.image_features.pixel_features`, 16 x 16 grayscale in [0, 1]).
        Every image of a project must give the same length.
    image_timeout : seconds for fetching one image.
    local_files_root : Label Studio's ``LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT``, to read
        ``/data/local-files/?d=...`` images from disk (default: that environment variable).
    label_studio_url : the only Label Studio the backend sends requests to (images, the
        project's ``model_version``); a ``/setup`` naming another is refused. None: the backend
        sends no request at all (see :mod:`labelwise.server.labelstudio.security`).
    label_studio_token : the API token for ``label_studio_url``; None: the one ``/setup`` sends.
    basic_auth_user, basic_auth_pass : HTTP basic auth credentials every route but the health
        check requires (both or neither).
    max_body_bytes : request bodies over this size are answered 413.
    """

    train_every: int = 1
    score: UncertaintyKind = "least_confidence"
    title: str = "labelwise"
    model_version: str | None = None
    ask_label_studio: bool = True
    image_features: Callable[[bytes], Any] = pixel_features
    image_timeout: float = 10.0
    local_files_root: str | None = field(
        default_factory=lambda: os.environ.get("LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT") or None
    )
    label_studio_url: str | None = None
    label_studio_token: str | None = field(default=None, repr=False)
    basic_auth_user: str | None = None
    basic_auth_pass: str | None = field(default=None, repr=False)
    max_body_bytes: int = MAX_BODY_BYTES

    def __post_init__(self) -> None:
        if isinstance(self.train_every, bool) or self.train_every < 1:
            raise InvalidInputError(f"train_every must be a positive int, got {self.train_every}")
        if not self.image_timeout > 0:
            raise InvalidInputError(f"image_timeout must be positive, got {self.image_timeout}")
        if self.label_studio_url:
            check_label_studio_url(self.label_studio_url)
        elif self.label_studio_token:
            raise InvalidInputError("a Label Studio token needs the Label Studio URL it is for")
        self.basic_auth()  # both credentials or neither
        if isinstance(self.max_body_bytes, bool) or self.max_body_bytes < 1:
            raise InvalidInputError(f"max_body_bytes must be positive, got {self.max_body_bytes}")

    def basic_auth(self) -> BasicAuth | None:
        """The credentials requests need, or None when the backend is open."""
        if self.basic_auth_user is None and self.basic_auth_pass is None:
            return None
        return BasicAuth(self.basic_auth_user or "", self.basic_auth_pass or "")


@dataclass
class ProjectState:
    """What the backend holds in memory for one Label Studio project."""

    ls_id: int
    name: str
    config: LabelConfig
    revisions: list[state.Revision] = field(default_factory=list)
    model: Any = None
    version: str | None = None
    trained_on: int = 0  # revisions the current model learned from
    ls_model_version: str | None = None
    hostname: str = ""
    token: str = ""
    features: FeatureCache = field(default_factory=FeatureCache)


def project_id(value: Any) -> int:
    """Label Studio's project id from ``"12.1712345678"``, ``12`` or ``{"id": 12, ...}``."""
    raw = value.get("id") if isinstance(value, Mapping) else value
    text = str(raw).split(".", 1)[0] if raw is not None else ""
    if isinstance(raw, bool) or not text.isdigit():
        raise InvalidInputError(
            f"project must be Label Studio's project id ('<id>.<timestamp>' or an object with "
            f"'id'), got {value!r}"
        )
    return int(text)


class LabelStudioBackend:
    """Predictions and training for every Label Studio project that talks to this backend."""

    def __init__(self, store: Store, settings: BackendSettings | None = None) -> None:
        self.store = store
        self.settings = settings or BackendSettings()
        self._projects: dict[int, ProjectState] = {}
        self._lock = threading.RLock()

    # -- projects -----------------------------------------------------------------------------
    def project(self, ls_id: int, label_config: str | None = None) -> ProjectState:
        """The state of project ``ls_id``, loaded from the store on first use."""
        with self._lock:
            held = self._projects.get(ls_id)
            if held is not None and label_config:
                config = parse_label_config(label_config)
                if config != held.config:
                    held = None  # the config changed: check it against the store again
            if held is not None:
                return held
            if not label_config:
                raise InvalidInputError(
                    f"project {ls_id} is new to this backend: send its label_config "
                    "(Label Studio does so in /setup and /predict)"
                )
            config = parse_label_config(label_config)
            name = state.ensure_project(self.store, ls_id, config)
            loaded = ProjectState(ls_id, name, config, state.load_revisions(self.store, name))
            previous = self._projects.get(ls_id)
            if previous is not None:
                loaded.ls_model_version = previous.ls_model_version
                loaded.hostname, loaded.token = previous.hostname, previous.token
            stored = state.last_model(self.store, name)
            if stored is not None:
                self._fit(loaded)
                loaded.version = stored.model_version
                loaded.trained_on = stored.n_revisions
            self._projects[ls_id] = loaded
            return loaded

    def model_version(self, project: ProjectState) -> str:
        """The ``model_version`` predictions carry (see the module docstring)."""
        return self.settings.model_version or project.ls_model_version or self.settings.title

    def setup(self, ls_project: Any, schema: str, hostname: str = "", token: str = "") -> str:
        """Answer ``/setup``: learn the project's config; returns the model version.

        A ``hostname`` that is not the configured Label Studio is refused before anything is
        stored or sent; without a configured one, ``hostname`` and ``token`` are ignored.
        """
        settings = self.settings
        url, token = label_studio_access(
            settings.label_studio_url, settings.label_studio_token, hostname, token
        )
        project = self.project(project_id(ls_project), schema)
        if url:
            project.hostname, project.token = url, token or project.token
        if settings.ask_label_studio and url and project.token:
            found = ask_model_version(url, project.token, project.ls_id)
            if found:
                project.ls_model_version = found
        return self.model_version(project)

    # -- predictions --------------------------------------------------------------------------
    def predict(
        self, tasks: Sequence[Mapping[str, Any]], ls_project: Any, label_config: str | None
    ) -> list[dict[str, Any]]:
        """One prediction per task, in order: the likeliest choice and the acquisition score."""
        project = self.project(project_id(ls_project), label_config)
        config = project.config
        values = [task_value(task, config, position) for position, task in enumerate(tasks)]
        if not values:
            return []
        with self._lock:
            model = project.model
        n_classes = len(config.labels)
        if config.kind == "image":
            features = [
                self._image_features(project, task, value)
                for task, value in zip(tasks, values, strict=True)
            ]
        if model is None:
            proba = np.full((len(values), n_classes), 1.0 / n_classes)
        elif config.kind == "image":
            proba = model.predict_proba(stack_features(features, project.ls_id))
        else:
            proba = model.predict_proba(hashed_text(values))
        scores = labelstudio_score(proba, self.settings.score)
        version = self.model_version(project)
        best = np.argmax(proba, axis=1)
        return [
            {
                "result": [
                    {
                        "from_name": config.from_name,
                        "to_name": config.to_name,
                        "type": "choices",
                        "value": {"choices": [config.labels[int(k)]]},
                    }
                ],
                "score": round(float(score), 6),
                "model_version": version,
            }
            for k, score in zip(best, scores, strict=True)
        ]

    # -- annotations and training -------------------------------------------------------------
    def webhook(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Handle one webhook event; returns what was done (Label Studio ignores the answer)."""
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
                self._record_annotation(project, payload)
                return self._train_if_due(project, action, force=False)
            if action == "ANNOTATIONS_DELETED":
                self._record_deletions(project, payload.get("annotations"))
                return self._train_if_due(project, action, force=False)
            if action == "START_TRAINING":
                # Label Studio sends it for every saved annotation, before that annotation's
                # own webhook: it trains on the same rule as the annotations (POST /train
                # trains now).
                return self._train_if_due(project, action, force=False)
        return {"status": "ignored", "action": action}

    def train(self, ls_project: Any, label_config: str | None = None) -> dict[str, Any]:
        """Train now on everything annotated since the last model (``POST /train``)."""
        with self._lock:
            project = self.project(project_id(ls_project), label_config)
            return self._train_if_due(project, "train", force=True)

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

    def _record_annotation(self, project: ProjectState, payload: Mapping[str, Any]) -> None:
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
            None if annotation.get("was_cancelled") else chosen_label(annotation, project.config)
        )
        content: dict[str, Any] = {"text": value}
        if project.config.kind == "image":
            features = self._image_features(project, task, value)
            content = {"image": self._image_uri(project, task_id, value)}
            if label is not None:
                content["features"] = encode_features(features)
        self._add_revisions(project, [(task_id, annotation_id, content, label)])

    def _record_deletions(self, project: ProjectState, annotations: Any) -> None:
        if not isinstance(annotations, list):
            raise InvalidInputError("ANNOTATIONS_DELETED needs a list 'annotations' of {'id'}")
        deleted = {int_field(item, "id", "annotation") for item in annotations}
        newest: dict[int, state.Revision] = {}
        for revision in project.revisions:
            held = newest.get(revision.task)
            if held is None or revision.number > held.number:
                newest[revision.task] = revision
        rows = [
            (rev.task, rev.annotation, None, None)
            for rev in newest.values()
            if rev.annotation in deleted and rev.label is not None
        ]
        self._add_revisions(project, rows)

    def _add_revisions(
        self,
        project: ProjectState,
        events: Sequence[tuple[int, int, dict[str, Any] | None, str | None]],
    ) -> None:
        counts: dict[int, int] = {}
        for revision in project.revisions:
            counts[revision.task] = max(counts.get(revision.task, 0), revision.number)
        rows: list[dict[str, Any]] = []
        added: list[state.Revision] = []
        for task_id, annotation_id, content, label in events:
            number = counts.get(task_id, 0) + 1
            counts[task_id] = number
            if content is None:  # a deletion: no label, and no features to keep
                content = (
                    {"image": f"labelstudio://task/{task_id}"}
                    if project.config.kind == "image"
                    else {"text": self._text_of(project, task_id)}
                )
            row: dict[str, Any] = {"id": state.revision_id(task_id, annotation_id, number)}
            row.update(content)
            if label is not None:
                row["label"] = label
            rows.append(row)
            added.append(state.Revision(task_id, annotation_id, number, label))
        state.add_revisions(self.store, project.name, rows)
        project.revisions.extend(added)

    def _text_of(self, project: ProjectState, task_id: int) -> str:
        from labelwise.store import list_samples

        prefix = f"task-{task_id}."
        for record in reversed(list_samples(self.store, project.name)):
            if record.external_id.startswith(prefix) and record.text is not None:
                return record.text
        return ""

    def _train_if_due(self, project: ProjectState, trigger: str, *, force: bool) -> dict[str, Any]:
        new = len(project.revisions) - project.trained_on
        due = new >= self.settings.train_every or (force and new > 0)
        if not due:
            return {
                "status": "waiting",
                "new_annotations": new,
                "train_every": self.settings.train_every,
                "model_version": project.version,
            }
        started = time.perf_counter()
        n_train = self._fit(project)
        seconds = time.perf_counter() - started
        project.trained_on = len(project.revisions)
        project.version = state.save_model_round(
            self.store,
            project.name,
            {
                "n_train": n_train,
                "n_revisions": project.trained_on,
                "trigger": trigger,
                "seconds": round(seconds, 4),
            },
        )
        logger.info("trained %s on %d labels (%s)", project.version, n_train, trigger)
        return {"status": "trained", "model_version": project.version, "n_train": n_train}

    def _fit(self, project: ProjectState) -> int:
        """Fit the project's model on the newest label of each task; the labeled count."""
        labels = state.newest_labels(project.revisions)
        if not labels:
            project.model = None
            return 0
        from labelwise.store import labeled_set

        newest_number: dict[int, int] = {}
        for revision in project.revisions:
            if labels.get(revision.task) is not None:
                newest_number[revision.task] = max(
                    newest_number.get(revision.task, 0), revision.number
                )
        wanted = {
            state.revision_id(rev.task, rev.annotation, rev.number)
            for rev in project.revisions
            if newest_number.get(rev.task) == rev.number
        }
        pairs = [
            (record, label)
            for record, label in labeled_set(self.store, project.name)
            if record.external_id in wanted
        ]
        if len({label for _, label in pairs}) < 2:
            project.model = None  # one class teaches nothing: keep predictions uniform
            return len(pairs)
        y = [label for _, label in pairs]
        if project.config.kind == "image":
            stored = state.load_features(self.store, project.name, wanted)
            rows = [decode_features(stored[record.external_id]) for record, _ in pairs]
            model = image_classifier(project.config.labels)
            model.fit(stack_features(rows, project.ls_id), y)
        else:
            model = text_classifier(project.config.labels)
            model.fit(hashed_text([record.text or "" for record, _ in pairs]), y)
        project.model = model
        return len(pairs)

    # -- images -------------------------------------------------------------------------------
    def _image_features(self, project: ProjectState, task: Mapping[str, Any], value: str) -> Any:
        """The features of a task's image: from the cache, or fetched and computed once."""
        raw_id = task.get("id")
        task_id = raw_id if isinstance(raw_id, int) and not isinstance(raw_id, bool) else None
        if task_id is not None:
            with self._lock:
                held = project.features.get(task_id, value)
            if held is not None:
                return held
        source = ImageSource(
            project.hostname,
            project.token,
            self.settings.local_files_root,
            self.settings.image_timeout,
        )
        features = image_features(value, raw_id, source, self.settings.image_features)
        if task_id is not None:
            with self._lock:
                project.features.put(task_id, value, features)
        return features

    @staticmethod
    def _image_uri(project: ProjectState, task_id: int, value: str) -> str:
        """What the store keeps as the image's URI: its URL, or a reference to the task."""
        if value.startswith(("http://", "https://")):
            return value
        if value.startswith("/") and project.hostname:
            return project.hostname.rstrip("/") + value
        return f"labelstudio://task/{task_id}"
