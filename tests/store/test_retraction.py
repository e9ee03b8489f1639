"""Undo retracts an answer: the row stays, marked; labels, agreement, counts, exports skip it."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select, text
from typer.testing import CliRunner

import labelwise.cli.store_cmd  # noqa: F401  (adds `init` to the app)
from labelwise.cli import app
from labelwise.store import (
    NotFoundError,
    Store,
    add_annotator,
    enqueue,
    export_labeled,
    lease_next_task,
    open_store,
    submit_annotation,
)
from labelwise.store.annotator_stats import annotation_count, gold_answers, pool_votes
from labelwise.store.corrections import undo_last
from labelwise.store.engine import _alembic_config, _make_engine, head_revision
from labelwise.store.schema import Annotation, Annotator, Label, Sample, Task
from tests.store.factories import pool_project, tally_matches_samples


def _answer(store: Store, annotator: str, value: str) -> int:
    lease = lease_next_task(store, "p", annotator)
    assert lease is not None
    return submit_annotation(store, lease.task_id, annotator, value).id


def _two_answers_on_s0(store: Store, tmp_path: Path) -> dict[str, int]:
    """Overlap 2: a0 says pos, a1 says neg on s0, which is then labeled."""
    ids = pool_project(store, tmp_path, n=3, overlap=2)
    enqueue(store, "p", [ids["s0"]], [1.0])
    _answer(store, "a0", "pos")
    _answer(store, "a1", "neg")
    return ids


def test_undo_keeps_the_annotation_row_marked_retracted(store: Store, tmp_path: Path) -> None:
    ids = _two_answers_on_s0(store, tmp_path)
    undo_last(store, "p", "a1")
    with store.read() as session:
        rows = session.execute(
            select(Annotation.value, Annotation.retracted_at, Annotator.name)
            .outerjoin(Annotator, Annotator.id == Annotation.retracted_by)
            .where(Annotation.sample_id == ids["s0"])
            .order_by(Annotation.id)
        ).all()
    assert [(value, name) for value, _, name in rows] == [("pos", None), ("neg", "a1")]
    assert rows[0][1] is None and isinstance(rows[1][1], datetime)


def test_a_retracted_answer_no_longer_counts(store: Store, tmp_path: Path) -> None:
    ids = _two_answers_on_s0(store, tmp_path)
    undo_last(store, "p", "a1")
    with store.read() as session:
        assert session.get(Label, ids["s0"]) is None
        assert session.get_one(Sample, ids["s0"]).state == "in_progress"
    assert [(v.annotator, v.value) for v in pool_votes(store, "p")] == [("a0", "pos")]
    assert annotation_count(store, "p", "a1") == 0
    assert annotation_count(store, "p", "a0") == 1
    assert tally_matches_samples(store)


def test_the_task_returns_and_a_new_answer_makes_the_label(store: Store, tmp_path: Path) -> None:
    ids = _two_answers_on_s0(store, tmp_path)
    back = undo_last(store, "p", "a1")
    assert lease_next_task(store, "p", "a1") == back  # the same task, held by a1 again
    record = submit_annotation(store, back.task_id, "a1", "pos")
    assert record.label == "pos"
    with store.read() as session:
        label = session.get_one(Label, ids["s0"])
        assert (label.value, label.agreement, label.n_annotations) == ("pos", 1.0, 2)
        rows = session.scalars(select(Annotation).where(Annotation.task_id == back.task_id)).all()
    assert sorted(row.retracted_at is None for row in rows) == [False, True]
    assert submit_annotation(store, back.task_id, "a1", "pos").id == record.id  # idempotent


def test_undo_again_takes_back_the_answer_before(store: Store, tmp_path: Path) -> None:
    ids = pool_project(store, tmp_path, n=3)
    enqueue(store, "p", [ids["s0"], ids["s1"], ids["s2"]], [3.0, 2.0, 1.0])
    answered = [_answer(store, "a1", value) for value in ("pos", "neg", "pos")]
    backs = [undo_last(store, "p", "a1") for _ in answered]
    assert [b.external_id for b in backs] == ["s2", "s1", "s0"]  # newest first
    with store.read() as session:
        rows = session.scalars(select(Annotation).where(Annotation.id.in_(answered))).all()
        assert all(row.retracted_at is not None for row in rows)
        leased = session.scalars(select(Task.sample_id).where(Task.state == "leased")).all()
    assert leased == [ids["s0"]]  # only the last one taken back stays the annotator's
    with pytest.raises(NotFoundError, match="no answer left to undo"):
        undo_last(store, "p", "a1")
    assert tally_matches_samples(store)


def test_gold_accuracy_ignores_a_retracted_gold_answer(store: Store, tmp_path: Path) -> None:
    ids = pool_project(store, tmp_path, n=2)
    with store.write() as session:
        sample = session.scalars(select(Sample).where(Sample.external_id == "s1")).one()
        sample.split, sample.gold_label = "gold", "pos"
    enqueue(store, "p", [ids["s0"]])
    _answer(store, "a0", "pos")
    lease = lease_next_task(store, "p", "a0", gold_fraction=0.5)  # every second task is gold
    assert lease is not None and lease.external_id == "s1"
    submit_annotation(store, lease.task_id, "a0", "neg")
    assert [a.value for a in gold_answers(store, "p")] == ["neg"]
    undo_last(store, "p", "a0")
    assert gold_answers(store, "p") == []


def test_export_leaves_retracted_answers_out_unless_asked(store: Store, tmp_path: Path) -> None:
    _two_answers_on_s0(store, tmp_path)
    undo_last(store, "p", "a1")
    submit_annotation(store, lease_next_task(store, "p", "a1").task_id, "a1", "pos")  # type: ignore[union-attr]
    plain, full = tmp_path / "plain.jsonl", tmp_path / "full.jsonl"
    export_labeled(store, "p", plain)
    export_labeled(store, "p", full, include_retracted=True)
    (row,) = [json.loads(line) for line in plain.read_text().splitlines()]
    assert [(a["annotator"], a["label"]) for a in row["annotations"]] == [
        ("a0", "pos"),
        ("a1", "pos"),
    ]
    (row,) = [json.loads(line) for line in full.read_text().splitlines()]
    history = [(a["annotator"], a["label"], a["retracted_by"]) for a in row["annotations"]]
    assert history == [("a0", "pos", None), ("a1", "neg", "a1"), ("a1", "pos", None)]
    assert row["n_annotations"] == 2


def test_export_with_retracted_answers_writes_parquet(store: Store, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    _two_answers_on_s0(store, tmp_path)
    undo_last(store, "p", "a1")
    _answer(store, "a1", "neg")
    out = tmp_path / "full.parquet"
    assert export_labeled(store, "p", out, "parquet", include_retracted=True) == 1
    (annotations,) = pq.read_table(out).column("annotations").to_pylist()
    assert [a["retracted_by"] for a in annotations] == [None, "a1", None]


def test_labelwise_init_upgrades_a_store_made_at_the_first_schema(store_url: str) -> None:
    engine, _ = _make_engine(store_url)
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0001")
    now = "2026-01-02 03:04:05.000000"
    with engine.begin() as connection:
        for statement in (
            "INSERT INTO project (name, task_type, label_space, settings, created_at)"
            " VALUES ('old', 'text_classification', '[\"neg\", \"pos\"]', '{}', :now)",
            "INSERT INTO annotator (name, role, created_at) VALUES ('a0', 'annotator', :now)",
            "INSERT INTO sample (project_id, external_id, text, split, state, content_hash)"
            " SELECT id, 's0', 'text 0', 'pool', 'labeled', 'h' FROM project",
            "INSERT INTO task (project_id, sample_id, priority, state, annotator_id, created_at)"
            " SELECT project_id, sample.id, 0.5, 'done', annotator.id, :now"
            " FROM sample, annotator",
            "INSERT INTO annotation (project_id, sample_id, task_id, annotator_id, value,"
            " created_at) SELECT project_id, sample_id, id, annotator_id, 'pos', :now FROM task",
        ):
            connection.execute(text(statement), {"now": now})
    engine.dispose()
    result = CliRunner().invoke(app, ["init", "--store", store_url])
    assert result.exit_code == 0, result.output
    upgraded = open_store(store_url)
    try:
        with upgraded.read() as session:
            (row,) = session.scalars(select(Annotation)).all()
        assert (row.value, row.task_id, row.retracted_at, row.retracted_by) == (
            "pos",
            1,
            None,
            None,
        )
        with upgraded.engine.connect() as connection:
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert version == head_revision()
        add_annotator(upgraded, "a1")
        assert annotation_count(upgraded, "old", "a0") == 1
    finally:
        upgraded.close()


def test_the_export_command_shows_retracted_answers_only_when_asked(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    _two_answers_on_s0(store, tmp_path)
    undo_last(store, "p", "a1")
    submit_annotation(store, lease_next_task(store, "p", "a1").task_id, "a1", "pos")  # type: ignore[union-attr]
    rows = {}
    for flag in ([], ["--include-retracted"]):
        out = tmp_path / f"export{len(flag)}.jsonl"
        args = ["export", "--out", str(out), "--project", "p", "--store", store_url, *flag]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        (rows[len(flag)],) = [json.loads(line) for line in out.read_text().splitlines()]
    assert [a["label"] for a in rows[0]["annotations"]] == ["pos", "pos"]
    assert [a["retracted_by"] for a in rows[1]["annotations"]] == [None, "a1", None]
