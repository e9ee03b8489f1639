"""``add_samples``: new pool samples from Python rows, in one transaction, their ids returned.

For code that produces samples as it goes (a stream, a crawler) rather than as a file: each
row is checked exactly as a line of a JSONL import is (:class:`labelwise.store._rows.
RowChecker`: an ``id``, the ``text`` or ``image`` the project's task type needs, readable local
images, every other key kept as metadata, the same content hash, so importing the same row
later changes nothing), the rows go in through the import's writer (:mod:`labelwise.store.
_bulk`), and the pool's counts (:mod:`labelwise.store._tally`) and the audit row are written
in the same transaction. Nothing of the pool is read but the rows' own ids, through the unique
index on ``(project_id, external_id)``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelwise.store import _audit, _bulk, _tally
from labelwise.store._rows import RowChecker
from labelwise.store.engine import Store
from labelwise.store.errors import ImportFileError, StoreError
from labelwise.store.projects import project_row
from labelwise.store.readers import RawRow
from labelwise.store.schema import Sample

__all__ = ["add_samples"]

#: External ids per ``IN (...)`` lookup (SQLite allows 32,766 bound values per statement).
LOOKUP_CHUNK = 5_000
#: Keys of an import row that ``add_samples`` does not take: it adds unlabeled pool samples.
_REFUSED_KEYS = ("label", "split")


def add_samples(
    store: Store,
    project: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    actor: str = "labelwise",
) -> list[int]:
    """Add unlabeled pool samples to ``project`` in one transaction; return their store ids.

    Parameters
    ----------
    store : Store
    project : str
        An existing project (:func:`labelwise.store.create_project`).
    rows : sequence of mappings
        One per sample, like the rows of an import file: ``id`` (the external id, unique in the
        project), ``text`` and/or ``image`` (a URI, or a path resolved against the working
        directory), any other key kept as metadata. ``label`` and ``split`` are refused:
        labeled, eval and gold samples come in by :func:`labelwise.store.import_samples`.
    actor : str
        Who added them, for the audit trail.

    Returns
    -------
    list of int
        The new samples' ids, in the order of ``rows``.

    Raises
    ------
    StoreError
        For a bad row (naming its position in ``rows``, from 0, and its problem), or external
        ids given twice or already in the project (naming them); nothing is written then.
    NotFoundError
        When the project does not exist.

    Examples
    --------
    >>> add_samples(store, "reviews", [{"id": "r1", "text": "great"}])  # doctest: +SKIP
    [1042]
    """
    if not rows:
        return []
    with store.write() as session:
        project_id, external_ids = _insert(session, project, rows, actor)
        ids = _ids_of(session, project_id, external_ids)
    _bulk.tidy_after_import(store, len(ids))
    return ids


def _insert(
    session: Session, project: str, rows: Sequence[Mapping[str, Any]], actor: str
) -> tuple[int, list[str]]:
    """Check and insert ``rows`` with their tally and audit row; the project's id and the
    rows' external ids."""
    row = project_row(session, project, lock=True)
    checker = RowChecker(Path.cwd() / "<rows>", "jsonl", row.task_type)
    tuples = []
    for position, fields in enumerate(rows):
        refused = [key for key in _REFUSED_KEYS if key in fields]
        if refused:
            raise StoreError(
                f"row {position}: add_samples adds unlabeled pool samples, without "
                f"{' or '.join(map(repr, refused))}; import a file for labeled, eval or gold "
                "samples; nothing was added"
            )
        try:
            checked = checker.check(RawRow(position, dict(fields)), None)
        except ImportFileError as exc:
            raise StoreError(f"row {position}: {exc.problem}; nothing was added") from None
        tuples.append(checked.as_tuple(row.id))
    external_ids = [values[1] for values in tuples]
    twice = sorted(key for key, n in Counter(external_ids).items() if n > 1)
    if twice:
        raise StoreError(f"ids given more than once: {_names(twice)}; nothing was added")
    present = _present(session, row.id, external_ids)
    if present:
        raise StoreError(
            f"ids already in project {project!r}: {_names(present)}; give new ids (nothing was "
            "added)"
        )
    _bulk.insert_sample_rows(session, tuples)
    _tally.add(session, row.id, [(("pool", "unlabeled"), len(tuples))])
    _audit.record(
        session,
        actor=actor,
        action="add_samples",
        object_type="project",
        object_id=row.id,
        project_id=row.id,
        detail={"inserted": len(tuples)},
    )
    return row.id, external_ids


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), LOOKUP_CHUNK):
        yield values[start : start + LOOKUP_CHUNK]


def _present(session: Session, project_id: int, external_ids: Sequence[str]) -> list[str]:
    """Which of ``external_ids`` the project already holds, sorted."""
    found: list[str] = []
    for chunk in _chunks(external_ids):
        found.extend(
            session.scalars(
                select(Sample.external_id).where(
                    Sample.project_id == project_id, Sample.external_id.in_(chunk)
                )
            )
        )
    return sorted(found)


def _ids_of(session: Session, project_id: int, external_ids: Sequence[str]) -> list[int]:
    """Store ids of the project's samples with ``external_ids``, in that order."""
    by_external: dict[str, int] = {}
    for chunk in _chunks(external_ids):
        query = select(Sample.external_id, Sample.id).where(
            Sample.project_id == project_id, Sample.external_id.in_(chunk)
        )
        by_external.update(
            (external, int(sample_id)) for external, sample_id in session.execute(query)
        )
    return [by_external[external] for external in external_ids]


def _names(ids: Sequence[str]) -> str:
    shown = ", ".join(map(repr, ids[:5]))
    return shown + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
