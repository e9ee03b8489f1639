"""Relabeling through the API as the pages use it: the lead turns it on in the settings, the
annotation page answers with ``POST /api/tasks/{id}/answer``, and a third annotator is offered
exactly the samples the first two disagreed on; bad settings are a 422 naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from labelwise.server import ServerSettings, create_app
from labelwise.store import Store, add_annotator, add_samples, create_project, init_store
from labelwise.store.members import add_member
from tests.server.conftest import bearer
from tests.store.databases import BACKENDS, fresh_database_url

ADMIN = bearer("admin-token")
SETTINGS = "/api/admin/projects/votes/settings"
#: ann0 and ann1 agree on t0..t2 and differ on t3..t5; ann2 is the third annotator.
ANSWERS = {
    "ann0": {f"t{i}": "pos" for i in range(6)},
    "ann1": {f"t{i}": "pos" if i < 3 else "neg" for i in range(6)},
    "ann2": {f"t{i}": "neg" for i in range(6)},
}


@dataclass
class Served:
    store: Store
    client: TestClient


@pytest.fixture(params=BACKENDS)
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Served]:
    """``votes``: six texts, overlap 2, three annotators and an admin; every sample queued."""
    for url in fresh_database_url(request.param, tmp_path):
        store = init_store(url)
        settings = {"overlap": 2, "loop": {"features": "hashed"}}
        create_project(store, "votes", ["neg", "pos"], settings=settings)
        add_samples(store, "votes", [{"id": f"t{i}", "text": f"item {i}"} for i in range(6)])
        create_project(store, "ages", [], settings={"overlap": 2}, answer_kind="number")
        add_annotator(store, "root", "admin", "admin-token")
        for name in ANSWERS:
            add_annotator(store, name, "annotator", f"{name}-token")
            add_member(store, "votes", name)
        config = ServerSettings(store=store.url, background=False, token_cache_seconds=0)
        with TestClient(create_app(config, store)) as client:
            assert client.get(SETTINGS, headers=ADMIN).status_code == 200  # the first queue
            yield Served(store, client)
        store.close()


def _label_all(served: Served, who: str) -> list[str]:
    """``who`` labels as the annotation page does, one request per answer; what they got."""
    headers = bearer(f"{who}-token")
    found = served.client.post("/api/projects/votes/next", headers=headers)
    assert found.status_code == 200, found.text
    task = found.json()["task"]
    seen = []
    while task is not None:
        seen.append(task["external_id"])
        body = {"label": ANSWERS[who][task["external_id"]], "seconds_spent": 1.0}
        done = served.client.post(
            f"/api/tasks/{task['task_id']}/answer", headers=headers, json=body
        )
        assert done.status_code == 201, done.text
        task = done.json()["next"]["task"]
    return sorted(seen)


@pytest.mark.parametrize("relabel", [True, False])
def test_a_third_annotator_gets_the_samples_the_first_two_disagreed_on(
    served: Served, relabel: bool
) -> None:
    if relabel:
        changed = served.client.patch(
            SETTINGS, headers=ADMIN, json={"relabel_below": 0.75, "max_annotators": 3}
        )
        assert changed.status_code == 200, changed.text
        assert (changed.json()["relabel_below"], changed.json()["max_annotators"]) == (0.75, 3)
    assert _label_all(served, "ann0") == [f"t{i}" for i in range(6)]
    assert _label_all(served, "ann1") == [f"t{i}" for i in range(6)]
    assert _label_all(served, "ann2") == (["t3", "t4", "t5"] if relabel else [])
    assert _label_all(served, "ann0") == []  # never the same sample twice
    overview = served.client.get("/api/admin/projects/votes/overview", headers=ADMIN).json()
    assert overview["relabeled"] == (3 if relabel else 0)
    assert overview["annotations"] == (15 if relabel else 12)


def test_relabeling_is_turned_off_with_null(served: Served) -> None:
    served.client.patch(SETTINGS, headers=ADMIN, json={"relabel_below": 0.75})
    off = served.client.patch(SETTINGS, headers=ADMIN, json={"relabel_below": None})
    assert off.status_code == 200 and off.json()["relabel_below"] is None
    _label_all(served, "ann0")
    _label_all(served, "ann1")
    assert _label_all(served, "ann2") == []


#: Settings bodies the API refuses, each with the field its 422 names.
BAD_SETTINGS = [
    ({"relabel_below": 0}, "relabel_below"),
    ({"relabel_below": 1.5}, "relabel_below"),
    ({"relabel_below": "half"}, "relabel_below"),
    ({"max_annotators": 1}, "max_annotators"),
    ({"max_annotators": 500}, "max_annotators"),
    ({"relabel_below": 0.8, "max_annotators": 2}, "max_annotators"),  # not above overlap
    ({"relabel_below": 0.8, "max_annotators": 3, "overlap": 3}, "max_annotators"),
]


def test_bad_relabel_settings_are_a_422_naming_the_field(served: Served) -> None:
    for body, field in BAD_SETTINGS:
        refused = served.client.patch(SETTINGS, headers=ADMIN, json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert field in refused.text, (body, refused.text)
    shown = served.client.get(SETTINGS, headers=ADMIN).json()
    assert (shown["relabel_below"], shown["max_annotators"], shown["overlap"]) == (None, None, 2)


def test_relabeling_a_number_project_is_a_422(served: Served) -> None:
    url = "/api/admin/projects/ages/settings"
    refused = served.client.patch(url, headers=ADMIN, json={"relabel_below": 0.8})
    assert refused.status_code == 422 and "relabel_below" in refused.text
