"""The three pages in Debian's chromium (Playwright, never a downloaded browser).

The annotator labels with the keyboard and undoes twice; the lead's overview renders with
table headers and a sentence, and its suggestion-acceptance table counts what the store holds;
a reviewer resolves a disagreement and a failed gold question, filters the browser (by
annotator, by round) and exports the filtered set. Every control has an accessible name and
is reachable by keyboard. Screenshots go to /tmp/labelwise-*.png.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from labelwise.store import Store
from tests.server.conftest import write_project_csv
from tests.server.test_acceptance import counted_in_sql
from tests.server.test_browser import CHROMIUM, _free_port

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install -y chromium"
    ),
]
playwright_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
expect = playwright_api.expect

#: Every control without an accessible name (label, aria-label, text or title).
UNNAMED = """() => [...document.querySelectorAll('input, select, button, textarea')]
  .filter((el) => el.offsetParent !== null)
  .filter((el) => !((el.labels && el.labels.length) || el.getAttribute('aria-label')
    || el.title || (el.tagName === 'BUTTON' && el.textContent.trim())))
  .map((el) => el.outerHTML)"""
#: Every visible control the keyboard cannot reach (Tab skips it).
UNREACHABLE = """() => [...document.querySelectorAll('input, select, button, textarea, a')]
  .filter((el) => el.offsetParent !== null && (el.tabIndex < 0 || el.disabled === true))
  .filter((el) => !(el.closest('.pager')))
  .map((el) => el.outerHTML)"""


@dataclass
class Live:
    url: str
    api: httpx.Client
    store: Store

    def call(self, method: str, path: str, token: str, **kwargs: Any) -> Any:
        response = self.api.request(
            method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs
        )
        assert response.is_success, response.text
        return None if response.status_code == 204 else response.json()


@pytest.fixture
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Live]:
    """The project ``reviews`` served in a thread; ``overlap`` by indirect parametrisation."""
    import uvicorn

    from labelwise.server import ServerSettings, create_app
    from labelwise.store import add_annotator, import_samples, init_store
    from labelwise.store.members import add_member

    store = init_store(f"sqlite:///{tmp_path / 'store.db'}")
    loop = {"features": "hashed", "retrain_every": 3}  # hashed: no embedding model to load
    csv = write_project_csv(tmp_path / "p.csv")
    overlap = getattr(request, "param", 1)
    settings = {"loop": loop, "overlap": overlap}
    import_samples(store, csv, "reviews", labels=["neg", "pos"], settings=settings)
    add_annotator(store, "root", "admin", "admin-token")
    add_annotator(store, "rita", "reviewer", "rita-token")
    for name in ("alice", "bob"):
        add_annotator(store, name, "annotator", f"{name}-token")
    for name in ("alice", "bob", "rita"):
        add_member(store, "reviews", name)
    port = _free_port()
    served = ServerSettings(store=store.url, background=True, poll_seconds=0.2)
    server = uvicorn.Server(
        uvicorn.Config(create_app(served, store), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=url, timeout=30) as api:
        yield Live(url, api, store)
    server.should_exit = True
    thread.join(10)
    store.close()


class Browser:
    """Chromium, whose pages report script errors and CSP violations to ``problems``."""

    def __init__(self, chromium: Any) -> None:
        self.chromium = chromium
        self.problems: list[str] = []

    def new_page(self, **options: Any) -> Any:
        page = self.chromium.new_page(**{"viewport": {"width": 1100, "height": 900}, **options})
        page.on("pageerror", lambda error: self.problems.append(str(error)))
        page.on(
            "console",
            lambda m: (
                self.problems.append(m.text)
                if m.type == "error" and "Failed to load resource" not in m.text
                else None
            ),
        )
        return page


@pytest.fixture
def browser() -> Iterator[Browser]:
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        found = Browser(chromium)
        yield found
        chromium.close()
        assert found.problems == []  # no script error, nothing the CSP refused


def _sign_in(page: Any, url: str, token: str) -> None:
    page.goto(url)
    page.fill("#token", token)
    page.press("#token", "Enter")
    page.wait_for_selector("#work:not(.hidden)", timeout=15_000)


def _answer(live: Live, who: str, label: str, *, shown: bool = False) -> str:
    """``who`` answers their next task with ``label`` (``shown``: after asking for the model's
    suggestion, as the page does; ``label`` "=" takes it); the sample's external id."""
    for _ in range(100):  # the background trainer may be refilling the queue
        found = live.call("POST", "/api/projects/reviews/next", f"{who}-token")
        task = found["task"]
        if task is not None:
            break
        time.sleep(0.1)
    assert task is not None, f"no task for {who}: {found['reason']}"
    if shown:
        guess = live.call("GET", f"/api/tasks/{task['task_id']}/guess", f"{who}-token")
        label = guess["label"] if label == "=" else label
    path = f"/api/tasks/{task['task_id']}/annotation"
    live.call("POST", path, f"{who}-token", json={"label": label})
    return str(task["external_id"])


def _my_labels(page: Any, n: int) -> None:
    expect(page.locator("#my-labels")).to_have_text(str(n))


