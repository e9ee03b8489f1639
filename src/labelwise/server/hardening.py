"""What the server does to every request before a route sees it, and to every answer.

* :class:`BodyLimit`: a request body larger than its limit is refused with 413, before it is
  read when ``Content-Length`` says so, else as soon as the bytes received pass the limit; the
  import upload has a limit of its own (it is streamed to a temporary file, not held in memory).
* :class:`SecurityHeaders`: a Content-Security-Policy with no inline script or style, no
  framing, no MIME sniffing and no referrer, on every response.
* :class:`FailedTokens`: wrong tokens per client address in a sliding minute; past the limit,
  that address gets 429 with ``Retry-After`` until its oldest failure leaves the window.
* :func:`invalid_fields`: a validation error as the list of fields that were wrong, without
  the values sent (no echo of a payload, no NaN that JSON cannot write).

The two middlewares are plain ASGI (no ``BaseHTTPMiddleware``): a function call per message on
the annotators' hot path, no extra task.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "UPLOAD_PATH",
    "BodyLimit",
    "FailedTokens",
    "SecurityHeaders",
    "invalid_fields",
]

#: The pages load their script, style and images from this server only; images also from
#: ``blob:`` (the pages fetch them with the token and show them as blobs).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
#: The route whose body is a file upload (the import), with its own size limit.
UPLOAD_PATH = re.compile(r"/api/admin/projects/[^/]+/import")
#: Longest part of a field's location repeated in an error (a key of the payload).
_LOC_CHARS = 100


class SecurityHeaders:
    """Add the security headers to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuse request bodies over ``max_body_bytes`` (uploads: ``max_upload_bytes``) with 413.

    A body within its ``Content-Length`` but over the limit is cut off as it arrives: the
    route's read raises ``HTTPException(413)``, which the app's handler answers.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = UPLOAD_PATH.fullmatch(scope["path"]) is not None
        limit = self.max_upload_bytes if upload else self.max_body_bytes
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse_too_large(send, limit)
            return
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, _too_large_detail(limit))
            return message

        await self.app(scope, receive_within_limit, send)


def _content_length(scope: Scope) -> int | None:
    for key, value in scope["headers"]:
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _too_large_detail(limit: int) -> str:
    return f"the request body is larger than this server accepts ({limit} bytes)"


async def _refuse_too_large(send: Send, limit: int) -> None:
    """Answer 413 without reading the body (``Content-Length`` already says it is too large)."""
    body = json.dumps({"detail": _too_large_detail(limit)}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class FailedTokens:
    """Wrong tokens per client address in the last ``window_seconds``; thread-safe.

    Parameters
    ----------
    limit : int
        Failures an address may have in the window; one more and it must wait.
    window_seconds : float
        The sliding window.
    max_addresses : int
        Addresses remembered at most; past it, those whose failures all left the window are
        forgotten first, then the oldest.
    """

    def __init__(
        self, limit: int, window_seconds: float = 60.0, *, max_addresses: int = 10_000
    ) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self.max_addresses = max_addresses
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, address: str, now: float | None = None) -> int:
        """Seconds ``address`` must wait before its next try (0: it may try now)."""
        failures = self._failures.get(address)
        if failures is None:
            return 0
        now = time.monotonic() if now is None else now
        with self._lock:
            self._forget_old(failures, now)
            if len(failures) < self.limit:
                return 0
            return max(1, math.ceil(failures[0] + self.window_seconds - now))

    def failed(self, address: str, now: float | None = None) -> None:
        """Count a wrong token from ``address``."""
        now = time.monotonic() if now is None else now
        with self._lock:
            failures = self._failures.get(address)
            if failures is None:
                if len(self._failures) >= self.max_addresses:
                    self._make_room(now)
                failures = self._failures[address] = deque()
            self._forget_old(failures, now)
            failures.append(now)
            while len(failures) > self.limit:  # only the newest `limit` decide the wait
                failures.popleft()

    def _forget_old(self, failures: deque[float], now: float) -> None:
        while failures and failures[0] <= now - self.window_seconds:
            failures.popleft()

    def _make_room(self, now: float) -> None:
        for address in [a for a, f in self._failures.items() if f[-1] <= now - self.window_seconds]:
            del self._failures[address]
        while len(self._failures) >= self.max_addresses:
            del self._failures[next(iter(self._failures))]


def invalid_fields(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Each validation error as ``{"loc", "msg", "type"}``: where, what, never the value sent."""
    return [
        {
            "loc": [
                part if isinstance(part, int) else str(part)[:_LOC_CHARS]
                for part in error.get("loc", ())
            ],
            "msg": str(error.get("msg", "invalid")),
            "type": str(error.get("type", "value_error")),
        }
        for error in errors
    ]
