from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from labelwise.errors import InvalidInputError
from labelwise.stream import StreamItem, follow_jsonl, from_iterable, item_from_record, poll_http


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_records_become_items() -> None:
    item = item_from_record({"id": 7, "text": "hello", "label": "a", "extra": 1})
    assert item == StreamItem(id="7", text="hello", label="a")
    assert item_from_record({"id": "x", "features": [1, 2]}).features == (1.0, 2.0)


@pytest.mark.parametrize(
    ("record", "words"),
    [
        ({"text": "no id"}, "no 'id'"),
        ({"id": 1}, "neither 'text' nor 'features'"),
        ({"id": 1, "features": ["a"]}, "list of numbers"),
        ({"id": 1, "features": [float("nan")]}, "finite"),
        ({"id": 1, "text": 3}, "'text' must be a string"),
        ([1, 2], "not an object"),
    ],
)
def test_bad_records_are_refused(record: Any, words: str) -> None:
    with pytest.raises(InvalidInputError, match=words):
        item_from_record(record)


def test_from_iterable_keeps_order() -> None:
    ids = [item.id for item in from_iterable({"id": i, "text": "t"} for i in range(5))]
    assert ids == ["0", "1", "2", "3", "4"]


def test_follow_jsonl_reads_lines_appended_while_reading(tmp_path: Path) -> None:
    path = tmp_path / "stream.jsonl"
    path.write_text('{"id": 1, "text": "a"}\n{"id": 2, "te')
    clock = FakeClock()
    appended = {"done": False}

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if not appended["done"]:  # the writer finishes its line and adds one more
            with path.open("a") as handle:
                handle.write('xt": "b"}\n\n{"id": 3, "text": "c"}\n')
            appended["done"] = True

    items = list(follow_jsonl(path, poll_seconds=1.0, idle_seconds=3.0, clock=clock, sleep=sleep))
    assert [item.id for item in items] == ["1", "2", "3"]
    assert items[1].text == "b"
    assert clock.now == pytest.approx(4.0)  # one wait for the writer, three idle


def test_follow_jsonl_waits_for_a_file_that_does_not_exist_yet(tmp_path: Path) -> None:
    clock = FakeClock()
    assert (
        list(follow_jsonl(tmp_path / "none.jsonl", idle_seconds=2, clock=clock, sleep=clock.sleep))
        == []
    )


def test_follow_jsonl_names_a_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": 1, "text": "a"}\nnot json\n')
    with pytest.raises(InvalidInputError, match="line 2"):
        list(follow_jsonl(path, idle_seconds=0))


def test_follow_jsonl_stops_on_the_event(tmp_path: Path) -> None:
    stop = threading.Event()
    stop.set()
    assert list(follow_jsonl(tmp_path / "x.jsonl", stop=stop)) == []


def test_poll_http_pages_with_a_cursor_and_drops_repeats() -> None:
    pages = {
        None: {"items": [{"id": 1, "text": "a"}, {"id": 2, "text": "b"}], "cursor": "c1"},
        "c1": [{"id": 2, "text": "b"}, {"id": 3, "text": "c"}],
        "3": [],
    }
    asked: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("after")
        asked.append(after)
        return httpx.Response(200, json=pages[after])

    clock = FakeClock()
    client = httpx.Client(transport=httpx.MockTransport(handler))
    items = list(
        poll_http(
            "http://feed/items", client=client, idle_seconds=2, clock=clock, sleep=clock.sleep
        )
    )
    assert [item.id for item in items] == ["1", "2", "3"]
    assert asked[:3] == [None, "c1", "3"]


def test_poll_http_reports_a_bad_endpoint() -> None:
    client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, json=5)))
    with pytest.raises(InvalidInputError, match="expected a list"):
        list(poll_http("http://feed/items", client=client))
    failing = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(500)))
    with pytest.raises(InvalidInputError, match="cannot read stream items"):
        list(poll_http("http://feed/items", client=failing))


def test_poll_http_against_a_real_server(tmp_path: Path) -> None:
    """A tiny HTTP server on 127.0.0.1 serving a JSON list."""
    import http.server

    body = json.dumps([{"id": "a", "text": "one"}, {"id": "b", "text": "two"}]).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/items"
        items = list(poll_http(url, poll_seconds=0.01, idle_seconds=0.05))
    finally:
        server.shutdown()
    assert [item.text for item in items] == ["one", "two"]
