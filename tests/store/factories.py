"""Small real inputs for store tests."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import func, select

from labelwise.store import Store, add_annotator, import_samples, list_samples
from labelwise.store.schema import Annotation, Audit, Label, Sample, SampleTally


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def pool_project(
    store: Store, tmp_path: Path, n: int = 6, overlap: int = 1, annotators: int = 3
) -> dict[str, int]:
    """A text project ``p`` of ``n`` unlabeled pool samples ``s0..``, one eval sample ``ev``.

    Returns the store ids by external id; annotators ``a0..`` are registered.
    """
    rows = [{"id": f"s{i}", "text": f"text {i}", "split": "pool"} for i in range(n)]
    rows.append({"id": "ev", "text": "held out", "split": "eval"})
    import_samples(
        store,
        write_csv(tmp_path / "pool.csv", rows),
        "p",
        labels=["neg", "pos"],
        settings={"overlap": overlap},
    )
    for i in range(annotators):
        add_annotator(store, f"a{i}")
    return {s.external_id: s.id for s in list_samples(store, "p")}


def snapshot(store: Store) -> dict[str, object]:
    """Everything a failed call must leave as it was."""
    with store.read() as session:
        return {
            "samples": session.execute(
                select(Sample.external_id, Sample.state, Sample.content_hash).order_by(Sample.id)
            ).all(),
            "labels": session.execute(select(Label.sample_id, Label.value)).all(),
            "annotations": session.scalar(select(func.count()).select_from(Annotation)),
            "audit": session.scalar(select(func.count()).select_from(Audit)),
            "tally": session.execute(
                select(
                    SampleTally.project_id, SampleTally.split, SampleTally.state, SampleTally.n
                ).order_by(SampleTally.project_id, SampleTally.split, SampleTally.state)
            ).all(),
        }


def tally_matches_samples(store: Store) -> bool:
    """The kept counts equal a count of the sample table."""
    with store.read() as session:
        counted = {
            (p, sp, st): n
            for p, sp, st, n in session.execute(
                select(Sample.project_id, Sample.split, Sample.state, func.count()).group_by(
                    Sample.project_id, Sample.split, Sample.state
                )
            )
        }
        kept = {
            (p, sp, st): n
            for p, sp, st, n in session.execute(
                select(SampleTally.project_id, SampleTally.split, SampleTally.state, SampleTally.n)
            )
            if n
        }
        return counted == kept
