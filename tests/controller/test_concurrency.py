"""Annotators label while the trainer runs rounds every few labels: no round fails, no sample is
queued twice, no eval sample is offered, and the queue keeps up with the team."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import func, select

from labelwise.controller import Controller, Retrainer
from labelwise.store import (
    add_annotator,
    import_samples,
    init_store,
    lease_next_task,
    list_rounds,
    submit_annotation,
)
from labelwise.store.schema import Sample, Task
from tests.server.conftest import write_project_csv

N_ANNOTATORS, LABELS_EACH, THINK_SECONDS = 6, 30, 0.1


def test_rounds_never_fail_while_a_team_labels(tmp_path: Path) -> None:
    store = init_store(f"sqlite:///{tmp_path / 's.db'}")
    import_samples(
        store, write_project_csv(tmp_path / "p.csv", 300, 30, 0), "p", labels=["neg", "pos"]
    )
    names = [f"a{i}" for i in range(N_ANNOTATORS)]
    for name in names:
        add_annotator(store, name)
    controller = Controller(store, "p")
    # a batch smaller than the team: only the look-ahead per active annotator keeps it busy
    controller.configure(
        strategy="coreset",
        batch_size=2,
        lookahead=3,
        retrain_every=3,
        features="hashed",
        stop_kappa=None,  # the toy texts are too easy: predictions would stabilise at once
    )
    trainer = Retrainer(controller, poll_seconds=0.05, keep_seconds=0.02).start()
    offered: set[int] = set()
    misses = [0] * N_ANNOTATORS
    calls = [0] * N_ANNOTATORS
    errors: list[BaseException] = []

    def annotate(k: int) -> None:
        try:
            done = 0
            deadline = time.monotonic() + 120
            while done < LABELS_EACH and time.monotonic() < deadline:
                calls[k] += 1
                lease = lease_next_task(store, "p", names[k])
                if lease is None:
                    misses[k] += 1
                    time.sleep(0.02)
                    continue
                offered.add(lease.sample_id)
                label = "pos" if int(lease.external_id[1:]) % 2 else "neg"
                time.sleep(THINK_SECONDS)  # reading the text
                submit_annotation(store, lease.task_id, names[k], label)
                done += 1
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=annotate, args=(k,)) for k in range(N_ANNOTATORS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    trainer.stop()
    assert not errors, errors
    assert trainer.rounds_failed == 0, trainer.last_error
    rounds = list_rounds(store, "p")
    during = [r for r in rounds if 0 < r.metrics["n_labeled"] < N_ANNOTATORS * LABELS_EACH]
    assert len(during) >= 2, "rounds should have run while the team labeled"
    with store.read() as session:
        offered_splits = set(
            session.scalars(select(Sample.split).where(Sample.id.in_(sorted(offered))))
        )
        per_sample = session.execute(
            select(Task.sample_id, func.count()).group_by(Task.sample_id)
        ).all()
        labeled = session.scalar(
            select(func.count())
            .select_from(Sample)
            .where(Sample.state == "labeled", Sample.split == "pool")
        )
    assert offered_splits == {"pool"}
    assert max(n for _, n in per_sample) == 1, "a sample was queued twice"
    assert labeled == N_ANNOTATORS * LABELS_EACH
    assert sum(misses) / sum(calls) < 0.2, f"{sum(misses)} of {sum(calls)} asks found no task"
    store.close()
