"""Where stream items come from: an iterable, a JSONL file read as it grows, an HTTP endpoint.

Each source is a generator of :class:`~labelwise.stream.items.StreamItem` that a
:class:`~labelwise.stream.runner.StreamRun` consumes one item at a time. The file and HTTP
sources wait for new items; they end after ``idle_seconds`` without one (``None``: never) or
when ``stop`` is set.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from labelwise.errors import InvalidInputError
from labelwise.stream.items import StreamItem, item_from_record


def from_iterable(records: Iterable[Any]) -> Iterator[StreamItem]:
    """Items from any iterable of JSON-like objects (or of :class:`StreamItem`)."""
    for position, record in enumerate(records):
        yield item_from_record(record, position)


def follow_jsonl(
    path: str | Path,
    *,
    poll_seconds: float = 0.5,
    idle_seconds: float | None = None,
    stop: threading.Event | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[StreamItem]:
    """Items of a JSONL file, one per line, including lines appended while reading (``tail -f``).

    A last line without its newline is left until the writer finishes it; blank lines are
    skipped. A line that is not JSON raises :class:`InvalidInputError` naming the line.

    Parameters
    ----------
    path : the file; it may not exist yet (the source waits for it).
    poll_seconds : pause between looks at a file that has not grown.
    idle_seconds : end after this long without a new line (None: follow forever).
    stop : end as soon as this event is set.
    """
    path = Path(path)
    offset = 0
    line_number = 0
    pending = b""
    last_new = clock()
    while stop is None or not stop.is_set():
        chunk = b""
        if path.exists():
            with path.open("rb") as handle:
                handle.seek(offset)
                chunk = handle.read()
            offset += len(chunk)
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        for raw in lines:
            line_number += 1
            if not raw.strip():
                continue
            yield item_from_record(_json_line(raw, path, line_number), line_number)
        if lines:
            last_new = clock()
            continue
        if idle_seconds is not None and clock() - last_new >= idle_seconds:
            return
        sleep(poll_seconds)


def _json_line(raw: bytes, path: Path, line_number: int) -> Any:
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path}, line {line_number}: not a JSON object ({exc})") from None


def poll_http(
    url: str,
    *,
    poll_seconds: float = 1.0,
    idle_seconds: float | None = None,
    stop: threading.Event | None = None,
    client: Any = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[StreamItem]:
    """Items fetched by polling ``GET url?after=<cursor>`` with httpx.

    The endpoint answers a JSON list of items, or ``{"items": [...], "cursor": c}``; the next
    poll sends ``after=c`` (without a cursor: the id of the last item). Items whose id was seen
    already are dropped, so an endpoint that ignores ``after`` still yields each item once.

    Parameters
    ----------
    client : an ``httpx.Client`` (default: a new one with a 10 s timeout).
    """
    import httpx

    own = client is None
    session = httpx.Client(timeout=10.0) if own else client
    seen: set[str] = set()
    cursor: str | None = None
    last_new = clock()
    try:
        while stop is None or not stop.is_set():
            params = {} if cursor is None else {"after": cursor}
            try:
                response = session.get(url, params=params)
                response.raise_for_status()
                body = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise InvalidInputError(f"cannot read stream items from {url}: {exc}") from None
            records, next_cursor = _page(body, url)
            fresh = 0
            for position, record in enumerate(records):
                item = item_from_record(record, position)
                cursor = item.id
                if item.id in seen:
                    continue
                seen.add(item.id)
                fresh += 1
                yield item
            if next_cursor is not None:
                cursor = next_cursor
            if fresh:
                last_new = clock()
                continue
            if idle_seconds is not None and clock() - last_new >= idle_seconds:
                return
            sleep(poll_seconds)
    finally:
        if own:
            session.close()


def _page(body: Any, url: str) -> tuple[list[Any], str | None]:
    if isinstance(body, list):
        return body, None
    if isinstance(body, dict) and isinstance(body.get("items"), list):
        cursor = body.get("cursor")
        return body["items"], None if cursor is None else str(cursor)
    raise InvalidInputError(
        f"{url} answered {type(body).__name__}: expected a list of items or {{'items': [...]}}"
    )
