"""The annotator's operations of the controller: the rules hold for every caller.

Budget, stop, gold and lease length are applied by :mod:`labelwise.controller.tasks` (and the
budget by the store's lease itself), so a library caller cannot pass them; on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from labelwise.controller import tasks as annotating
from labelwise.store import (
    Store,
    add_annotator,
    enqueue,
    import_samples,
    init_store,
    lease_next_task,
    list_samples,
    record_round,
    status,
    submit_annotation,
)
from labelwise.store.engine import utcnow
from labelwise.store.leasing import budget_left
from labelwise.store.queue import submit_and_lease_next
from labelwise.store.schema import Annotation, Sample, Task
from tests.store.databases import BACKENDS, fresh_database_url
from tests.store.factories import tally_matches_samples, write_csv


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty store, on SQLite and on PostgreSQL."""
    for url in fresh_database_url(request.param, tmp_path):
        opened = init_store(url)
        yield opened
        opened.close()


def _project(
    store: Store,
    tmp_path: Path,
    n: int,
    *,
    budget: int | None = None,
    gold: int = 0,
    loop: dict[str, float] | None = None,
    annotators: int = 2,
) -> list[int]:
    """Project ``p``: ``n`` pool samples queued by score (s0 first), ``gold`` gold samples."""
    rows = [{"id": f"s{i}", "text": f"t{i}", "split": "pool", "label": ""} for i in range(n)]
    rows += [{"id": f"g{i}", "text": f"g{i}", "split": "gold", "label": "pos"} for i in range(gold)]
    settings: dict[str, object] = {"budget": budget}
    if loop:
        settings["loop"] = loop
    import_samples(
        store, write_csv(tmp_path / "p.csv", rows), "p", labels=["neg", "pos"], settings=settings
    )
    ids = {s.external_id: s.id for s in list_samples(store, "p")}
    pool = [ids[f"s{i}"] for i in range(n)]
    enqueue(store, "p", pool, [float(n - i) for i in range(n)])
    for k in range(annotators):
        add_annotator(store, f"a{k}")
    return pool


def _standing_answers(store: Store) -> int:
    with store.read() as session:
        found = session.scalar(
            select(func.count()).select_from(Annotation).where(Annotation.retracted_at.is_(None))
        )
    return int(found or 0)


@pytest.mark.slow
def test_budget_of_400_holds_for_library_callers_leasing_concurrently(
    store: Store, tmp_path: Path
) -> None:
    _project(store, tmp_path, 460, budget=400, annotators=8)
    errors: list[BaseException] = []

    def work(k: int) -> None:  # the store's own API, no controller, no server
        try:
            lease = lease_next_task(store, "p", f"a{k}")
            while lease is not None:
                _, lease = submit_and_lease_next(store, lease.task_id, f"a{k}", "pos")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert not errors
    assert _standing_answers(store) == 400
    assert status(store, "p").annotations == 400
    assert budget_left(store, "p") == 0
    assert lease_next_task(store, "p", "a0") is None
    assert tally_matches_samples(store)


def test_budget_counts_live_leases_so_answers_never_pass_it(store: Store, tmp_path: Path) -> None:
    _project(store, tmp_path, 5, budget=2, annotators=3)
    first = lease_next_task(store, "p", "a0")
    second = lease_next_task(store, "p", "a1")
    assert first is not None and second is not None
    assert lease_next_task(store, "p", "a2") is None  # two leases out: the budget is held
    assert annotating.next_task(store, "p", "a2").reason == annotating.BUDGET_SPENT
    submit_annotation(store, first.task_id, "a0", "pos")
    submit_annotation(store, second.task_id, "a1", "neg")
    assert _standing_answers(store) == 2
    assert lease_next_task(store, "p", "a0") is None


def test_an_expired_lease_gives_its_budget_back(store: Store, tmp_path: Path) -> None:
    _project(store, tmp_path, 3, budget=1)
    start = utcnow()
    lost = lease_next_task(store, "p", "a0", 10, now=start)
    assert lost is not None
    assert lease_next_task(store, "p", "a1", now=start) is None
    later = lease_next_task(store, "p", "a1", 10, now=start.replace(year=start.year + 1))
    assert later is not None and later.task_id == lost.task_id


