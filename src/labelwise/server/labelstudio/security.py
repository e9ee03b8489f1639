"""Who may talk to the ML backend, and whom the backend may talk to.

Three guards, each in one place:

* **HTTP basic auth** (:class:`BasicAuth`, :class:`BasicAuthGuard`): the username and password
  set on the backend and entered in Label Studio's model settings (Authentication: Basic).
  Once configured, every route but the health check (``GET /health`` and ``GET /``) answers
  401 with ``WWW-Authenticate: Basic`` to a request without them; the check runs before the
  body is read, and compares SHA-256 digests with :func:`hmac.compare_digest` (constant time).
* **One Label Studio** (:func:`label_studio_access`, :func:`require_same_origin`): the backend
  sends requests (image fetches, the project's ``model_version``) only to the Label Studio URL
  it was configured with; a ``/setup`` naming another host, a task file elsewhere and a
  redirect elsewhere are refused with :class:`ForeignHostError` (403) before anything is sent.
  Without a configured URL the backend sends no request at all: images come only from
  ``data:`` URIs and the local files root.
* **Bounded bodies** (:class:`BodyLimit`): a request body over the limit is cut off and
  answered 413, whether it declares its length or streams in chunks.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
from collections.abc import Awaitable, Callable, Container, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from labelwise.errors import InvalidInputError, LabelwiseError

#: Routes that answer without credentials: Label Studio's connection check.
OPEN_PATHS = frozenset({"/", "/health"})
#: Request bodies over this many bytes are refused with 413 (bulk "retrieve predictions" of
#: 2,000 tasks is about 1 MB; data-URI images make tasks larger).
MAX_BODY_BYTES = 32 * 1024 * 1024
REALM = "labelwise ML backend"
_DEFAULT_PORTS = {"http": 80, "https": 443}

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class ForeignHostError(LabelwiseError):
    """A request would make the backend reach a host other than its Label Studio (403)."""


class UnknownProjectError(LabelwiseError):
    """A webhook for a project that no ``/setup`` connected to this backend (404)."""


# -- the Label Studio the backend talks to --------------------------------------------------------
def origin(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of an http(s) URL, lower-cased, default port filled in.

    Examples
    --------
    >>> origin("HTTP://LocalHost/api") == origin("http://localhost:80")
    True
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        raise InvalidInputError(f"{url!r} has an invalid port") from None
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise InvalidInputError(f"{url!r} is not an http(s) URL with a host")
    return scheme, parts.hostname.lower().rstrip("."), port or _DEFAULT_PORTS[scheme]


def same_origin(url: str, base: str) -> bool:
    """Whether ``url`` is on the scheme, host and port of ``base`` (False for non-URLs)."""
    try:
        return origin(url) == origin(base)
    except InvalidInputError:
        return False


def check_label_studio_url(url: str) -> None:
    """Refuse a configured Label Studio URL that is not a plain http(s) base URL."""
    origin(url)
    parts = urlsplit(url.strip())
    if parts.username or parts.password or parts.query or parts.fragment:
        raise InvalidInputError(
            f"the Label Studio URL {url!r} must be a base URL like http://host:8080, without "
            "credentials, query or fragment (pass the token with --label-studio-token)"
        )


def require_same_origin(url: str, base: str, what: str) -> None:
    """Raise :class:`ForeignHostError` unless ``url`` is on ``base`` (the Label Studio URL)."""
    if not base:
        raise ForeignHostError(
            f"{what} is on {_shown(url)}, but this backend has no Label Studio URL configured "
            "and sends no request anywhere: start it with --label-studio-url (or "
            "LABEL_STUDIO_URL), or serve the data as a data: URI or from the local files root"
        )
    if not same_origin(url, base):
        raise ForeignHostError(
            f"{what} is on {_shown(url)}, not on this backend's Label Studio {_shown(base)}: "
            "labelwise sends requests only to the Label Studio it was started with "
            "(--label-studio-url)"
        )


def label_studio_access(
    configured_url: str | None, configured_token: str | None, hostname: str, token: str
) -> tuple[str, str]:
    """The Label Studio URL and token a ``/setup`` leaves the backend with.

    Parameters
    ----------
    configured_url, configured_token : the backend's configuration (None: not set).
    hostname, token : what the ``/setup`` body says.

    Returns
    -------
    (url, token) : the configured URL, and the configured token or else the body's; ``("",
    "")`` without a configured URL: the body's hostname and token are then ignored.

    Raises
    ------
    ForeignHostError
        When the body names a hostname whose origin is not the configured URL's.
    """
    if not configured_url:
        return "", ""
    if hostname and not same_origin(hostname, configured_url):
        raise ForeignHostError(
            f"/setup names Label Studio at {_shown(hostname)}, but this backend talks only to "
            f"{_shown(configured_url)} (--label-studio-url): set Label Studio's LABEL_STUDIO_HOST "
            "or the backend's --label-studio-url so that they agree"
        )
    return configured_url.rstrip("/"), configured_token or token


def require_connected(store: Any, ls_id: int, held: Container[int]) -> None:
    """Raise :class:`UnknownProjectError` unless project ``ls_id`` was connected by ``/setup``.

    ``held`` are the projects in memory; the store keeps every project connected before.
    """
    if ls_id in held:
        return
    from labelwise.server.labelstudio.state import store_project_name
    from labelwise.store import NotFoundError, get_project

    try:
        get_project(store, store_project_name(ls_id))
    except NotFoundError:
        raise UnknownProjectError(
            f"project {ls_id} is not connected to this backend: Label Studio connects a "
            "project with /setup before it sends its webhooks"
        ) from None


def _shown(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme and parts.netloc:
        host = parts.netloc.rsplit("@", 1)[-1]
        return f"{parts.scheme}://{host}{parts.path}"[:120]
    return repr(url[:120])


# -- who may talk to the backend ------------------------------------------------------------------
@dataclass(frozen=True)
class BasicAuth:
    """The backend's HTTP basic auth credentials.

    Parameters
    ----------
    user : the username (no ``:``, as RFC 7617 requires).
    password : the password.
    """

    user: str
    password: str = field(repr=False)

    def __post_init__(self) -> None:
        if not self.user or not self.password:
            raise InvalidInputError(
                "basic auth needs both a username and a password (--basic-auth-user and "
                "--basic-auth-pass)"
            )
        if ":" in self.user:
            raise InvalidInputError("the basic auth username must not contain ':'")

    def accepts(self, authorization: str | None) -> bool:
        """Whether an ``Authorization`` header carries these credentials (constant time)."""
        scheme, _, encoded = (authorization or "").strip().partition(" ")
        user, password = b"", b""
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(encoded.strip(), validate=True)
            except (binascii.Error, ValueError):
                decoded = b""
            user, _, password = decoded.partition(b":")
        user_ok = _equal(user, self.user.encode())
        password_ok = _equal(password, self.password.encode())
        return user_ok & password_ok & (scheme.lower() == "basic")


def _equal(given: bytes, expected: bytes) -> bool:
    # digests of equal length: the comparison reveals neither the value nor its length
    return hmac.compare_digest(hashlib.sha256(given).digest(), hashlib.sha256(expected).digest())


def is_loopback(host: str) -> bool:
    """Whether binding to ``host`` keeps the backend on this machine."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str, auth: BasicAuth | None) -> str | None:
    """The start-up warning for a backend without credentials reachable from elsewhere."""
    if auth is not None or is_loopback(host):
        return None
    return (
        f"the ML backend listens on {host} without authentication: anyone who can reach it "
        "can post annotations that train the model and read its predictions. Set "
        "--basic-auth-user/--basic-auth-pass (or LABELWISE_ML_BASIC_AUTH_USER/_PASS) and the "
        "same credentials in Label Studio's model settings (Authentication: Basic)."
    )


