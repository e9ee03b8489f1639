"""The store's tables as SQLAlchemy 2.0 typed models.

One row kind per table: ``project`` (label space, task type, answer kind, settings),
``sample`` (payload or URI, split, state), ``task`` (one annotation slot of a queued sample,
and its lease),
``annotation`` (append-only), ``label`` (the aggregated answer), ``round``, ``score``,
``dataset_version`` and its members, ``annotator``, ``audit``, ``sample_tally`` (counts per
split and state, kept in the same transactions as the samples so that status reads 15 rows
instead of scanning the pool), and the computed features of samples: ``feature_set`` (one per
project and kind: its dimension and fixed parameters) and ``sample_feature`` (one float32
vector per sample and kind), the suggestions served (``suggestion``) and the newest rounds'
fitted models as bytes (``round_model``). Constraints carry names from one convention, for
Alembic.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

Split = Literal["pool", "eval", "gold"]
SampleState = Literal["unlabeled", "queued", "in_progress", "labeled", "skipped"]
TaskState = Literal["open", "leased", "done"]
TaskType = Literal["text_classification", "image_classification", "tabular_classification"]
Role = Literal["annotator", "reviewer", "admin"]

SPLITS: tuple[str, ...] = ("pool", "eval", "gold")
SAMPLE_STATES: tuple[str, ...] = ("unlabeled", "queued", "in_progress", "labeled", "skipped")
TASK_STATES: tuple[str, ...] = ("open", "leased", "done")
TASK_TYPES: tuple[str, ...] = (
    "text_classification",
    "image_classification",
    "tabular_classification",
)
ROLES: tuple[str, ...] = ("annotator", "reviewer", "admin")
#: What an annotator answers: one label of the label space (classification), a number
#: (regression, bounds and step in the project's settings) or a set of labels (multi-label).
ANSWER_KINDS: tuple[str, ...] = ("label", "number", "labels", "spans")
AnswerKind = Literal["label", "number", "labels", "spans"]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Integer primary keys: 64-bit on PostgreSQL, SQLite's rowid alias (also 64-bit) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    """Declarative base whose metadata names every constraint and index."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[str]: JSON}