def test_next_task_reports_why_none_came(store: Store, tmp_path: Path) -> None:
    pool = _project(store, tmp_path, 1)
    found = annotating.next_task(store, "p", "a0")
    assert found.lease is not None and found.lease.sample_id == pool[0]
    submit_annotation(store, found.lease.task_id, "a0", "pos")
    assert annotating.next_task(store, "p", "a0") == annotating.NextTask(
        None, annotating.EMPTY_QUEUE
    )


def test_a_stopped_project_leases_nothing_but_takes_answers_in_hand(
    store: Store, tmp_path: Path
) -> None:
    _project(store, tmp_path, 3)
    held = annotating.next_task(store, "p", "a0").lease
    assert held is not None
    record_round(
        store, "p", "random", metrics={"stop": True, "stop_reason": "plateau"},
        create_version=False,
    )  # fmt: skip
    refused = annotating.next_task(store, "p", "a1")
    assert refused.lease is None and refused.reason == "the project stopped: plateau"
    done = annotating.answer_and_next(store, held.task_id, "a0", "pos", with_progress=True)
    assert done.annotation.value == "pos"
    assert done.next == annotating.NextTask(None, "the project stopped: plateau")
    assert done.progress is not None and done.progress.my_labels == 1


def test_the_projects_lease_length_and_gold_fraction_apply(store: Store, tmp_path: Path) -> None:
    _project(store, tmp_path, 4, gold=2, loop={"lease_seconds": 45.0, "gold_fraction": 0.5})
    got = []
    found = annotating.next_task(store, "p", "a0")
    for _ in range(4):
        assert found.lease is not None
        left = (found.lease.expires_at - utcnow()).total_seconds()
        assert 40 < left <= 45
        got.append(found.lease.sample_id)
        done = annotating.answer_and_next(store, found.lease.task_id, "a0", "pos")
        assert done.next is not None
        found = done.next
    with store.read() as session:
        splits = [session.get_one(Sample, sid).split for sid in got]
    assert splits == ["pool", "gold", "pool", "gold"]  # floor(n / 2) grows every 2nd task


def test_progress_agrees_with_the_store_status(store: Store, tmp_path: Path) -> None:
    _project(store, tmp_path, 6, budget=5)
    lease = annotating.next_task(store, "p", "a0").lease
    for _ in range(3):
        assert lease is not None
        done = annotating.answer_and_next(store, lease.task_id, "a0", "pos", with_progress=True)
        assert done.next is not None
        lease = done.next.lease
    other = annotating.next_task(store, "p", "a1").lease
    assert other is not None
    shown = annotating.answer_and_next(store, other.task_id, "a1", "neg", with_progress=True)
    counts = status(store, "p")
    assert shown.progress is not None
    assert shown.progress.my_labels == 1
    assert shown.progress.labeled == counts.by_state["labeled"] == 4
    assert shown.progress.budget_left == counts.budget - counts.budget_used == 1
    assert (shown.progress.round, shown.progress.eval_accuracy) == (0, None)
    record_round(store, "p", "entropy", metrics={"eval_accuracy": 0.75}, create_version=False)
    later = annotating.progress(store, "p", "a0")
    assert (later.round, later.eval_accuracy, later.my_labels) == (1, 0.75, 3)


def test_answer_and_next_sent_again_returns_the_same_and_the_held_task(
    store: Store, tmp_path: Path
) -> None:
    _project(store, tmp_path, 3)
    lease = annotating.next_task(store, "p", "a0").lease
    assert lease is not None
    first = annotating.answer_and_next(store, lease.task_id, "a0", "pos")
    again = annotating.answer_and_next(store, lease.task_id, "a0", "pos")
    assert again.annotation == first.annotation
    assert first.next is not None and again.next is not None
    assert again.next.lease == first.next.lease
    with store.read() as session:
        leased = session.scalar(
            select(func.count()).select_from(Task).where(Task.state == "leased")
        )
    assert leased == 1