async def _send_json(send: Send, status: int, body: dict[str, Any], headers: list[Any]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class BasicAuthGuard:
    """ASGI middleware: every request but the health check needs ``auth``'s credentials."""

    def __init__(self, app: ASGIApp, auth: BasicAuth) -> None:
        self.app = app
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        header = dict(scope.get("headers") or []).get(b"authorization")
        given = header.decode("latin-1") if header is not None else None
        if self.auth.accepts(given):
            await self.app(scope, receive, send)
            return
        detail = (
            "wrong username or password for this Label Studio ML backend"
            if given
            else "this Label Studio ML backend needs HTTP basic auth: enter its username and "
            "password in Label Studio's model settings (Authentication: Basic)"
        )
        challenge = f'Basic realm="{REALM}", charset="UTF-8"'.encode()
        await _send_json(send, 401, {"detail": detail}, [(b"www-authenticate", challenge)])


class BodyLimit:
    """ASGI middleware: request bodies over ``max_bytes`` are answered 413, never read whole."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _detail(self) -> str:
        return (
            f"the request body is over this backend's limit of {self.max_bytes} bytes: send "
            "fewer tasks per request (or raise --max-body-mb)"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _send_json(send, 413, {"detail": self._detail()}, [(b"connection", b"close")])
            return
        from fastapi import HTTPException

        seen = 0

        async def bounded() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # FastAPI passes an HTTPException raised while it reads the body through
                    raise HTTPException(status_code=413, detail=self._detail())
            return message

        await self.app(scope, bounded, send)
