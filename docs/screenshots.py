"""Screenshots of each page of the team service, for the README (``make screenshots``).

Builds the digits demo in a temporary folder (and a small NER spans project), serves it on a
free local port, plays a few minutes of a team's work through the API (an annotator who
mostly takes the model's suggestion, a second annotator on overlapping tasks, a round or two),
then drives Debian's chromium headless (Playwright with ``executable_path``, never a
downloaded browser) and writes one PNG per page into ``docs/screenshots/``: the annotation
page, the span page, the review queue, the lead's overview and the data browser. The PNGs are
palette-quantised to stay small (under 200 KB each).

Usage: ``python docs/screenshots.py [--out docs/screenshots] [--chromium /usr/bin/chromium]``
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

OUT = Path(__file__).parent / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1100, "height": 820}
MAX_BYTES = 200_000
NER = [
    "Ada Lovelace visited Paris in June .",
    "Grace Hopper works for the Navy in Arlington .",
    "Alan Turing left Manchester for Cambridge .",
    "Katherine Johnson works for NASA in Hampton .",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def demo_server(folder: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """The digits demo and a spans project, served in a thread: the URL and the tokens."""
    import uvicorn

    from labelwise.server import ServerSettings, create_app
    from labelwise.server.demo import build_demo
    from labelwise.store import add_annotator, add_samples, create_project, init_store
    from labelwise.store.members import add_member

    store = init_store(f"sqlite:///{folder / 'demo.db'}")
    demo = build_demo(store, folder / "images", retrain_every=8)
    add_annotator(store, "bea", "annotator", "bea-token")
    add_annotator(store, "rita", "reviewer", "rita-token")
    for name in ("bea", "rita"):
        add_member(store, "digits", name)
    never = {"loop": {"retrain_every": 100_000}}  # the span page needs no model to show
    create_project(store, "ner", ["PER", "ORG", "LOC"], settings=never, answer_kind="spans")
    add_samples(store, "ner", [{"id": f"n{i}", "text": t} for i, t in enumerate(NER)])
    add_member(store, "ner", "annotator")
    port = _free_port()
    settings = ServerSettings(store=store.url, background=True, poll_seconds=0.2)
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, store), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(400):
        if server.started:
            break
        time.sleep(0.05)
    tokens = {"admin": demo.admin_token, "annotator": demo.annotator_token}
    try:
        yield f"http://127.0.0.1:{port}", tokens | {"bea": "bea-token", "rita": "rita-token"}
    finally:
        server.should_exit = True
        thread.join(10)
        store.close()


class Team:
    """A team's work through the API: answers (the truth, or the suggestion), rounds."""

    def __init__(self, api: httpx.Client, tokens: dict[str, str]) -> None:
        from sklearn.datasets import load_digits

        self.api, self.tokens = api, tokens
        self.truth = {f"d{i:04d}": str(t) for i, t in enumerate(load_digits().target)}

    def call(self, method: str, path: str, who: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        response = self.api.request(method, path, headers=headers, **kwargs)
        response.raise_for_status()
        return None if response.status_code == 204 else response.json()

    def answer(
        self, who: str, *, take_suggestion: bool, wrong_on: frozenset[str] = frozenset()
    ) -> str | None:
        """``who`` answers their next task: the truth, or the suggestion, or (on a sample of
        ``wrong_on``) a wrong label; the sample's id."""
        task = self.call("POST", "/api/projects/digits/next", who)["task"]
        if task is None:
            return None
        guess = self.call("GET", f"/api/tasks/{task['task_id']}/guess", who)
        label = self.truth[task["external_id"]]
        if take_suggestion and guess["label"] is not None:
            label = guess["label"]
        if task["external_id"] in wrong_on:
            label = str((int(label) + 1) % 10)
        self.call("POST", f"/api/tasks/{task['task_id']}/annotation", who, json={"label": label})
        return str(task["external_id"])

    def play(self) -> None:
        for n in range(24):
            self.answer("annotator", take_suggestion=n % 3 != 0)
        self.call("POST", "/api/admin/projects/digits/rounds", "admin")
        # a larger batch and no retraining while bea catches up
        # (answers against a suggestion at least 50% sure go to review)
        quiet = {"overlap": 2, "retrain_every": 100_000, "batch_size": 60, "review_confidence": 0.5}
        self.call("PATCH", "/api/admin/projects/digits/settings", "admin", json=quiet)
        self.call("POST", "/api/admin/projects/digits/rounds", "admin")
        for n in range(3):  # bea answers until she meets the annotator's sample
            shared = self.answer("annotator", take_suggestion=True)
            wrong = frozenset({shared} if n < 2 and shared else ())
            for _ in range(40):
                met = self.answer("bea", take_suggestion=False, wrong_on=wrong)
                if met is None or met == shared:
                    break


def _sign_in(page: Any, url: str, token: str) -> None:
    page.goto(url)
    page.fill("#token", token)
    page.press("#token", "Enter")
    page.wait_for_selector("#work:not(.hidden)", timeout=30_000)


def _small(path: Path) -> int:
    """Palette-quantise the PNG in place (UI screenshots have few colours); its size."""
    from PIL import Image

    with Image.open(path) as image:
        quantised = image.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    quantised.save(path, optimize=True)
    return path.stat().st_size


def shoot(url: str, tokens: dict[str, str], out: Path, chromium: Path) -> list[Path]:
    """One PNG per page; the paths written."""
    from playwright.sync_api import expect, sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(chromium),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport=VIEWPORT)

        _sign_in(page, url + "/", tokens["annotator"])
        page.select_option("#project", "digits")
        expect(page.locator("#suggestion")).to_contain_text("Model suggests", timeout=30_000)
        expect(page.locator("#my-labels")).not_to_have_text("0", timeout=30_000)
        page.screenshot(path=str(out / "annotate.png"))
        written.append(out / "annotate.png")

        page.select_option("#project", "ner")
        page.wait_for_selector("#sample .span-text, #sample .text", timeout=30_000)
        page.screenshot(path=str(out / "spans.png"))
        written.append(out / "spans.png")

        page = browser.new_page(viewport=VIEWPORT)
        _sign_in(page, url + "/review", tokens["rita"])
        page.wait_for_selector(".review-item", timeout=30_000)
        page.screenshot(path=str(out / "review.png"))
        written.append(out / "review.png")

        page.select_option("#filters select[name=state]", "labeled")
        page.click("#filters button")
        page.wait_for_selector("#browser tbody tr")
        card = page.locator(".card", has=page.locator("#browser"))
        card.screenshot(path=str(out / "browser.png"))
        written.append(out / "browser.png")

        page = browser.new_page(viewport={"width": VIEWPORT["width"], "height": 1400})
        _sign_in(page, url + "/admin", tokens["admin"])
        page.wait_for_selector("#acceptance tbody tr", timeout=30_000)
        page.wait_for_function(
            "() => ['curve', 'balance']"
            ".every((i) => document.getElementById(i).src.startsWith('blob:'))"
        )
        page.screenshot(path=str(out / "lead.png"))
        written.append(out / "lead.png")
        page.locator("#acceptance-card").screenshot(path=str(out / "acceptance.png"))
        written.append(out / "acceptance.png")
        browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--chromium", type=Path, default=CHROMIUM)
    args = parser.parse_args()
    if not args.chromium.exists():
        raise SystemExit(f"no chromium at {args.chromium}: apt-get install -y chromium")
    with tempfile.TemporaryDirectory() as folder, demo_server(Path(folder)) as (url, tokens):
        with httpx.Client(base_url=url, timeout=60) as api:
            Team(api, tokens).play()
        for path in shoot(url, tokens, args.out, args.chromium):
            size = _small(path)
            print(f"{path}: {size // 1000} KB")
            if size > MAX_BYTES:
                raise SystemExit(f"{path} is {size} bytes, over {MAX_BYTES}: shrink the viewport")


if __name__ == "__main__":
    main()
