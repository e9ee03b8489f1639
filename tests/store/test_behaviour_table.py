"""One table of queue behaviours, run step by step on SQLite and on PostgreSQL.

Every case sets up a project, then runs steps (lease, answer, answer-and-next) at given times
and checks each outcome: the sample leased, the label that results, or the error. The same
table runs against both databases (the ``store`` fixture), so the one store path cannot behave
differently on either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from labelwise.store import (
    LeaseError,
    Store,
    StoreError,
    TaskLease,
    add_annotator,
    enqueue,
    import_samples,
    lease_next_task,
    list_samples,
    status,
    submit_annotation,
)
from labelwise.store.engine import utcnow
from labelwise.store.queue import submit_and_lease_next
from tests.store.factories import tally_matches_samples, write_csv

LEASE_SECONDS = 60.0


@dataclass(frozen=True)
class Step:
    """``op`` by ``who`` at ``minute``: ``lease`` (expect a sample or None), ``answer`` /
    ``next`` (the held task; expect the label, or (label, next sample) for ``next``), or
    ``answer_of`` (answer ``owner``'s task). ``expect`` may be an error: (type, match)."""

    op: str
    who: str
    expect: Any
    label: str = "pos"
    minute: float = 0.0
    owner: str | None = None


@dataclass(frozen=True)
class Case:
    name: str
    scores: list[float]  # of pool samples s0, s1, ...
    steps: list[Step]
    overlap: int = 1
    gold: int = 0
    budget: int | None = None
    gold_fraction: float = 0.0
    annotations: int | None = None  # standing answers at the end


CASES = [
    Case(
        "highest score first, ties newest first, a held lease comes back",
        [1.0, 3.0, 3.0, 2.0],
        [
            Step("lease", "a0", "s2"),
            Step("lease", "a0", "s2"),
            Step("lease", "a1", "s1"),
            Step("answer", "a0", "pos"),
            Step("lease", "a0", "s3"),
        ],
        annotations=1,
    ),
    Case(
        "overlap 2: two annotators per sample, the label after the second, ties to the first",
        [2.0, 1.0],
        [
            Step("lease", "a0", "s0"),
            Step("lease", "a1", "s0"),
            Step("lease", "a2", "s1"),
            Step("answer", "a0", None, label="neg"),
            Step("answer", "a1", "neg", label="pos"),
            Step("lease", "a0", "s1"),
            Step("lease", "a1", None),  # s1's two slots are a2's and a0's
        ],
        overlap=2,
        annotations=2,
    ),
    Case(
        "an expired lease returns to the queue; its holder's answer is refused",
        [2.0, 1.0],
        [
            Step("lease", "a0", "s0"),
            Step("lease", "a1", "s1", minute=0.5),
            Step("lease", "a2", "s0", minute=1.2),
            Step("answer", "a0", (LeaseError, "not leased to 'a0'"), minute=1.3),
            Step("answer", "a1", (LeaseError, "expired"), minute=1.6),
            Step("answer", "a2", "pos", minute=1.7),
        ],
        annotations=1,
    ),
    Case(
        "refused answers change nothing; the same answer twice is one answer",
        [1.0],
        [
            Step("lease", "a0", "s0"),
            Step("answer", "a0", (StoreError, "not in project"), label="maybe"),
            Step("answer_of", "a1", (LeaseError, "not leased to 'a1'"), owner="a0"),
            Step("answer", "a0", "pos"),
            Step("answer", "a0", "pos"),
            Step("answer", "a0", (LeaseError, "already answered"), label="neg"),
            Step("lease", "a0", None),
        ],
        annotations=1,
    ),
    Case(
        "a budget counts answers and live leases",
        [3.0, 2.0, 1.0],
        [
            Step("lease", "a0", "s0"),
            Step("lease", "a1", "s1"),
            Step("lease", "a2", None),
            Step("answer", "a0", "pos"),
            Step("lease", "a0", None),
            Step("next", "a1", ("neg", None), label="neg"),
        ],
        budget=2,
        annotations=2,
    ),
    Case(
        "gold questions at the gold fraction, never aggregated",
        [2.0, 1.0],
        [
            Step("lease", "a0", "s0"),
            Step("next", "a0", ("pos", "g0")),
            Step("next", "a0", (None, "s1"), label="neg"),
            Step("next", "a0", ("pos", "g1")),
            Step("next", "a0", (None, None)),
        ],
        gold=2,
        gold_fraction=0.5,
        annotations=4,
    ),
    Case(
        "answer and next: the next task by score, then none",
        [1.0, 2.0, 3.0],
        [
            Step("lease", "a0", "s2"),
            Step("next", "a0", ("pos", "s1")),
            Step("next", "a0", ("neg", "s0"), label="neg"),
            Step("next", "a0", ("pos", None)),
            Step("next", "a0", ("pos", None)),
        ],
        annotations=3,
    ),
]


def _setup(store: Store, tmp_path: Path, case: Case) -> dict[int, str]:
    rows = [
        {"id": f"s{i}", "text": f"t{i}", "split": "pool", "label": ""}
        for i in range(len(case.scores))
    ]
    rows += [
        {"id": f"g{i}", "text": f"g{i}", "split": "gold", "label": "pos"} for i in range(case.gold)
    ]
    import_samples(
        store,
        write_csv(tmp_path / "p.csv", rows),
        "p",
        labels=["neg", "pos"],
        settings={"overlap": case.overlap, "budget": case.budget},
    )
    names = {s.id: s.external_id for s in list_samples(store, "p")}
    ids = {name: sid for sid, name in names.items()}
    enqueue(store, "p", [ids[f"s{i}"] for i in range(len(case.scores))], case.scores)
    for k in range(3):
        add_annotator(store, f"a{k}")
    return names


def _run(
    step: Step, store: Store, held: dict[str, TaskLease], names: dict[int, str], gold: float
) -> Any:
    now = utcnow() + timedelta(minutes=step.minute)
    if step.op == "lease":
        lease = lease_next_task(store, "p", step.who, LEASE_SECONDS, gold_fraction=gold, now=now)
        if lease is not None:
            held[step.who] = lease
        return None if lease is None else names[lease.sample_id]
    task = held[step.owner or step.who].task_id
    if step.op in ("answer", "answer_of"):
        return submit_annotation(store, task, step.who, step.label, now=now).label
    record, lease = submit_and_lease_next(
        store,
        task,
        step.who,
        step.label,
        lease_seconds=LEASE_SECONDS,
        gold_fraction=gold,
        now=now,
    )
    if lease is not None:
        held[step.who] = lease
    return record.label, None if lease is None else names[lease.sample_id]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_queue_behaviour(store: Store, tmp_path: Path, case: Case) -> None:
    names = _setup(store, tmp_path, case)
    held: dict[str, TaskLease] = {}
    for number, step in enumerate(case.steps):
        where = f"step {number}: {step}"
        if isinstance(step.expect, tuple) and isinstance(step.expect[0], type):
            error, match = step.expect
            with pytest.raises(error, match=match):
                _run(step, store, held, names, case.gold_fraction)
        else:
            assert _run(step, store, held, names, case.gold_fraction) == step.expect, where
    assert tally_matches_samples(store)
    if case.annotations is not None:
        assert status(store, "p").annotations == case.annotations
