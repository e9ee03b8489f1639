"""NER spans through the API and the annotation page: 422 naming the problem, code-point
offsets (an emoji before an entity), the model's spans with scores, a browser that tags two
entities and submits."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from labelwise.server import ServerSettings, create_app
from labelwise.spans import Span, span_f1
from labelwise.store import (
    Store,
    add_annotator,
    add_samples,
    create_project,
    export_labeled,
    init_store,
)
from labelwise.store.members import add_member
from tests.controller.test_span_projects import LABELS, _corpus
from tests.server.conftest import bearer
from tests.store.databases import BACKENDS, fresh_database_url

pytest.importorskip("pycrfsuite")

EMOJI_TEXT = "\U0001f600 Ada Lovelace visited Paris ."  # the emoji: 1 code point, 2 UTF-16 units


@dataclass
class Served:
    store: Store
    client: TestClient
    gold: dict[str, list[Span]]


def _setup(store: Store, n: int) -> dict[str, list[Span]]:
    corpus = _corpus(n)
    loop = {"loop": {"batch_size": 30}}  # every sample queued at once
    create_project(store, "ner", LABELS, settings=loop, answer_kind="spans")
    rows = [{"id": f"s{i}", "text": t} for i, (t, _) in enumerate(corpus)]
    add_samples(store, "ner", [*rows, {"id": "emoji", "text": EMOJI_TEXT}])
    add_annotator(store, "root", "admin", "admin-token")
    add_annotator(store, "ann", "annotator", "ann-token")
    add_member(store, "ner", "ann")
    gold = {f"s{i}": spans for i, (_, spans) in enumerate(corpus)}
    gold["emoji"] = [Span(2, 14, "PER"), Span(23, 28, "LOC")]
    return gold


@pytest.fixture(params=BACKENDS)
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Served]:
    for url in fresh_database_url(request.param, tmp_path):
        store = init_store(url)
        gold = _setup(store, 24)
        settings = ServerSettings(store=store.url, background=False, token_cache_seconds=0)
        with TestClient(create_app(settings, store)) as client:
            yield Served(store, client, gold)
        store.close()


def _next(served: Served) -> dict[str, object]:
    found = served.client.post("/api/projects/ner/next", headers=bearer("ann-token"))
    assert found.status_code == 200, found.text
    task = found.json()["task"]
    assert task is not None, found.json()
    return dict(task)


def _post(served: Served, task_id: object, body: object) -> tuple[int, str]:
    response = served.client.post(
        f"/api/tasks/{task_id}/answer", json=body, headers=bearer("ann-token")
    )
    return response.status_code, response.text


def test_the_project_says_it_takes_spans(served: Served) -> None:
    found = served.client.get("/api/projects", headers=bearer("ann-token")).json()
    assert [(p["name"], p["answer_kind"], p["labels"]) for p in found] == [("ner", "spans", LABELS)]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"spans": [[0, 500, "PER"]]}, "outside the text of"),
        ({"spans": [[3, 3, "PER"]]}, "is empty or outside"),
        ({"spans": [[0, 5, "DATE"]]}, "label 'DATE', not in project 'ner''s label space"),
        ({"spans": [[0, 6, "PER"], [3, 9, "ORG"]]}, "spans overlap: 0:6"),
        ({"spans": [[0, 6]]}, "spans"),  # the schema: a triple
        ({"spans": [["a", 6, "PER"]]}, "spans"),
        ({"label": "PER"}, "takes 'spans' (a list of [start, end, label]) answers"),
        ({"spans": [], "label": "PER"}, "exactly one of"),
    ],
)
def test_bad_span_answers_are_422_naming_the_problem(
    served: Served, body: dict[str, object], problem: str
) -> None:
    task = _next(served)
    code, text = _post(served, task["task_id"], body)
    assert code == 422 and problem in text, text


def test_offsets_are_code_points_and_the_model_suggests_spans(
    served: Served, tmp_path: Path
) -> None:
    answered: list[str] = []
    while len(answered) < 14 or "emoji" not in answered:
        task = _next(served)
        if task["external_id"] == "emoji":
            assert task["text"] == EMOJI_TEXT  # answered below in code points: 2:14 and 23:28
        spans = [[s.start, s.end, s.label] for s in served.gold[str(task["external_id"])]]
        code, text = _post(served, task["task_id"], {"spans": spans})
        assert code == 201, text
        answered.append(str(task["external_id"]))
    round_made = served.client.post("/api/admin/projects/ner/rounds", headers=bearer("admin-token"))
    assert round_made.status_code == 200, round_made.text
    assert round_made.json()["strategy"] == "mnlp"
    predicted, truth = [], []
    for _ in range(4):
        task = _next(served)
        guess = served.client.get(
            f"/api/tasks/{task['task_id']}/guess", headers=bearer("ann-token")
        )
        assert guess.status_code == 200, guess.text
        found = guess.json()
        assert found["round"] is not None and found["spans"] is not None
        assert json.loads(found["label"]) == [
            [s["start"], s["end"], s["label"]] for s in found["spans"]
        ]
        assert all(0.0 <= s["score"] <= 1.0 for s in found["spans"])
        predicted.append([Span(s["start"], s["end"], s["label"]) for s in found["spans"]])
        truth.append(served.gold[str(task["external_id"])])
        spans = [[s.start, s.end, s.label] for s in truth[-1]]
        assert _post(served, task["task_id"], {"spans": spans})[0] == 201
    assert span_f1(predicted, truth).f1 > 0.7
    out = tmp_path / "ner.jsonl"
    export_labeled(served.store, "ner", out)
    rows = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    entities = [rows["emoji"]["text"][s["start"] : s["end"]] for s in rows["emoji"]["label"]]
    assert entities == ["Ada Lovelace", "Paris"]


# --- the page, in headless Chromium ---------------------------------------------------------


@pytest.fixture
def live_url(tmp_path: Path) -> Iterator[tuple[str, Store]]:
    """The ``ner`` project, 8 of its 12 sentences labeled, the emoji sentence added, served."""
    import uvicorn

    from labelwise.controller import Controller
    from labelwise.controller import tasks as annotating
    from tests.server.test_browser import _free_port

    store = init_store(f"sqlite:///{tmp_path / 'store.db'}")
    corpus = _corpus(12)
    create_project(store, "ner", LABELS, settings={"loop": {"batch_size": 30}}, answer_kind="spans")
    add_samples(store, "ner", [{"id": f"s{i}", "text": t} for i, (t, _) in enumerate(corpus)])
    add_annotator(store, "root", "admin", "admin-token")
    for name in ("ann", "bot"):
        add_annotator(store, name, "annotator", f"{name}-token")
        add_member(store, "ner", name)
    Controller(store, "ner").run_round()
    for _ in range(8):  # "bot" labels 8 sentences; the server's model trains on them
        lease = annotating.next_task(store, "ner", "bot").lease
        assert lease is not None
        gold = corpus[int(lease.external_id[1:])][1]
        annotating.answer(store, lease.task_id, "bot", [[x.start, x.end, x.label] for x in gold])
    add_samples(store, "ner", [{"id": "emoji", "text": EMOJI_TEXT}])
    port = _free_port()
    settings = ServerSettings(store=store.url, background=False, token_cache_seconds=0)
    app = create_app(settings, store)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
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


#: Select text[start:end] (UTF-16 offsets of the page's string) in the text box with a Range,
#: as a mouse drag does.
SELECT = """([start, end]) => {
  const box = document.querySelector('#sample .text');
  const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  let at = 0, node;
  while ((node = walker.nextNode())) {
    const n = node.textContent.length;
    if (start >= at && start <= at + n) range.setStart(node, start - at);
    if (end >= at && end <= at + n) { range.setEnd(node, end - at); break; }
    at += n;
  }
  const chosen = window.getSelection();
  chosen.removeAllRanges();
  chosen.addRange(range);
}"""


@pytest.mark.browser
@pytest.mark.slow
def test_the_page_tags_two_entities_and_submits_code_points(
    live_url: tuple[str, Store], tmp_path: Path
) -> None:
    from tests.server.test_browser import CHROMIUM

    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium: apt-get install -y chromium")
    playwright_api = pytest.importorskip("playwright.sync_api")
    import httpx

    from tests.server.test_pages import UNNAMED, UNREACHABLE, Browser, _sign_in

    expect = playwright_api.expect
    url, store = live_url
    trained = httpx.post(url + "/api/admin/projects/ner/rounds", headers=bearer("admin-token"))
    assert trained.status_code == 200 and trained.json()["strategy"] == "mnlp", trained.text
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        browser = Browser(chromium)
        page = browser.new_page()
        _sign_in(page, url + "/", "ann-token")
        page.wait_for_selector("#sample .span-text")
        keys = page.eval_on_selector_all("#labels kbd", "(ks) => ks.map((k) => k.textContent)")
        assert keys == ["1", "2", "3", "Enter"]
        assert page.evaluate(UNNAMED) == [] and page.evaluate(UNREACHABLE) == []
        # answer tasks until the emoji sentence shows (the queue's order is the round's)
        for _ in range(6):
            text = page.text_content("#sample .span-text") or ""
            if text == EMOJI_TEXT:
                break
            page.keyboard.press("Enter")  # the model's spans, accepted as they are
            expect(page.locator("#sample .span-text")).not_to_have_text(text)
        assert page.text_content("#sample .span-text") == EMOJI_TEXT
        # the model's spans are pre-filled (dashed); a click removes each
        suggested = page.locator("#sample mark.span-suggested")
        expect(suggested.first).to_be_visible()
        expect(page.locator("#suggestion")).to_contain_text("span(s), shown in the text")
        while suggested.count():
            suggested.first.click()
        expect(page.locator("#sample mark.span")).to_have_count(0)
        # "Ada Lovelace" by the mouse: UTF-16 offsets 3..15 in the page's string
        page.evaluate(SELECT, [3, 15])
        page.keyboard.press("1")  # PER
        expect(page.locator("#sample mark.span")).to_have_count(1)
        assert page.text_content("#sample mark.span") == "Ada Lovelace"
        # "Paris" by the keyboard: arrows move a word at a time (the emoji is a word)
        for _ in range(5):  # emoji, Ada, Lovelace, visited, Paris
            page.keyboard.press("ArrowRight")
        expect(page.locator("#sample .span-selection")).to_have_text("Paris")
        page.keyboard.press("3")  # LOC
        expect(page.locator("#sample mark.span")).to_have_count(2)
        # a wrong span, removed by a click
        page.keyboard.press("ArrowRight")
        page.keyboard.press("2")  # "." as ORG
        expect(page.locator("#sample mark.span")).to_have_count(3)
        page.click("#sample mark.span[data-label='ORG']")
        expect(page.locator("#sample mark.span")).to_have_count(2)
        page.screenshot(path="/tmp/labelwise-spans.png")
        done = page.locator("#my-labels").text_content()
        page.keyboard.press("Enter")
        expect(page.locator("#my-labels")).not_to_have_text(done or "")
        chromium.close()
        assert browser.problems == []
    out = tmp_path / "ner.jsonl"
    export_labeled(store, "ner", out)
    rows = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert rows["emoji"]["label"] == [
        {"start": 2, "end": 14, "label": "PER"},
        {"start": 23, "end": 28, "label": "LOC"},
    ]
    assert [EMOJI_TEXT[s["start"] : s["end"]] for s in rows["emoji"]["label"]] == [
        "Ada Lovelace",
        "Paris",
    ]