def _shows(page: Any, text: str) -> None:
    """Wait until the task in view is the one whose text is ``text``."""
    expect(page.locator("#sample .text")).to_have_text(text)


def test_shortcut_keys_never_collide(live: Live, browser: Browser) -> None:
    page = browser.new_page()
    page.goto(live.url + "/")
    spaces = [
        ["1", "cat", "2", "dog", "s", "u", "g", "3"],
        [str(d) for d in range(10)],
        [f"class {i}" for i in range(40)],
        ["a", "A", "b", "1", "10", "x"],
    ]
    for labels in spaces:
        keys = page.evaluate("(labels) => shortcutKeys(labels)", labels)
        given = [k for k in keys if k is not None]
        assert len(given) == len(set(given)), (labels, keys)
        assert not set(given) & {"s", "u", "g"}
        assert all(
            k == label for k, label in zip(keys, labels, strict=True) if label in "0123456789"
        )
    assert page.evaluate("() => shortcutKeys(['neg', 'pos'])") == ["1", "2"]


def test_annotator_labels_with_keys_and_undoes_twice(live: Live, browser: Browser) -> None:
    page = browser.new_page()
    _sign_in(page, live.url + "/", "alice-token")
    page.wait_for_selector("#sample .text")
    keys = page.eval_on_selector_all("#labels kbd", "(ks) => ks.map((k) => k.textContent)")
    assert keys == ["1", "2"]
    assert page.is_visible("#suggestion")  # shown by default, before any model too
    assert page.evaluate(UNNAMED) == [] and page.evaluate(UNREACHABLE) == []
    seen = [page.text_content("#sample .text")]
    for n, key in enumerate(["1", "2", "1"], start=1):
        page.keyboard.press(key)
        _my_labels(page, n)
        expect(page.locator("#sample .text")).not_to_have_text(seen[-1])
        seen.append(page.text_content("#sample .text"))
    page.keyboard.press("u")
    _my_labels(page, 2)
    _shows(page, seen[2])
    page.keyboard.press("u")
    _my_labels(page, 1)
    _shows(page, seen[1])
    assert "Took back" in page.text_content("#message")
    assert page.get_attribute("#message", "data-kind") == "ok"
    page.focus("#project")  # keys typed in a form field never answer
    page.keyboard.press("1")
    page.keyboard.press("u")
    time.sleep(0.5)
    assert page.text_content("#my-labels") == "1"
    page.keyboard.press("Escape")
    page.keyboard.press("2")
    _my_labels(page, 2)
    page.keyboard.press("1")
    _my_labels(page, 3)
    expect(page.locator("#model-line")).to_have_text(re.compile("^model v"), timeout=30_000)
    assert "retrained" in page.text_content("#model-line")
    expect(page.locator("#suggestion")).to_have_text(re.compile("^Model suggests"), timeout=30_000)
    page.screenshot(path="/tmp/labelwise-annotate.png", full_page=True)
    assert page.evaluate("() => localStorage.getItem('labelwise-token-admin')") is None


def test_lead_overview_comes_first_with_headers_and_plain_words(
    live: Live, browser: Browser
) -> None:
    for label in ("neg", "pos", "neg", "pos"):
        _answer(live, "alice", label)
    live.call("POST", "/api/admin/projects/reviews/rounds", "admin-token")
    for who, label in (("alice", "="), ("alice", "="), ("bob", "neg"), ("bob", "pos")):
        _answer(live, who, label, shown=True)  # alice takes the suggestion, bob decides
    page = browser.new_page()
    page.goto(live.url + "/admin")
    page.fill("#token", "wrong-token")
    page.click("#signin-button")
    expect(page.locator("#message")).to_contain_text("failed")
    _sign_in(page, live.url + "/admin", "admin-token")
    expect(page.locator("#ov-sentence")).to_have_text(re.compile(r"\w+ .{10,}"))
    assert page.text_content("#message") == ""  # the stale "Sign-in failed" is gone
    first = page.eval_on_selector("#work", "(w) => w.querySelector('.card h2, .card').id")
    assert first in ("", "overview-card")
    order = page.eval_on_selector_all("#work h2", "(hs) => hs.map((h) => h.textContent)")
    assert order[0] == "Overview"
    headers = page.eval_on_selector_all(
        "#ov-criteria th", "(ths) => ths.map((th) => th.textContent)"
    )
    assert headers == ["criterion", "current", "threshold", "met", "in words"]
    captions = page.eval_on_selector_all("table caption", "(cs) => cs.map((c) => c.textContent)")
    tables = page.eval_on_selector_all("table", "(ts) => ts.map((t) => t.tHead !== null)")
    assert all(tables) and len(tables) == len(captions) >= 5
    balance = page.eval_on_selector_all(
        "#balance-table tbody tr", "(rs) => rs.map((r) => r.cells[1].textContent)"
    )
    assert sum(map(int, balance)) == 8  # 8 answers; the 10 eval labels are not counted
    assert page.text_content("#ov-labels") == "8"
    undefined = page.eval_on_selector_all("td.explained", "(tds) => tds.map((t) => t.title)")
    assert undefined and all("two annotators" in t for t in undefined)
    assert page.evaluate(UNNAMED) == [] and page.evaluate(UNREACHABLE) == []
    accepted = page.eval_on_selector_all(
        "#acceptance table:first-of-type tbody tr",
        "(rs) => rs.map((r) => [...r.cells].map((c) => c.textContent))",
    )
    heads = page.eval_on_selector_all("#acceptance th", "(ths) => ths.map((t) => t.textContent)")
    assert heads[:4] == ["annotator", "answers after a suggestion", "took it", "acceptance"]
    assert "rubber-stamping" in page.text_content("#acceptance-note")
    store_counts = counted_in_sql(live.store)
    assert {r[0]: (int(r[1]), int(r[2])) for r in accepted} == store_counts
    assert store_counts["alice"] == (2, 2) and store_counts["bob"][0] == 2
    page.select_option("select[name=show_suggestion]", "false")
    page.click("#settings-form button.primary")
    expect(page.locator("#message")).to_have_text("Settings saved.")
    assert page.get_attribute("#message", "data-kind") == "ok"
    expect(page.locator("#curve")).to_have_attribute("src", re.compile("^blob:"))
    page.screenshot(path="/tmp/labelwise-admin.png", full_page=True)
    stored = page.evaluate("() => Object.keys(localStorage)")
    assert stored == ["labelwise-token-admin"]
    page.click("#signout")
    page.wait_for_selector("#signin:not(.hidden)")
    assert page.evaluate("() => Object.keys(localStorage)") == []


