"""The durable store: pool, queue, annotations, labels, rounds, scores and dataset versions.

SQLAlchemy 2.0 over SQLite (the default, one file in WAL mode) or PostgreSQL (by URL), with
Alembic migrations shipped in the package. Each function that changes the store is one
transaction and writes its audit row in it.

Examples
--------
>>> store = init_store("sqlite:///labelwise.db")  # doctest: +SKIP
>>> import_samples(store, "reviews.csv", "reviews", labels=["neg", "pos"])  # doctest: +SKIP
"""

from labelwise.store.adding import add_samples
from labelwise.store.aggregation import Aggregator, Vote, majority, reaggregate
from labelwise.store.answers import (
    AnswerError,
    AnswerSpec,
    decode_answer,
    encode_answer,
    gold_credit,
    gold_score,
)
from labelwise.store.engine import (
    DEFAULT_URL,
    Store,
    init_store,
    normalize_url,
    open_store,
)
from labelwise.store.errors import (
    ImportFileError,
    LeaseError,
    NotFoundError,
    SchemaError,
    StoreError,
)
from labelwise.store.export import EXPORT_FORMATS, export_labeled
from labelwise.store.features import iter_features, load_features, save_features
from labelwise.store.importing import ImportReport, import_samples
from labelwise.store.leasing import budget_left
from labelwise.store.progress import AnnotatorProgress, annotator_progress
from labelwise.store.projects import (
    AnnotatorInfo,
    ProjectInfo,
    add_annotator,
    annotator_for_token,
    create_project,
    get_project,
    list_projects,
)
from labelwise.store.queue import (
    AnnotationRecord,
    TaskLease,
    enqueue,
    lease_next_task,
    submit_annotation,
)
from labelwise.store.queue_depth import QueueDepth, queue_depth
from labelwise.store.renewal import renew_lease
from labelwise.store.rounds import RoundInfo, ScoreRecord, list_rounds, record_round, why_chosen
from labelwise.store.samples import SampleRecord, labeled_set, list_samples
from labelwise.store.status import StoreStatus, status
from labelwise.store.versions import (
    VersionInfo,
    checkout_version,
    create_dataset_version,
    list_versions,
)

__all__ = [
    "DEFAULT_URL",
    "EXPORT_FORMATS",
    "Aggregator",
    "AnnotationRecord",
    "AnnotatorInfo",
    "AnnotatorProgress",
    "AnswerError",
    "AnswerSpec",
    "ImportFileError",
    "ImportReport",
    "LeaseError",
    "NotFoundError",
    "ProjectInfo",
    "QueueDepth",
    "RoundInfo",
    "SampleRecord",
    "SchemaError",
    "ScoreRecord",
    "Store",
    "StoreError",
    "StoreStatus",
    "TaskLease",
    "VersionInfo",
    "Vote",
    "add_annotator",
    "add_samples",
    "annotator_for_token",
    "annotator_progress",
    "budget_left",
    "checkout_version",
    "create_dataset_version",
    "create_project",
    "decode_answer",
    "encode_answer",
    "enqueue",
    "export_labeled",
    "get_project",
    "gold_credit",
    "gold_score",
    "import_samples",
    "init_store",
    "iter_features",
    "labeled_set",
    "lease_next_task",
    "list_projects",
    "list_rounds",
    "list_samples",
    "list_versions",
    "load_features",
    "majority",
    "normalize_url",
    "open_store",
    "queue_depth",
    "reaggregate",
    "record_round",
    "renew_lease",
    "save_features",
    "status",
    "submit_annotation",
    "why_chosen",
]
