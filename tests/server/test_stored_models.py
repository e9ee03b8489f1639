"""The annotation API suggests with the model a trainer kept in the store, and never fails for it.

The server here runs no round (another :class:`Controller`, on a store object of its own, is the
trainer), as an API process beside ``labelwise worker`` does: on PostgreSQL with
``trainer="worker"``, on SQLite as a server restarted after the rounds. A stored model it cannot
read leaves the suggestion empty; the answer is still taken and the next task handed out.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from labelwise.controller import Controller
from labelwise.server import ServerSettings, create_app
from labelwise.store import (
    Store,
    add_annotator,
    import_samples,
    init_store,
    lease_next_task,
    list_samples,
    open_store,
    submit_annotation,
)
from labelwise.store.members import add_member
from labelwise.store.schema import RoundModel
from tests.server.conftest import bearer, write_project_csv
from tests.store.databases import BACKENDS, fresh_database_url

ANNOTATOR = bearer("ann-token")


@pytest.fixture(params=BACKENDS)
def trained(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Controller]:
    """Project ``p`` after a trainer's cold round and a fitted one (round 2)."""
    for url in fresh_database_url(request.param, tmp_path):
        store = init_store(url)
        import_samples(
            store, write_project_csv(tmp_path / "p.csv", 60, 20, 0), "p", labels=["neg", "pos"]
        )
        add_annotator(store, "trainer-side")
        add_annotator(store, "ann", "annotator", "ann-token")
        add_member(store, "p", "ann")
        trainer = Controller(store, "p")
        trainer.configure(batch_size=10, stop_kappa=None, features="hashed")
        trainer.run_round()
        for _ in range(8):
            lease = lease_next_task(store, "p", "trainer-side")
            assert lease is not None
            label = "pos" if int(lease.external_id[1:]) % 2 else "neg"
            submit_annotation(store, lease.task_id, "trainer-side", label)
        assert trainer.run_round().model_version is not None
        yield trainer
        store.close()


@pytest.fixture
def client(trained: Controller) -> Iterator[TestClient]:
    """The API of a process that trains nothing, over its own store object."""
    url = trained.store.url
    store = open_store(url)
    postgres = store.dialect == "postgresql"
    settings = ServerSettings(
        store=url,
        background=False,
        token_cache_seconds=0,
        trainer="worker" if postgres else "server",
    )
    with TestClient(create_app(settings, store)) as opened:
        yield opened
    store.close()


def _sample(store: Store, external_id: str) -> object:
    return next(s for s in list_samples(store, "p") if s.external_id == external_id)


def test_tasks_come_with_the_trainers_suggestion(client: TestClient, trained: Controller) -> None:
    task = client.post("/api/projects/p/next", headers=ANNOTATOR).json()["task"]
    expected = trained.guess(_sample(trained.store, task["external_id"]))  # type: ignore[arg-type]
    assert expected is not None
    shown = task["suggestion"]
    assert (shown["label"], shown["round"]) == (expected.label, 2)
    assert shown["probability"] == pytest.approx(expected.probability)
    label = "pos" if int(task["external_id"][1:]) % 2 else "neg"
    answered = client.post(
        f"/api/tasks/{task['task_id']}/annotation?next=true",
        json={"label": label},
        headers=ANNOTATOR,
    )
    assert answered.status_code == 201, answered.text
    following = answered.json()["next"]["task"]
    assert following["suggestion"]["round"] == 2
    assert following["suggestion"]["label"] in ("neg", "pos")


def test_an_unreadable_stored_model_leaves_the_suggestion_empty_never_a_500(
    client: TestClient, trained: Controller
) -> None:
    with trained.store.write() as session:
        session.execute(update(RoundModel).values(data=b"\x80\x05not a pickle"))
    got = client.post("/api/projects/p/next", headers=ANNOTATOR)
    assert got.status_code == 200, got.text
    task = got.json()["task"]
    assert task is not None and task["suggestion"] is None
    answered = client.post(
        f"/api/tasks/{task['task_id']}/annotation?next=true",
        json={"label": "pos"},
        headers=ANNOTATOR,
    )
    assert answered.status_code == 201, answered.text
    assert answered.json()["next"]["task"]["suggestion"] is None
    guess = client.get(f"/api/tasks/{task['task_id']}/guess", headers=ANNOTATOR)
    assert guess.status_code in (200, 404), guess.text  # the answered task: no 500 either