@pytest.mark.parametrize("live", [2], indirect=True)
def test_reviewer_resolves_a_disagreement_and_filters_the_browser(
    live: Live, browser: Browser
) -> None:
    answered = [_answer(live, "alice", "pos")]
    for _ in range(40):  # bob answers until he meets alice's sample (its second slot)
        answered.append(_answer(live, "bob", "neg"))
        if answered[-1] == answered[0]:
            break
    assert answered[-1] == answered[0]
    page = browser.new_page()
    _sign_in(page, live.url + "/review", "rita-token")
    page.wait_for_selector(".review-item")
    item = page.text_content(".review-item")
    assert answered[0] in item and "alice" in item and "bob" in item and "Model's guess" in item
    page.wait_for_selector("#browser tbody tr")
    assert page.evaluate(UNNAMED) == [] and page.evaluate(UNREACHABLE) == []
    page.screenshot(path="/tmp/labelwise-review.png", full_page=True)
    page.click(".review-item button[data-label='neg']")
    expect(page.locator("#message")).to_have_text(re.compile("^Resolved"))
    page.wait_for_selector(".review-item", state="detached")
    page.fill("#filters input[name=annotator]", "alice")
    page.keyboard.press("Enter")  # the filter form submits from the keyboard
    expect(page.locator("#page-info")).to_have_text("1-1 of 1")
    row = page.eval_on_selector(
        "#browser tbody tr", "(r) => [...r.cells].map((c) => c.textContent)"
    )
    assert row[0] == answered[0] and row[4:6] == ["neg", "review"]
    assert row[7].startswith("round 1, ")  # why it was chosen
    with page.expect_download() as download:
        page.click("#export-jsonl")
    exported = Path(download.value.path()).read_text().splitlines()
    assert [json.loads(line)["external_id"] for line in exported] == [answered[0]]
    page.fill("#filters input[name=annotator]", "")
    page.fill("#filters input[name=round]", "1")
    page.click("#filters button")
    expect(page.locator("#page-info")).to_have_text(re.compile(r"^1-\d+ of \d+$"))
    whys = page.eval_on_selector_all(
        "#browser tbody tr", "(rs) => rs.map((r) => r.cells[7].textContent)"
    )
    assert whys and all(w.startswith("round 1, ") for w in whys)
    page.screenshot(path="/tmp/labelwise-review-done.png", full_page=True)


@pytest.mark.parametrize("live", [1], indirect=True)
def test_reviewer_checks_a_failed_gold_question(live: Live, browser: Browser) -> None:
    live.call(
        "PATCH", "/api/admin/projects/reviews/settings", "admin-token", json={"gold_fraction": 0.5}
    )
    for _ in range(8):
        _answer(live, "alice", "pos")  # the neg gold questions fail
    page = browser.new_page()
    _sign_in(page, live.url + "/review", "rita-token")
    page.select_option("#queue-kind", "gold_failed")
    page.wait_for_selector(".review-item")
    items = page.locator(".review-item")
    count = items.count()
    assert count >= 1 and "gold question" in items.first.text_content()
    reasons = page.eval_on_selector(
        ".review-item table", "(t) => [...t.tHead.rows[0].cells].map((c) => c.textContent)"
    )
    assert reasons == ["reason", "annotator", "answer", "expected", "confidence"]
    assert page.evaluate(UNNAMED) == [] and page.evaluate(UNREACHABLE) == []
    page.focus(".review-item button[data-label='neg']")  # reachable and pressed by keyboard
    page.keyboard.press("Enter")
    expect(page.locator("#message")).to_have_text(re.compile("gold label confirmed as neg"))
    expect(page.locator(".review-item")).to_have_count(count - 1)
