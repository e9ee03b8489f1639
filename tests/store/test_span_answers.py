"""NER span answers: checked against the text, stored, aggregated by majority, exported."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from labelwise.spans import Span
from labelwise.store import (
    AnswerError,
    AnswerSpec,
    Store,
    StoreError,
    add_annotator,
    add_samples,
    create_project,
    enqueue,
    export_labeled,
    get_project,
    lease_next_task,
    submit_annotation,
)
from labelwise.store.answer_aggregation import aggregate_answers
from labelwise.store.answers import (
    decode_answer,
    decode_spans,
    encode_answer,
    encode_spans,
)
from labelwise.store.schema import Annotation, Label

LABELS = ["PER", "ORG", "LOC"]
TEXTS = [
    "Ada Lovelace met Charles Babbage in London.",
    "\U0001f600 Grace Hopper joined the Navy.",  # an emoji: 1 code point, 2 UTF-16 units
    "Nothing to see here.",
]


def _project(store: Store, overlap: int = 1) -> list[int]:
    create_project(store, "p", LABELS, settings={"overlap": overlap}, answer_kind="spans")
    ids = add_samples(store, "p", [{"id": f"s{i}", "text": t} for i, t in enumerate(TEXTS)])
    for i in range(3):
        add_annotator(store, f"a{i}")
    enqueue(store, "p", ids, scores=[3.0, 2.0, 1.0])  # leased in text order
    return ids


def _answer(store: Store, annotator: str, value: object) -> tuple[int, str | None]:
    lease = lease_next_task(store, "p", annotator)
    assert lease is not None
    record = submit_annotation(store, lease.task_id, annotator, value)  # type: ignore[arg-type]
    return record.sample_id, record.label


def test_a_spans_project_stores_sorted_canonical_spans(store: Store) -> None:
    ids = _project(store)
    assert get_project(store, "p").answer_kind == "spans"
    # answered unsorted, as JSON text: stored sorted and compact, label set by majority of one
    sid, label = _answer(store, "a0", '[[25, 32, "PER"], [0, 12, "PER"], [36, 42, "LOC"]]')
    assert sid == ids[0]
    assert label == '[[0,12,"PER"],[25,32,"PER"],[36,42,"LOC"]]'
    with store.read() as session:
        stored = session.query(Annotation).one().value
    assert decode_spans(stored) == [Span(0, 12, "PER"), Span(25, 32, "PER"), Span(36, 42, "LOC")]
    assert [TEXTS[0][s.start : s.end] for s in decode_spans(stored)] == [
        "Ada Lovelace",
        "Babbage",
        "London",
    ]


def test_a_long_answer_fits_the_value_columns(store: Store) -> None:
    """200 spans (over 2,000 characters of JSON): the Text columns of migration 0006 hold it."""
    create_project(store, "p", LABELS, answer_kind="spans")
    text = " ".join(["Paris"] * 200)
    enqueue(store, "p", add_samples(store, "p", [{"id": "long", "text": text}]))
    add_annotator(store, "a0")
    spans = [[6 * i, 6 * i + 5, "LOC"] for i in range(200)]
    _, label = _answer(store, "a0", spans)
    assert label is not None and len(label) > 2000
    assert json.loads(label) == spans


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ('[[0, 99, "PER"]]', "outside the text of 43 characters"),
        ('[[5, 5, "PER"]]', "empty or outside"),
        ('[[-1, 3, "PER"]]', "empty or outside"),
        ('[[0, 12, "PERSON"]]', "label 'PERSON', not in project 'p''s label space"),
        ('[[0, 12, "PER"], [4, 20, "ORG"]]', "spans overlap: 0:12"),
        ("[[0, 12]]", r"span 0 must be \[start, end, label\]"),
        ('[[0.5, 12, "PER"]]', "start must be an integer offset"),
        ('[[0, true, "PER"]]', "end must be an integer offset"),
        ('{"start": 0}', "must be a list of"),
        ("not json", "must be a JSON list"),
    ],
)
def test_bad_span_answers_are_refused_naming_the_problem(
    store: Store, value: str, problem: str
) -> None:
    _project(store)
    lease = lease_next_task(store, "p", "a0")
    assert lease is not None
    with pytest.raises(AnswerError, match=problem):
        submit_annotation(store, lease.task_id, "a0", value)
    with store.read() as session:
        assert session.query(Annotation).count() == 0


def test_spans_projects_need_entity_labels_and_no_number_settings(store: Store) -> None:
    with pytest.raises(StoreError, match=r"at least 2 labels|needs entity labels"):
        create_project(store, "p", [], answer_kind="spans")
    with pytest.raises(StoreError, match="takes no answer settings"):
        create_project(store, "q", LABELS, settings={"answer": {"min": 0}}, answer_kind="spans")


def test_overlapping_annotators_are_aggregated_by_span_majority(store: Store) -> None:
    ids = _project(store, overlap=3)
    answers = {
        "a0": [[0, 12, "PER"], [36, 42, "LOC"]],
        "a1": [[0, 12, "PER"], [36, 42, "ORG"]],
        "a2": [[0, 3, "PER"], [36, 42, "LOC"]],
    }
    label = None
    for who, spans in answers.items():
        sid, label = _answer(store, who, spans)
        assert sid == ids[0]
    assert label == '[[0,12,"PER"],[36,42,"LOC"]]'
    with store.read() as session:
        row = session.query(Label).one()
    assert row.method == "span_majority" and row.n_annotations == 3
    # pairs: (a0, a1) 1 of 2 match, (a0, a2) 1 of 2, (a1, a2) 0 of 2 -> F1 0.5, 0.5, 0
    assert row.agreement == pytest.approx(1 / 3)


def test_export_writes_the_spans_as_jsonl_span_records(store: Store, tmp_path: Path) -> None:
    _project(store)
    _answer(store, "a0", [[0, 12, "PER"], [36, 42, "LOC"]])
    _answer(store, "a0", [[2, 14, "PER"], [26, 30, "ORG"]])
    _answer(store, "a0", [])
    out = tmp_path / "spans.jsonl"
    assert export_labeled(store, "p", out) == 3
    rows = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert rows["s0"]["label"] == [
        {"start": 0, "end": 12, "label": "PER"},
        {"start": 36, "end": 42, "label": "LOC"},
    ]
    assert [rows["s1"]["text"][s["start"] : s["end"]] for s in rows["s1"]["label"]] == [
        "Grace Hopper",
        "Navy",
    ]
    assert rows["s2"]["label"] == []
    assert rows["s0"]["annotations"][0]["label"] == rows["s0"]["label"]


def test_the_check_constraint_admits_spans_and_nothing_new(store: Store) -> None:
    _project(store)
    with pytest.raises(IntegrityError), store.write() as session:
        session.execute(text("UPDATE project SET answer_kind = 'boxes'"))


def test_migration_0006_widens_values_and_refuses_a_lossy_downgrade(store_url: str) -> None:
    from alembic import command

    from labelwise.store.engine import _alembic_config, _make_engine

    engine, _ = _make_engine(store_url)
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0005")
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text("UPDATE project SET answer_kind = 'spans'"))
        connection.execute(
            text(
                "INSERT INTO project (name, task_type, label_space, settings, created_at,"
                " answer_kind) VALUES ('n', 'text_classification', '[\"a\", \"b\"]', '{}',"
                " :now, 'spans')"
            ),
            {"now": "2026-01-02 03:04:05"},
        )
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0006")
        connection.execute(
            text(
                "INSERT INTO project (name, task_type, label_space, settings, created_at,"
                " answer_kind) VALUES ('n', 'text_classification', '[\"a\", \"b\"]', '{}',"
                " :now, 'spans')"
            ),
            {"now": "2026-01-02 03:04:05"},
        )
    with (
        pytest.raises(RuntimeError, match="delete the spans projects first"),
        engine.begin() as connection,
    ):
        command.downgrade(_alembic_config(connection), "0005")
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM project"))
        command.downgrade(_alembic_config(connection), "0005")
        command.upgrade(_alembic_config(connection), "0006")
    engine.dispose()


# --- the pure parts, against slow references on random inputs ------------------------------


def _random_spans(rng: np.random.Generator, n_chars: int) -> list[Span]:
    """Non-overlapping random spans over ``n_chars`` characters."""
    cuts = sorted(rng.choice(n_chars + 1, size=2 * int(rng.integers(0, 5)), replace=False))
    return [
        Span(int(a), int(b), str(rng.choice(LABELS)))
        for a, b in zip(cuts[::2], cuts[1::2], strict=True)
    ]


def test_span_aggregation_matches_a_vote_count() -> None:
    rng = np.random.default_rng(0)
    spec = AnswerSpec.of("spans", LABELS, None)
    for _ in range(200):
        pool = _random_spans(rng, 30) + _random_spans(rng, 30)
        k = int(rng.integers(1, 6))
        answers = []
        for _ in range(k):  # each annotator picks a non-overlapping subset of the pool
            chosen: list[Span] = []
            for span in pool:
                if rng.random() < 0.6 and not any(span.overlaps(c) for c in chosen):
                    chosen.append(span)
            answers.append(encode_spans([[s.start, s.end, s.label] for s in chosen], LABELS))
        value, agreement, method = aggregate_answers(spec, answers)
        votes = Counter(s for a in answers for s in decode_spans(a))
        expected = sorted(s for s, v in votes.items() if v > k / 2)  # a strict majority
        assert decode_spans(value) == expected and method == "span_majority"
        assert agreement is not None and 0.0 <= agreement <= 1.0


def test_encoding_accepts_the_forms_and_agrees_with_a_reference_check() -> None:
    rng = np.random.default_rng(1)
    spec = AnswerSpec.of("spans", LABELS, None)
    text = "x" * 40
    for _ in range(300):
        n = int(rng.integers(0, 4))
        raw = [
            [int(rng.integers(-2, 42)), int(rng.integers(-2, 42)), str(rng.choice(LABELS))]
            for _ in range(n)
        ]
        ordered = sorted(raw)
        valid = all(0 <= a < b <= len(text) for a, b, _ in raw) and all(
            x[1] <= y[0] for x, y in itertools.pairwise(ordered)
        )
        if valid:
            stored = encode_answer(spec, raw, "p", text)
            assert json.loads(stored) == ordered
            as_dicts = [{"start": a, "end": b, "label": c} for a, b, c in raw]
            assert encode_answer(spec, as_dicts, "p", text) == stored
            assert decode_answer(spec, stored) == [
                {"start": a, "end": b, "label": c} for a, b, c in ordered
            ]
        else:
            with pytest.raises(AnswerError):
                encode_answer(spec, raw, "p", text)
