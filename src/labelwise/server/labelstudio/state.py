"""The backend's memory in the labelwise store: one project per Label Studio project.

Label Studio lets annotators change and delete annotations; the store's annotations are
append-only. So each annotation event becomes a new *revision* sample of the task, imported
with its label (or without one, for a deletion or a skipped task) under the external id
``task-<task id>.a<annotation id>.r<revision>``. An image revision keeps the image's URL as its
URI and the image's features (base64 float32) in the sample's metadata under ``features``, so
training never fetches an image twice. A NER project's revision keeps its spans (the span label
of :mod:`~labelwise.server.labelstudio.ner`) in the metadata under ``spans``; its store label
is the first span's type, or ``O``. The training set is the newest revision of
every task that has a label: the newest answer wins. Each trained model is a round
(:func:`labelwise.store.record_round`) whose ``model_version`` is ``labelwise-<n>`` and whose
metrics keep the revision count it was trained on, so a restarted backend knows how many
annotations are new since its last model and retrains that model from the store.
"""

from __future__ import annotations

import json
import re
import tempfile
import threading
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labelwise.errors import InvalidInputError
from labelwise.server.labelstudio.label_config import LabelConfig
from labelwise.store import (
    NotFoundError,
    Store,
    create_project,
    get_project,
    import_samples,
    labeled_set,
    list_rounds,
    list_samples,
    record_round,
)
from labelwise.store.projects import project_row
from labelwise.store.schema import Sample, TaskType

if TYPE_CHECKING:
    from labelwise.loop import RoundEngine
    from labelwise.server.labelstudio.ranking import Ranking
    from labelwise.server.labelstudio.task_features import TaskFeatures

_REVISION = re.compile(r"^task-(\d+)\.a(-?\d+)\.r(\d+)$")
#: The strategy name of the backend's rounds.
ROUND_STRATEGY = "labelstudio"


def store_project_name(ls_project: int) -> str:
    """The store project that mirrors Label Studio project ``ls_project``."""
    return f"labelstudio-{ls_project}"


@dataclass(frozen=True)
class Revision:
    """One annotation event of a task, as stored."""

    task: int
    annotation: int
    number: int
    label: str | None


def revision_id(task: int, annotation: int, number: int) -> str:
    """The external id of a revision sample."""
    return f"task-{task}.a{annotation}.r{number}"


def ensure_project(store: Store, ls_project: int, config: LabelConfig) -> str:
    """Create the store project of ``ls_project`` with the config's choices, or check it."""
    from labelwise.server.labelstudio.ner import store_label_space

    name = store_project_name(ls_project)
    task_type: TaskType = (
        "image_classification" if config.kind == "image" else "text_classification"
    )
    labels = store_label_space(config) if config.spans else list(config.labels)
    try:
        found = get_project(store, name)
    except NotFoundError:
        create_project(store, name, labels, task_type, actor="labelstudio")
        return name
    if list(found.label_space) != labels:
        raise InvalidInputError(
            f"Label Studio project {ls_project} now has labels {labels} but "
            f"labelwise learned {list(found.label_space)}: a changed label space needs a new "
            "project (or remove the store project to start over)"
        )
    return name


def load_revisions(store: Store, project: str, spans: bool = False) -> list[Revision]:
    """Every stored revision of the project, oldest first, with its label (None: none); with
    ``spans`` (a NER project) the label is the span label kept in the metadata."""
    labels = {record.id: label for record, label in labeled_set(store, project)}
    span_labels = _span_labels(store, project) if spans else {}
    found: list[Revision] = []
    for record in list_samples(store, project):
        match = _REVISION.match(record.external_id)
        if match is None:
            continue
        task, annotation, number = (int(part) for part in match.groups())
        label = labels.get(record.id)
        if spans and label is not None:
            label = span_labels.get(record.external_id, "[]")
        found.append(Revision(task, annotation, number, label))
    return found


def _span_labels(store: Store, project: str) -> dict[str, str]:
    """External id -> the span label a NER revision keeps in its metadata."""
    from sqlalchemy import select

    found: dict[str, str] = {}
    with store.read() as session:
        row = project_row(session, project)
        query = select(Sample.external_id, Sample.meta).where(Sample.project_id == row.id)
        for external_id, meta in session.execute(query):
            if isinstance(meta, Mapping) and "spans" in meta:
                found[external_id] = str(meta["spans"])
    return found


def newest_labels(revisions: Sequence[Revision]) -> dict[int, str]:
    """Task -> label of its newest revision, for tasks whose newest revision has a label."""
    newest: dict[int, Revision] = {}
    for revision in revisions:
        held = newest.get(revision.task)
        if held is None or revision.number > held.number:
            newest[revision.task] = revision
    return {task: rev.label for task, rev in newest.items() if rev.label is not None}


