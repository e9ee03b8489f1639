"""Number and label-set answers through the API: 422 naming the problem, stored when valid."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from labelwise.server import ServerSettings, create_app
from labelwise.store import (
    Store,
    add_annotator,
    add_samples,
    create_project,
    export_labeled,
    init_store,
)
from labelwise.store.members import add_member
from tests.server.conftest import bearer
from tests.store.databases import BACKENDS, fresh_database_url


@dataclass
class Served:
    store: Store
    client: TestClient


@pytest.fixture(params=BACKENDS)
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Served]:
    """``ages`` (numbers in [0, 10], step 0.5) and ``topics`` (label sets), one annotator."""
    for url in fresh_database_url(request.param, tmp_path):
        store = init_store(url)
        loop = {"loop": {"features": "hashed"}}
        create_project(
            store,
            "ages",
            [],
            "tabular_classification",
            {**loop, "answer": {"min": 0, "max": 10, "step": 0.5}},
            answer_kind="number",
        )
        add_samples(store, "ages", [{"id": f"r{i}", "x": float(i), "z": i % 3} for i in range(8)])
        create_project(store, "topics", ["art", "law", "tech"], settings=loop, answer_kind="labels")
        add_samples(store, "topics", [{"id": f"t{i}", "text": f"item {i}"} for i in range(8)])
        add_annotator(store, "ann", "annotator", "ann-token")
        for project in ("ages", "topics"):
            add_member(store, project, "ann")
        settings = ServerSettings(store=store.url, background=False, token_cache_seconds=0)
        with TestClient(create_app(settings, store)) as client:
            yield Served(store, client)
        store.close()


def _task(served: Served, project: str) -> int:
    found = served.client.post(f"/api/projects/{project}/next", headers=bearer("ann-token"))
    assert found.status_code == 200, found.text
    task = found.json()["task"]
    assert task is not None, found.json()
    return int(task["task_id"])


def _post(served: Served, task_id: int, body: object) -> tuple[int, str]:
    raw = json.dumps(body)  # NaN and Infinity as Python's json writes them
    response = served.client.post(
        f"/api/tasks/{task_id}/answer",
        content=raw,
        headers={**bearer("ann-token"), "Content-Type": "application/json"},
    )
    return response.status_code, response.text


def test_projects_tell_the_page_what_to_ask(served: Served) -> None:
    found = served.client.get("/api/projects", headers=bearer("ann-token")).json()
    by_name = {p["name"]: p for p in found}
    assert by_name["ages"]["answer_kind"] == "number"
    assert by_name["ages"]["answer"] == {"min": 0.0, "max": 10.0, "step": 0.5}
    assert by_name["topics"]["answer_kind"] == "labels" and by_name["topics"]["answer"] is None
    assert by_name["topics"]["labels"] == ["art", "law", "tech"]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"value": 10.5}, "above the maximum 10"),
        ({"value": -0.5}, "below the minimum 0"),
        ({"value": 1.2}, "not a multiple of the step 0.5"),
        ({"value": float("nan")}, "finite number"),
        ({"value": float("inf")}, "finite number"),
        ({"value": "seven"}, "valid number"),
        ({"label": "art"}, "takes 'value' (a number) answers, not 'label'"),
        ({"labels": ["art"]}, "takes 'value' (a number) answers, not 'labels'"),
        ({}, "exactly one of"),
        ({"value": 1, "label": "x"}, "exactly one of"),
    ],
)
def test_bad_numbers_are_422_naming_the_problem(
    served: Served, body: dict[str, object], problem: str
) -> None:
    code, text = _post(served, _task(served, "ages"), body)
    assert code == 422 and problem in text, text


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"labels": ["art", "music"]}, "['music'] are not in project 'topics'"),
        ({"labels": ["art", "art"]}, "repeats a label"),
        ({"labels": "art"}, "valid list"),
        ({"value": 1}, "takes 'labels' (a list) answers, not 'value'"),
    ],
)
def test_bad_label_sets_are_422_naming_the_problem(
    served: Served, body: dict[str, object], problem: str
) -> None:
    code, text = _post(served, _task(served, "topics"), body)
    assert code == 422 and problem in text, text


def test_valid_answers_are_stored_and_exported(served: Served, tmp_path: Path) -> None:
    code, text = _post(served, _task(served, "ages"), {"value": 7})
    assert code == 201 and json.loads(text)["label"] == "7.0"
    code, text = _post(served, _task(served, "topics"), {"labels": ["tech", "art"]})
    assert code == 201 and json.loads(text)["label"] == '["art","tech"]'
    code, text = _post(served, _task(served, "topics"), {"labels": []})
    assert code == 201 and json.loads(text)["label"] == "[]"
    export_labeled(served.store, "ages", tmp_path / "ages.jsonl")
    export_labeled(served.store, "topics", tmp_path / "topics.jsonl")
    ages = [json.loads(line) for line in (tmp_path / "ages.jsonl").read_text().splitlines()]
    topics = [json.loads(line) for line in (tmp_path / "topics.jsonl").read_text().splitlines()]
    assert [row["label"] for row in ages] == [7.0]
    assert sorted(map(tuple, (row["label"] for row in topics))) == [(), ("art", "tech")]


# --- the annotation page, in headless Chromium ---------------------------------------------


@pytest.fixture
def live_url(tmp_path: Path) -> Iterator[tuple[str, Store]]:
    """``ages`` (text items rated 0-10 in steps of 0.5) and ``topics`` (label sets), served."""
    import threading
    import time

    import uvicorn

    from tests.server.test_browser import _free_port

    store = init_store(f"sqlite:///{tmp_path / 'store.db'}")
    loop = {"loop": {"features": "hashed"}}
    rules = {"answer": {"min": 0, "max": 10, "step": 0.5}}
    create_project(store, "ages", [], settings={**loop, **rules}, answer_kind="number")
    add_samples(store, "ages", [{"id": f"r{i}", "text": f"rate item {i}"} for i in range(6)])
    create_project(store, "topics", ["art", "law", "tech"], settings=loop, answer_kind="labels")
    add_samples(store, "topics", [{"id": f"t{i}", "text": f"topic item {i}"} for i in range(6)])
    add_annotator(store, "ann", "annotator", "ann-token")
    for project in ("ages", "topics"):
        add_member(store, project, "ann")
    port = _free_port()
    settings = ServerSettings(store=store.url, background=False, token_cache_seconds=0)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, store), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", store
    server.should_exit = True
    thread.join(10)
    store.close()


@pytest.mark.browser
@pytest.mark.slow
def test_the_page_asks_numbers_and_label_sets_by_keyboard(
    live_url: tuple[str, Store], tmp_path: Path
) -> None:
    from tests.server.test_browser import CHROMIUM

    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium: apt-get install -y chromium")
    playwright_api = pytest.importorskip("playwright.sync_api")
    from tests.server.test_pages import UNNAMED, UNREACHABLE, Browser, _sign_in

    expect = playwright_api.expect
    url, store = live_url
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        browser = Browser(chromium)
        page = browser.new_page()
        _sign_in(page, url + "/", "ann-token")
        # a number project: the input has the focus; type the number, Enter sends it
        expect(page.locator("#number")).to_be_focused()
        assert page.text_content("#number-rules") == "from 0 to 10 in steps of 0.5"
        assert page.evaluate(UNNAMED) == [] and page.evaluate(UNREACHABLE) == []
        first = page.text_content("#sample .text")
        page.keyboard.type("3.5")
        page.keyboard.press("Enter")
        expect(page.locator("#my-labels")).to_have_text("1")
        expect(page.locator("#sample .text")).not_to_have_text(first or "")
        page.keyboard.type("11")
        page.keyboard.press("Enter")
        expect(page.locator("#message")).to_contain_text("above the maximum 10")
        expect(page.locator("#my-labels")).to_have_text("1")
        page.fill("#number", "")
        page.keyboard.type("7")
        page.keyboard.press("Enter")
        expect(page.locator("#my-labels")).to_have_text("2")
        page.keyboard.press("Escape")  # leave the field: the command keys work again
        page.keyboard.press("u")
        expect(page.locator("#my-labels")).to_have_text("1")
        page.keyboard.type("4")  # a digit with no field focused goes into the input
        page.keyboard.press("Enter")
        expect(page.locator("#my-labels")).to_have_text("2")
        # a multi-label project: keys toggle checkboxes, Enter sends the set
        page.select_option("#project", "topics")
        page.keyboard.press("Escape")
        page.wait_for_selector("#labels input[type=checkbox]")
        expect(page.locator("#my-labels")).to_have_text("0")
        keys = page.eval_on_selector_all("#labels kbd", "(ks) => ks.map((k) => k.textContent)")
        assert keys == ["1", "2", "3", "Enter"]
        assert page.evaluate(UNNAMED) == [] and page.evaluate(UNREACHABLE) == []
        page.keyboard.press("1")
        page.keyboard.press("3")
        page.keyboard.press("1")
        page.keyboard.press("1")
        checked = "(cs) => cs.map((c) => c.checked)"
        assert page.eval_on_selector_all("#labels input", checked) == [True, False, True]
        page.keyboard.press("Enter")
        expect(page.locator("#my-labels")).to_have_text("1")
        assert page.eval_on_selector_all("#labels input", checked) == [False, False, False]
        page.click("#labels label.check[data-label='law']")  # the mouse works too
        page.keyboard.press("Enter")
        expect(page.locator("#my-labels")).to_have_text("2")
        page.keyboard.press("Enter")  # no label applies: the empty set is an answer
        expect(page.locator("#my-labels")).to_have_text("3")
        page.screenshot(path="/tmp/labelwise-multilabel.png")
        chromium.close()
        assert browser.problems == []
    export_labeled(store, "ages", tmp_path / "ages.jsonl")
    export_labeled(store, "topics", tmp_path / "topics.jsonl")
    ages = [json.loads(line) for line in (tmp_path / "ages.jsonl").read_text().splitlines()]
    topics = [json.loads(line) for line in (tmp_path / "topics.jsonl").read_text().splitlines()]
    assert sorted(row["label"] for row in ages) == [3.5, 4.0]
    assert sorted(tuple(row["label"]) for row in topics) == [(), ("art", "tech"), ("law",)]
