"""Fetching a task's image the way Label Studio hands it over, and caching its features.

The ``<Image value="$image">`` field of a task holds one of:

* a path on the Label Studio server, ``/data/upload/1/abc.png``: fetched from the Label Studio
  URL the backend was configured with (``--label-studio-url``), with
  ``Authorization: Token <token>``;
* ``/data/local-files/?d=dir/abc.png``: read from ``LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT``
  when the backend knows it (never outside it), else fetched from Label Studio like an upload;
* an ``http(s)`` URL: fetched only when it is on the Label Studio URL (scheme, host and port);
* a ``data:image/...;base64,`` URI: decoded, nothing fetched.

Nothing else is fetched: no other scheme, no other host. Redirects are followed by hand, at
most :data:`MAX_REDIRECTS`, each only when it stays on the Label Studio URL. A response is read
in chunks and cut off past :data:`MAX_IMAGE_BYTES`, and the whole fetch, redirects included,
past ``timeout`` seconds. Without a configured Label Studio URL nothing is fetched over HTTP.
A value on another host raises :class:`~labelwise.server.labelstudio.security.ForeignHostError`
(the backend answers 403) before any request is sent; a failed fetch raises
:class:`ImageFetchError` (502); bytes that are no image or a value that cannot be fetched raise
:class:`~labelwise.errors.InvalidInputError` (422). Each names the task.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import numpy as np
from numpy.typing import NDArray

from labelwise.errors import InvalidInputError, LabelwiseError
from labelwise.server.labelstudio.security import require_same_origin

#: The most bytes one image may have.
MAX_IMAGE_BYTES = 20 * 1024 * 1024
#: The most redirects one image fetch follows (each on the Label Studio URL).
MAX_REDIRECTS = 5
LOCAL_FILES_PREFIX = "/data/local-files/"


class ImageFetchError(LabelwiseError):
    """A task's image could not be fetched from where it lives (answered with a 502)."""


@dataclass(frozen=True)
class ImageSource:
    """Where a project's images may come from.

    Parameters
    ----------
    hostname : the configured Label Studio base URL, the only host fetched from ("": none,
        nothing is fetched over HTTP).
    token : the API token for requests to ``hostname``.
    local_root : ``LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT``, or None.
    timeout : seconds for one image, redirects and reading included.
    max_bytes : the most bytes one image may have.
    """

    hostname: str = ""
    token: str = field(default="", repr=False)
    local_root: str | None = None
    timeout: float = 10.0
    max_bytes: int = MAX_IMAGE_BYTES


