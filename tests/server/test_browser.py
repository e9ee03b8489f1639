"""End to end in Debian's chromium (Playwright, never a downloaded browser): sign in, label."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install -y chromium"
    ),
]
playwright_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
expect = playwright_api.expect


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    import uvicorn

    from labelwise.server import ServerSettings, create_app
    from labelwise.server.demo import build_demo
    from labelwise.store import init_store

    store = init_store(f"sqlite:///{tmp_path / 'demo.db'}")
    demo = build_demo(store, tmp_path / "images", retrain_every=3)
    port = _free_port()
    settings = ServerSettings(store=store.url, background=True, poll_seconds=0.2)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, store), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", demo.annotator_token
    server.should_exit = True
    thread.join(10)
    store.close()


def test_annotator_labels_with_buttons_and_keys(
    demo_server: tuple[str, str], tmp_path: Path
) -> None:
    url, token = demo_server
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page()
        page.goto(url + "/")
        page.fill("#token", token)
        page.click("#signin-button")
        page.wait_for_selector("#sample img", timeout=15_000)
        page.click("#labels button[data-label='3']")
        expect(page.locator("#my-labels")).to_have_text("1")
        page.wait_for_selector("#sample img")
        page.keyboard.press("7")
        expect(page.locator("#my-labels")).to_have_text("2")
        page.keyboard.press("u")
        expect(page.locator("#my-labels")).to_have_text("1")
        page.keyboard.press("5")
        expect(page.locator("#my-labels")).to_have_text("2")
        page.keyboard.press("2")  # the third label: the model retrains (retrain_every=3)
        expect(page.locator("#my-labels")).to_have_text("3")
        expect(page.locator("#model-line")).to_have_text(re.compile("^model v"), timeout=30_000)
        expect(page.locator("#suggestion")).to_have_text(
            re.compile("^Model suggests [0-9] "), timeout=30_000
        )
        # one request per label: the answer brings the next task with its suggestion
        sent: list[str] = []
        page.on("request", lambda r: sent.append(f"{r.method} {r.url.removeprefix(url)}"))
        shown_on = page.locator("#sample img").get_attribute("alt")
        page.keyboard.press("4")
        expect(page.locator("#my-labels")).to_have_text("4")
        expect(page.locator("#sample img")).not_to_have_attribute("alt", str(shown_on))
        expect(page.locator("#suggestion")).to_have_text(re.compile("^Model suggests [0-9] "))
        api = [r for r in sent if " /api/" in r and not r.endswith("/model")]  # model: a timer
        assert [r for r in api if not r.endswith("/image")] == [
            next(r for r in api if r.startswith("POST /api/tasks/") and r.endswith("/answer"))
        ], sent  # no guess, next task or progress request; the new task's image, as always
        page.screenshot(path=str(tmp_path / "annotate.png"), full_page=True)
        shot = Path("/tmp/labelwise-annotate.png")
        shot.write_bytes((tmp_path / "annotate.png").read_bytes())
        browser.close()
