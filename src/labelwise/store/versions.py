"""Dataset versions: snapshots of the labeled set, listed and checked out.

A version copies the project's ``label`` rows (value, method, agreement) into
``dataset_version_member`` with a SHA-256 content hash over the sorted ``(id, label)`` pairs,
so two versions with the same labels have the same hash. Checking a version out makes the
labeled set what it was then; annotations are append-only and stay as they are.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, literal, select, update
from sqlalchemy.orm import Session

from labelwise.store import _audit, _tally
from labelwise.store.engine import Store, utcnow
from labelwise.store.errors import NotFoundError
from labelwise.store.projects import project_row
from labelwise.store.schema import DatasetVersion, DatasetVersionMember, Label, Round, Sample

__all__ = ["VersionInfo", "checkout_version", "create_dataset_version", "list_versions"]


@dataclass(frozen=True)
class VersionInfo:
    """A dataset version: its number, the round it closed, its size and content hash."""

    number: int
    round_number: int | None
    n_members: int
    content_hash: str
    created_at: datetime
    note: str | None


def content_hash(pairs: list[tuple[str, str]]) -> str:
    """SHA-256 over sorted ``id\\tlabel`` lines: equal labeled sets, equal hashes."""
    digest = hashlib.sha256()
    for external_id, value in sorted(pairs):
        digest.update(f"{external_id}\t{value}\n".encode())
    return digest.hexdigest()


def snapshot(
    session: Session, project_id: int, round_id: int | None, note: str | None
) -> DatasetVersion:
    """Add a version holding the current labels (inside the caller's transaction)."""
    pairs = [
        (str(external_id), str(value))
        for external_id, value in session.execute(
            select(Sample.external_id, Label.value)
            .join(Label, Label.sample_id == Sample.id)
            .where(Label.project_id == project_id)
        )
    ]
    number = (
        session.scalar(
            select(func.max(DatasetVersion.number)).where(DatasetVersion.project_id == project_id)
        )
        or 0
    ) + 1
    version = DatasetVersion(
        project_id=project_id,
        number=number,
        round_id=round_id,
        content_hash=content_hash(pairs),
        n_members=len(pairs),
        note=note,
        created_at=utcnow(),
    )
    session.add(version)
    session.flush()
    session.execute(
        insert(DatasetVersionMember).from_select(
            ["version_id", "sample_id", "value", "method", "agreement", "n_annotations"],
            select(
                literal(version.id),
                Label.sample_id,
                Label.value,
                Label.method,
                Label.agreement,
                Label.n_annotations,
            ).where(Label.project_id == project_id),
        )
    )
    return version


def _info(session: Session, version: DatasetVersion) -> VersionInfo:
    round_number = (
        None
        if version.round_id is None
        else session.scalar(select(Round.number).where(Round.id == version.round_id))
    )
    return VersionInfo(
        version.number,
        round_number,
        version.n_members,
        version.content_hash,
        version.created_at,
        version.note,
    )


def create_dataset_version(
    store: Store,
    project: str,
    round_number: int | None = None,
    note: str | None = None,
    *,
    actor: str = "labelwise",
) -> VersionInfo:
    """Snapshot the labeled set as a new version (optionally tied to a round)."""
    with store.write() as session:
        row = project_row(session, project, lock=True)
        round_id = None
        if round_number is not None:
            round_id = session.scalar(
                select(Round.id).where(Round.project_id == row.id, Round.number == round_number)
            )
            if round_id is None:
                raise NotFoundError(f"no round {round_number} in project {project!r}")
        version = snapshot(session, row.id, round_id, note)
        _audit.record(
            session,
            actor=actor,
            action="create_version",
            object_type="dataset_version",
            object_id=version.id,
            project_id=row.id,
            detail={"number": version.number, "members": version.n_members},
        )
        return _info(session, version)


def list_versions(store: Store, project: str) -> list[VersionInfo]:
    """Every version of the project, oldest first."""
    with store.read() as session:
        row = project_row(session, project)
        versions = session.scalars(
            select(DatasetVersion)
            .where(DatasetVersion.project_id == row.id)
            .order_by(DatasetVersion.number)
        ).all()
        return [_info(session, version) for version in versions]


def version_row(session: Session, project_id: int, number: int) -> DatasetVersion:
    version = session.scalars(
        select(DatasetVersion).where(
            DatasetVersion.project_id == project_id, DatasetVersion.number == number
        )
    ).first()
    if version is None:
        raise NotFoundError(f"no dataset version {number}: see `labelwise versions`")
    return version


def checkout_version(
    store: Store, project: str, number: int, *, actor: str = "labelwise"
) -> VersionInfo:
    """Make the labeled set what it was in version ``number``; annotations are kept.

    Labels not in the version are removed from ``label`` (their samples become unlabeled and
    can be queued again); the version's labels are restored. Checking out is itself audited,
    and a later version can be checked out in turn.
    """
    with store.write() as session:
        row = project_row(session, project, lock=True)
        version = version_row(session, row.id, number)
        members = select(DatasetVersionMember.sample_id).where(
            DatasetVersionMember.version_id == version.id
        )
        session.execute(delete(Label).where(Label.project_id == row.id))
        session.execute(
            insert(Label).from_select(
                [
                    "sample_id",
                    "project_id",
                    "value",
                    "method",
                    "agreement",
                    "n_annotations",
                    "updated_at",
                ],
                select(
                    DatasetVersionMember.sample_id,
                    literal(row.id),
                    DatasetVersionMember.value,
                    DatasetVersionMember.method,
                    DatasetVersionMember.agreement,
                    DatasetVersionMember.n_annotations,
                    literal(utcnow()),
                ).where(DatasetVersionMember.version_id == version.id),
            )
        )
        session.execute(
            update(Sample)
            .where(Sample.project_id == row.id, Sample.state == "labeled")
            .where(Sample.id.not_in(members))
            .values(state="unlabeled")
        )
        session.execute(
            update(Sample)
            .where(Sample.id.in_(members), Sample.state != "labeled")
            .values(state="labeled")
        )
        _tally.recount(session, row.id)
        _audit.record(
            session,
            actor=actor,
            action="checkout_version",
            object_type="dataset_version",
            object_id=version.id,
            project_id=row.id,
            detail={"number": number, "members": version.n_members},
        )
        return _info(session, version)
