"""Gold answers checked by what they say, not by their text: ``gold_credit`` for each answer
kind, and a spans project's gold documents through the store (``gold_answers``, the review
queue) on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from labelwise.spans import Span
from labelwise.store import (
    AnswerSpec,
    Store,
    StoreError,
    add_annotator,
    create_project,
    enqueue,
    gold_credit,
    gold_score,
    import_samples,
    lease_next_task,
    submit_annotation,
)
from labelwise.store.annotator_stats import gold_answers
from labelwise.store.answers import GOLD_SPAN_F1, check_answer_settings
from labelwise.store.review_queue import review_queue
from labelwise.store.schema import Sample

LABELS = ["PER", "LOC"]
#: A gold document with six entities: three people, three places.
TEXT = "Ada met Bob and Cy in Rome, Oslo and Lima."
NAMES = ["Ada", "Bob", "Cy", "Rome", "Oslo", "Lima"]


def _spans() -> list[Span]:
    return [
        Span(TEXT.index(n), TEXT.index(n) + len(n), "PER" if k < 3 else "LOC")
        for k, n in enumerate(NAMES)
    ]


def _json(spans: list[Span], indent: int | None = None) -> str:
    return json.dumps([[s.start, s.end, s.label] for s in spans], indent=indent)


# --- gold_credit, kind by kind ------------------------------------------------------------


def test_a_label_passes_only_when_equal() -> None:
    assert gold_credit("label", "pos", "pos")
    assert not gold_credit("label", "neg", "pos")
    assert not gold_credit("label", "Pos", "pos")


def test_a_label_set_passes_in_any_order_and_spacing() -> None:
    assert gold_credit("labels", '["b", "a"]', '["a","b"]')
    assert gold_credit("labels", "[]", " [ ] ")
    assert not gold_credit("labels", '["a"]', '["a","b"]')
    assert not gold_credit("labels", '["a","b","c"]', '["a","b"]')
    assert not gold_credit("labels", "not json", '["a"]')


def test_a_number_passes_within_half_a_step_or_as_an_equal_float() -> None:
    assert gold_credit("number", "3.0", "3")
    assert gold_credit("number", "1e3", "1000.0")
    assert not gold_credit("number", "3.0000001", "3")
    stepped = AnswerSpec(kind="number", step=0.5)
    assert gold_credit(stepped, "3.5", "3.5000000000001")
    assert gold_credit(stepped, "0.30000000000000004", "0.3")
    assert not gold_credit(stepped, "3.0", "3.5")
    assert not gold_credit(stepped, "three", "3.0")


def test_spans_in_another_order_and_serialisation_pass_in_full() -> None:
    spans = _spans()
    reordered = list(reversed(spans))
    as_objects = json.dumps([{"label": s.label, "end": s.end, "start": s.start} for s in spans])
    for answer in (_json(reordered), _json(spans, indent=2), as_objects):
        assert answer != _json(spans)
        assert gold_score("spans", answer, _json(spans)) == 1.0
        assert gold_credit("spans", answer, _json(spans))


def test_a_gold_document_passes_from_the_span_f1_threshold() -> None:
    spans = _spans()
    five = _json(spans[1:])  # 5 of 6 found, nothing extra: F1 10/11
    assert gold_score("spans", five, _json(spans)) == pytest.approx(10 / 11)
    assert gold_credit("spans", five, _json(spans))
    three = _json(spans[:3])  # half of them: F1 2/3
    assert gold_score("spans", three, _json(spans)) == pytest.approx(2 / 3)
    assert GOLD_SPAN_F1 > 2 / 3 and not gold_credit("spans", three, _json(spans))
    relabeled = _json([Span(s.start, s.end, "LOC") for s in spans])  # right places, 3 wrong labels
    assert not gold_credit("spans", relabeled, _json(spans))
    strict = AnswerSpec(kind="spans", labels=tuple(LABELS), gold_f1=1.0)
    assert not gold_credit(strict, five, _json(spans))
    assert gold_credit(AnswerSpec(kind="spans", gold_f1=0.6), three, _json(spans))


def test_empty_gold_spans_pass_only_an_empty_answer() -> None:
    assert gold_credit("spans", "[ ]", "[]")
    assert not gold_credit("spans", _json(_spans()[:1]), "[]")
    assert not gold_credit("spans", "[[0, 3]]", _json(_spans()))


def test_a_spans_project_sets_its_gold_f1_and_a_bad_one_is_refused() -> None:
    checked = check_answer_settings("spans", LABELS, {"answer": {"gold_f1": 0.9}})
    assert checked == {"aggregation": "majority", "gold_f1": 0.9}
    assert AnswerSpec.of("spans", LABELS, {"answer": checked}).gold_f1 == 0.9
    assert AnswerSpec.of("spans", LABELS, None).gold_f1 == GOLD_SPAN_F1
    for bad in (0, 1.5, "high", True):
        with pytest.raises(StoreError, match="gold_f1"):
            check_answer_settings("spans", LABELS, {"answer": {"gold_f1": bad}})


# --- a spans project's gold documents in the store ----------------------------------------


def spans_gold_project(
    store: Store, tmp_path: Path, settings: dict[str, object] | None = None
) -> None:
    """Spans project ``p``: gold documents ``g0`` (imported, stored canonically) and ``g1``
    (its gold label written in another order and spacing, as an older store or a hand edit
    leaves it), four queued pool sentences; annotators ``good`` and ``poor``."""
    rows = [
        {"id": f"g{i}", "text": TEXT, "split": "gold", "label": _json(_spans())} for i in (0, 1)
    ]
    rows += [{"id": f"s{i}", "text": f"Sentence {i}."} for i in range(4)]
    path = tmp_path / "gold.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    create_project(store, "p", LABELS, answer_kind="spans", settings=settings)
    import_samples(store, path, "p")
    with store.write() as session:
        g1 = session.scalars(select(Sample).where(Sample.external_id == "g1")).one()
        g1.gold_label = _json(list(reversed(_spans())), indent=1)
        pool = session.scalars(select(Sample.id).where(Sample.split == "pool")).all()
    enqueue(store, "p", list(pool))
    for who in ("good", "poor"):
        add_annotator(store, who)


def answer_gold(store: Store, annotator: str, answer: str) -> str:
    """Answer the annotator's next gold question (every second task is one; a pool sentence
    before it is answered with no entity); its external id."""
    lease = lease_next_task(store, "p", annotator, gold_fraction=0.5)
    assert lease is not None
    if lease.external_id.startswith("s"):
        submit_annotation(store, lease.task_id, annotator, "[]")
        lease = lease_next_task(store, "p", annotator, gold_fraction=0.5)
        assert lease is not None
    assert lease.external_id.startswith("g")
    submit_annotation(store, lease.task_id, annotator, answer)
    return lease.external_id


def answer_both(store: Store) -> None:
    """``good`` misses one entity of ``g0`` and answers ``g1`` in full, in another order than
    its gold label's; ``poor`` finds two of six entities on each."""
    spans = _spans()
    assert answer_gold(store, "good", _json(spans[1:])) == "g0"
    assert answer_gold(store, "good", _json(list(reversed(spans[3:] + spans[:3])))) == "g1"
    for _ in range(2):
        answer_gold(store, "poor", _json([spans[0], spans[5]]))