def load_features(store: Store, project: str, external_ids: Collection[str]) -> dict[str, str]:
    """External id -> the stored (encoded) image features of those revisions that have them."""
    from sqlalchemy import select

    wanted = set(external_ids)
    found: dict[str, str] = {}
    with store.read() as session:
        row = project_row(session, project)
        query = select(Sample.external_id, Sample.meta).where(Sample.project_id == row.id)
        for external_id, meta in session.execute(query):
            if external_id in wanted and isinstance(meta, Mapping) and "features" in meta:
                found[external_id] = str(meta["features"])
    missing = wanted - set(found)
    if missing:
        raise InvalidInputError(
            f"the store has no image features for revisions {sorted(missing)[:5]} of {project}"
        )
    return found


def revision_text(store: Store, project: str, external_id: str) -> str:
    """The text a stored revision keeps ("" when it has none)."""
    from sqlalchemy import select

    with store.read() as session:
        row = project_row(session, project)
        query = select(Sample.text).where(
            Sample.project_id == row.id, Sample.external_id == external_id
        )
        found = session.execute(query).scalar_one_or_none()
    return found or ""


def add_revisions(store: Store, project: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Import revision rows (``id``, ``text`` or ``image``, optional ``label``, ``features``
    and ``spans``) in one transaction."""
    if not rows:
        return
    with tempfile.TemporaryDirectory(prefix="labelwise-ls-") as folder:
        path = Path(folder) / "revisions.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        import_samples(store, path, project, actor="labelstudio")


@dataclass(frozen=True)
class StoredModel:
    """The newest model round of a project: its number and the revisions it learned from."""

    number: int
    model_version: str
    n_revisions: int


def last_model(store: Store, project: str) -> StoredModel | None:
    """The newest round the backend recorded for the project, or None before the first."""
    rounds = [r for r in list_rounds(store, project) if r.strategy == ROUND_STRATEGY]
    if not rounds:
        return None
    newest = max(rounds, key=lambda r: r.number)
    return StoredModel(
        newest.number,
        newest.model_version or f"labelwise-{newest.number}",
        int(newest.metrics.get("n_revisions", 0)),
    )


def model_versions(store: Store, project: str) -> list[str]:
    """The model versions of the project's rounds, oldest first."""
    rounds = sorted(
        (r for r in list_rounds(store, project) if r.strategy == ROUND_STRATEGY),
        key=lambda r: r.number,
    )
    return [r.model_version or f"labelwise-{r.number}" for r in rounds]


def save_model_round(store: Store, project: str, metrics: Mapping[str, Any]) -> str:
    """Record a trained model as a round; returns its model version ``labelwise-<n>``."""
    number = len(list_rounds(store, project)) + 1
    version = f"labelwise-{number}"
    record_round(
        store,
        project,
        ROUND_STRATEGY,
        model_version=version,
        metrics=dict(metrics),
        create_version=False,
        actor="labelstudio",
    )
    return version


@dataclass
class ProjectState:
    """What the backend holds in memory for one Label Studio project."""

    ls_id: int
    name: str
    config: LabelConfig
    features: TaskFeatures
    revisions: list[Revision] = field(default_factory=list)
    engine: RoundEngine | None = None  # the served model: replaced, never changed in place
    version: str | None = None
    trained_on: int = 0  # revisions the current model learned from
    ranking: Ranking | None = None
    pushed: str | None = None  # the model version of the last push
    last_refresh: dict[str, Any] = field(default_factory=dict)  # what it did, its seconds
    webhook_authorized: bool = False  # the project's webhook to us sends our credentials
    seen: dict[int, str] = field(default_factory=dict)  # task -> value, without a client
    ls_model_version: str | None = None
    hostname: str = ""
    token: str = ""
    serve_lock: threading.Lock = field(default_factory=threading.Lock)


def load_project_state(
    store: Store,
    ls_id: int,
    config: LabelConfig,
    features: TaskFeatures,
    previous: ProjectState | None = None,
) -> ProjectState:
    """The state of Label Studio project ``ls_id`` as the store keeps it: its store project
    (made on first use), its revisions and its last model's version and revision count (the
    trainer refits that model: ``version`` is set, ``engine`` is not). ``previous``, the state
    it replaces (a changed label config), hands on what Label Studio told about itself."""
    name = ensure_project(store, ls_id, config)
    loaded = ProjectState(ls_id, name, config, features)
    loaded.revisions = load_revisions(store, name, spans=config.spans)
    if previous is not None:
        loaded.ls_model_version = previous.ls_model_version
        loaded.hostname, loaded.token = previous.hostname, previous.token
    stored = last_model(store, name)
    if stored is not None:
        loaded.version, loaded.trained_on = stored.model_version, stored.n_revisions
    return loaded