def fetch_image(value: Any, source: ImageSource, task: object) -> bytes:
    """The encoded bytes of a task's image value (see the module docstring for the forms)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"task {task} has no image: its value is {value!r}")
    value = value.strip()
    if value.startswith("data:"):
        return _data_uri(value, source.max_bytes, task)
    if value.startswith(LOCAL_FILES_PREFIX) and source.local_root:
        return _local_file(value, source.local_root, source.max_bytes, task)
    if value.startswith("/") and not value.startswith("//"):
        if not source.hostname:
            raise InvalidInputError(
                f"task {task}'s image {value!r} is a path on the Label Studio server, but this "
                "backend has no Label Studio URL to fetch it from: start it with "
                "--label-studio-url (or LABEL_STUDIO_URL)"
            )
        return _http(source.hostname.rstrip("/") + value, source, task)
    if urlsplit(value).scheme.lower() in ("http", "https"):
        require_same_origin(value, source.hostname, f"task {task}'s image")
        return _http(value, source, task)
    raise InvalidInputError(
        f"task {task}'s image {value[:80]!r} is neither a Label Studio path, an http(s) URL "
        "nor a data: URI; labelwise fetches no other kind"
    )


def _data_uri(value: str, max_bytes: int, task: object) -> bytes:
    head, sep, payload = value.partition(",")
    if not sep or not head.endswith(";base64"):
        raise InvalidInputError(f"task {task}'s data: URI is not 'data:<type>;base64,<data>'")
    if len(payload) > (max_bytes + 2) // 3 * 4:
        raise InvalidInputError(f"task {task}'s data: URI image is over {max_bytes} bytes")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInputError(f"task {task}'s data: URI is not valid base64: {exc}") from None


def _local_file(value: str, root: str, max_bytes: int, task: object) -> bytes:
    relative = parse_qs(urlsplit(value).query).get("d", [""])[0]
    base = Path(root).resolve()
    path = (base / relative).resolve()
    if not relative or not path.is_relative_to(base):
        raise InvalidInputError(
            f"task {task}'s image {value!r} does not name a file under the local files root"
        )
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise ImageFetchError(f"cannot read task {task}'s image {value!r}: {exc}") from None
    if len(data) > max_bytes:
        raise InvalidInputError(f"task {task}'s image {value!r} is over {max_bytes} bytes")
    return data


def _http(url: str, source: ImageSource, task: object) -> bytes:
    """GET ``url`` on the Label Studio URL: redirects checked hop by hop, size and time cut."""
    import httpx

    headers = {"Authorization": f"Token {source.token}"} if source.token else {}
    deadline = time.monotonic() + source.timeout
    with httpx.Client(follow_redirects=False, timeout=source.timeout) as client:
        for _ in range(MAX_REDIRECTS + 1):
            require_same_origin(url, source.hostname, f"task {task}'s image")
            shown = urlsplit(url)._replace(query="", fragment="").geturl()
            if time.monotonic() > deadline:
                raise ImageFetchError(f"task {task}'s image {shown} took over {source.timeout} s")
            try:
                with client.stream("GET", url, headers=headers) as response:
                    if response.is_redirect:
                        url = urljoin(url, response.headers["location"])
                        continue
                    if response.status_code != 200:
                        hint = (
                            " (is the token right?)" if response.status_code in (401, 403) else ""
                        )
                        raise ImageFetchError(
                            f"cannot fetch task {task}'s image {shown}: HTTP "
                            f"{response.status_code}{hint}"
                        )
                    return _read_bounded(response, source, deadline, f"task {task}'s image {shown}")
            except httpx.HTTPError as exc:
                raise ImageFetchError(f"cannot fetch task {task}'s image {shown}: {exc}") from None
    raise ImageFetchError(f"task {task}'s image redirects more than {MAX_REDIRECTS} times")


def _read_bounded(response: Any, source: ImageSource, deadline: float, what: str) -> bytes:
    """The body of ``response``, read in chunks and cut off past the size or time limit."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > source.max_bytes:
        raise ImageFetchError(f"{what} is over {source.max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > source.max_bytes:
            raise ImageFetchError(f"{what} is over {source.max_bytes} bytes")
        if time.monotonic() > deadline:
            raise ImageFetchError(f"{what} took over {source.timeout} s")
        chunks.append(chunk)
    return b"".join(chunks)


FeatureFunction = Callable[[bytes], NDArray[np.floating[Any]]]


class FeatureCache:
    """Features per task id, kept while the task's image value stays the same (LRU bound)."""

    def __init__(self, max_items: int = 20_000) -> None:
        self.max_items = max_items
        self._held: OrderedDict[int, tuple[str, NDArray[np.float64]]] = OrderedDict()

    @staticmethod
    def _digest(value: str) -> str:
        return hashlib.sha256(value.encode()).hexdigest()

    def get(self, task_id: int, value: str) -> NDArray[np.float64] | None:
        """The cached features of ``task_id`` if its value is still ``value``, else None."""
        held = self._held.get(task_id)
        if held is None or held[0] != self._digest(value):
            return None
        self._held.move_to_end(task_id)
        return held[1]

    def put(self, task_id: int, value: str, features: NDArray[np.float64]) -> None:
        """Remember ``features`` for ``task_id`` with image value ``value``."""
        self._held[task_id] = (self._digest(value), features)
        self._held.move_to_end(task_id)
        while len(self._held) > self.max_items:
            self._held.popitem(last=False)

    def __len__(self) -> int:
        return len(self._held)


def image_features(
    value: Any,
    task: object,
    source: ImageSource,
    featurize: FeatureFunction,
) -> NDArray[np.float64]:
    """Fetch a task's image and turn it into a 1-D float vector with ``featurize``."""
    data = fetch_image(value, source, task)
    try:
        features = np.asarray(featurize(data), dtype=np.float64)
    except InvalidInputError as exc:
        raise InvalidInputError(f"task {task}'s image {_short(value)}: {exc}") from None
    if features.ndim != 1 or not np.all(np.isfinite(features)):
        raise InvalidInputError(
            f"the image features of task {task} must be a finite 1-D vector, got shape "
            f"{features.shape}"
        )
    return features


def _short(value: Any) -> str:
    text = str(value)
    return repr(text if len(text) <= 60 else text[:57] + "...")