class Project(Base):
    __tablename__ = "project"
    __table_args__ = (
        CheckConstraint(_one_of("task_type", TASK_TYPES), name="task_type"),
        CheckConstraint(_one_of("answer_kind", ANSWER_KINDS), name="answer_kind"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    task_type: Mapped[str] = mapped_column(String(40))
    answer_kind: Mapped[str] = mapped_column(String(10), server_default="label")
    label_space: Mapped[list[str]]
    settings: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(DateTime())


class Annotator(Base):
    __tablename__ = "annotator"
    __table_args__ = (CheckConstraint(_one_of("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime())


class Sample(Base):
    __tablename__ = "sample"
    __table_args__ = (
        UniqueConstraint("project_id", "external_id"),
        Index("ix_sample_project_id_state", "project_id", "state"),
        CheckConstraint(_one_of("split", SPLITS), name="split"),
        CheckConstraint(_one_of("state", SAMPLE_STATES), name="state"),
        CheckConstraint(
            "NOT (split = 'eval' AND state IN ('queued', 'in_progress'))", name="eval_never_queued"
        ),
        # a tabular sample's payload is its columns, kept in ``meta``
        CheckConstraint(
            "text IS NOT NULL OR uri IS NOT NULL OR meta IS NOT NULL", name="has_payload"
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    external_id: Mapped[str] = mapped_column(String(500))
    text: Mapped[str | None] = mapped_column(Text)
    uri: Mapped[str | None] = mapped_column(Text)
    split: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(12))
    gold_label: Mapped[str | None] = mapped_column(Text)  # Text since 0009: gold spans
    meta: Mapped[dict[str, Any] | None]
    content_hash: Mapped[str] = mapped_column(String(32))


class SampleTally(Base):
    __tablename__ = "sample_tally"

    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), primary_key=True)
    split: Mapped[str] = mapped_column(String(10), primary_key=True)
    state: Mapped[str] = mapped_column(String(12), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger())


class Round(Base):
    __tablename__ = "round"
    __table_args__ = (UniqueConstraint("project_id", "number"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    number: Mapped[int] = mapped_column(Integer())
    strategy: Mapped[str] = mapped_column(String(100))
    model_version: Mapped[str | None] = mapped_column(String(200))
    batch_size: Mapped[int] = mapped_column(Integer())
    metrics: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(DateTime())


class Task(Base):
    __tablename__ = "task"
    __table_args__ = (
        # next task by score: a backward walk of this index (priority, then newest, first)
        Index("ix_task_queue", "project_id", "state", "priority", "id"),
        Index("ix_task_expiry", "project_id", "state", "lease_expires_at"),
        Index("ix_task_sample_id_annotator_id", "sample_id", "annotator_id"),
        Index("ix_task_annotator_id_sample_id", "annotator_id", "sample_id"),
        CheckConstraint(_one_of("state", TASK_STATES), name="state"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    sample_id: Mapped[int] = mapped_column(ForeignKey("sample.id"))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("round.id"))
    priority: Mapped[float] = mapped_column(Float())
    state: Mapped[str] = mapped_column(String(8))
    annotator_id: Mapped[int | None] = mapped_column(ForeignKey("annotator.id"))
    leased_at: Mapped[datetime | None] = mapped_column(DateTime())
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime())
    created_at: Mapped[datetime] = mapped_column(DateTime())


#: The annotations that count: those not taken back by an undo.
STANDING = "retracted_at IS NULL"


class Annotation(Base):
    """One annotator's answer for one sample; rows are only ever inserted.

    An undone answer stays, marked ``retracted_at`` / ``retracted_by``; every reader that counts
    answers or aggregates labels skips it. One standing answer per task (a partial unique
    index): a task answered, undone and answered again holds two rows, one of them retracted.
    """

    __tablename__ = "annotation"
    __table_args__ = (
        Index("ix_annotation_sample_id", "sample_id"),
        Index("ix_annotation_project_id_annotator_id", "project_id", "annotator_id"),
        Index(
            "ux_annotation_task_id_standing",
            "task_id",
            unique=True,
            sqlite_where=text(STANDING),
            postgresql_where=text(STANDING),
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    sample_id: Mapped[int] = mapped_column(ForeignKey("sample.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"))
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotator.id"))
    value: Mapped[str] = mapped_column(Text)  # Text since 0006: span answers
    seconds_spent: Mapped[float | None] = mapped_column(Float())
    created_at: Mapped[datetime] = mapped_column(DateTime())
    retracted_at: Mapped[datetime | None] = mapped_column(DateTime())
    retracted_by: Mapped[int | None] = mapped_column(ForeignKey("annotator.id"))


class Label(Base):
    """The aggregated answer of a sample: what the model trains on."""

    __tablename__ = "label"
    __table_args__ = (Index("ix_label_project_id_value", "project_id", "value"),)

    sample_id: Mapped[int] = mapped_column(ForeignKey("sample.id"), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    value: Mapped[str] = mapped_column(Text)  # Text since 0006: span answers
    method: Mapped[str] = mapped_column(String(40))
    agreement: Mapped[float | None] = mapped_column(Float())
    n_annotations: Mapped[int] = mapped_column(Integer())
    updated_at: Mapped[datetime] = mapped_column(DateTime())


class Score(Base):
    __tablename__ = "score"
    __table_args__ = (Index("ix_score_sample_id", "sample_id"),)

    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"), primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("sample.id"), primary_key=True)
    value: Mapped[float] = mapped_column(Float())


class DatasetVersion(Base):
    __tablename__ = "dataset_version"
    __table_args__ = (UniqueConstraint("project_id", "number"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    number: Mapped[int] = mapped_column(Integer())
    round_id: Mapped[int | None] = mapped_column(ForeignKey("round.id"))
    content_hash: Mapped[str] = mapped_column(String(64))
    n_members: Mapped[int] = mapped_column(Integer())
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime())


class DatasetVersionMember(Base):
    __tablename__ = "dataset_version_member"

    version_id: Mapped[int] = mapped_column(ForeignKey("dataset_version.id"), primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("sample.id"), primary_key=True)
    value: Mapped[str] = mapped_column(Text)  # Text since 0006: span answers
    method: Mapped[str] = mapped_column(String(40))
    agreement: Mapped[float | None] = mapped_column(Float())
    n_annotations: Mapped[int] = mapped_column(Integer())


class Audit(Base):
    __tablename__ = "audit"
    __table_args__ = (Index("ix_audit_project_id_at", "project_id", "at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id"))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime())
    detail: Mapped[dict[str, Any] | None]


class FeatureSet(Base):
    """A kind of computed features of one project: its width and the parameters it was made
    with (a text model's name, a tabular project's columns and pool mean and std)."""

    __tablename__ = "feature_set"

    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(60), primary_key=True)
    dim: Mapped[int] = mapped_column(Integer())
    params: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(DateTime())


class SampleFeature(Base):
    """One sample's features of one kind: ``dim`` little-endian float32 values."""

    __tablename__ = "sample_feature"
    __table_args__ = (
        ForeignKeyConstraint(
            ["project_id", "kind"], ["feature_set.project_id", "feature_set.kind"]
        ),
    )

    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(60), primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("sample.id"), primary_key=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary())


class Suggestion(Base):
    """The model's suggestion as served to an annotator with a task (rows only inserted).

    Written when the annotation page asks for the task's suggestion, so that an answer can be
    compared with what its annotator was shown: the answer's suggestion is the last row of its
    task served before it (``served_at``, then ``id``). Since migration 0007.
    """

    __tablename__ = "suggestion"
    __table_args__ = (
        Index("ix_suggestion_task_id", "task_id"),
        Index("ix_suggestion_project_id_annotator_id", "project_id", "annotator_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"))
    sample_id: Mapped[int] = mapped_column(ForeignKey("sample.id"))
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotator.id"))
    value: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float | None] = mapped_column(Float())
    round_number: Mapped[int | None] = mapped_column(Integer())
    model_version: Mapped[str | None] = mapped_column(String(200))
    served_at: Mapped[datetime] = mapped_column(DateTime())


class RoundModel(Base):
    """A round's fitted model as bytes, for the processes that did not train it (since 0008).

    Written in the round's own transaction (:func:`labelwise.store.record_round`), so a
    process that sees a round sees its model; only the newest few of a project are kept.
    ``format`` says how ``data`` was made (the reader refuses one it does not make itself),
    ``features`` the feature kind the model reads (None for a spans project's tagger).
    """

    __tablename__ = "round_model"
    __table_args__ = (
        ForeignKeyConstraint(["project_id", "round_number"], ["round.project_id", "round.number"]),
    )

    project_id: Mapped[int] = mapped_column(Id, primary_key=True)
    round_number: Mapped[int] = mapped_column(Integer(), primary_key=True)
    format: Mapped[str] = mapped_column(String(400))
    features: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(DateTime())
    data: Mapped[bytes] = mapped_column(LargeBinary())