def test_gold_documents_pass_by_span_f1_and_the_misses_go_to_review(
    store: Store, tmp_path: Path
) -> None:
    spans_gold_project(store, tmp_path)
    answer_both(store)
    found = gold_answers(store, "p")
    assert len(found) == 4
    assert len({a.gold_label for a in found}) == 2  # the same spans, written two ways
    assert [a.passed for a in found if a.annotator == "good"] == [True, True]
    assert [a.passed for a in found if a.annotator == "poor"] == [False, False]
    items = review_queue(store, "p", kinds=["gold_failed"])
    assert len(items) == 2
    for item in items:
        assert [(r.kind, r.annotator) for r in item.reasons] == [("gold_failed", "poor")]


def test_a_stricter_project_gold_f1_fails_the_missed_entity(store: Store, tmp_path: Path) -> None:
    spans_gold_project(store, tmp_path, {"answer": {"gold_f1": 1.0}})
    answer_both(store)
    good = [a for a in gold_answers(store, "p") if a.annotator == "good"]
    assert sorted(a.passed for a in good) == [False, True]
    failed = review_queue(store, "p", kinds=["gold_failed"])
    assert sorted(r.annotator for i in failed for r in i.reasons) == ["good", "poor", "poor"]


def test_a_reviewer_checks_a_gold_document_in_any_serialisation(
    store: Store, tmp_path: Path
) -> None:
    from labelwise.store.answers import AnswerError, encode_answer
    from labelwise.store.review_queue import review_gold

    spans_gold_project(store, tmp_path)
    answer_both(store)
    with store.read() as session:
        g0 = session.scalars(select(Sample).where(Sample.external_id == "g0")).one()
        g0_id, stored = g0.id, g0.gold_label
    # the same six spans, reversed and indented: confirmed, kept canonical
    assert not review_gold(store, "p", g0_id, _json(list(reversed(_spans())), 2), "rita")
    # five of them: the gold document is corrected to what the reviewer says
    assert review_gold(store, "p", g0_id, _json(_spans()[1:]), "rita")
    with store.read() as session:
        now = session.scalar(select(Sample.gold_label).where(Sample.id == g0_id))
    spec = AnswerSpec.of("spans", LABELS, None)
    assert stored == encode_answer(spec, _json(_spans()))
    assert now == encode_answer(spec, _json(_spans()[1:]))
    with pytest.raises(AnswerError, match="PLACE"):
        review_gold(store, "p", g0_id, json.dumps([[0, 3, "PLACE"]]), "rita")
    with pytest.raises(AnswerError):
        review_gold(store, "p", g0_id, json.dumps([[0, len(TEXT) + 5, "PER"]]), "rita")
    with store.read() as session:
        assert session.scalar(select(Sample.gold_label).where(Sample.id == g0_id)) == now
