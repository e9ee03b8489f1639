"""Fetching a task's image the way Label Studio hands it over, and caching its features.

The ``<Image value="$image">`` field of a task holds one of:

* a path on the Label Studio server, ``/data/upload/1/abc.png``: fetched from the ``hostname``
  that ``/setup`` gave, with ``Authorization: Token <access_token>``;
* ``/data/local-files/?d=dir/abc.png``: read from ``LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT``
  when the backend knows it (never outside it), else fetched from the hostname like an upload;
* an ``http(s)`` URL: fetched as given, with the token only when the URL is on the hostname;
* a ``data:image/...;base64,`` URI: decoded, nothing fetched.

Nothing else is fetched: no other scheme, no redirect. A failed fetch raises
:class:`ImageFetchError` (the backend answers 502), bytes that are no image or a value that
cannot be fetched raise :class:`~labelwise.errors.InvalidInputError` (422); both name the task.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
from numpy.typing import NDArray

from labelwise.errors import InvalidInputError, LabelwiseError

#: The most bytes one image may have.
MAX_IMAGE_BYTES = 32 * 1024 * 1024
LOCAL_FILES_PREFIX = "/data/local-files/"


class ImageFetchError(LabelwiseError):
    """A task's image could not be fetched from where it lives (answered with a 502)."""


@dataclass(frozen=True)
class ImageSource:
    """Where a project's images may come from.

    Parameters
    ----------
    hostname : Label Studio's base URL, as ``/setup`` sent it ("" when unknown).
    token : the access token ``/setup`` sent, for requests to ``hostname``.
    local_root : ``LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT``, or None.
    timeout : seconds for one request.
    """

    hostname: str = ""
    token: str = ""
    local_root: str | None = None
    timeout: float = 10.0


def fetch_image(value: Any, source: ImageSource, task: object) -> bytes:
    """The encoded bytes of a task's image value (see the module docstring for the forms)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"task {task} has no image: its value is {value!r}")
    value = value.strip()
    if value.startswith("data:"):
        return _data_uri(value, task)
    if value.startswith(LOCAL_FILES_PREFIX) and source.local_root:
        return _local_file(value, source.local_root, task)
    if value.startswith("/"):
        if not source.hostname:
            raise InvalidInputError(
                f"task {task}'s image {value!r} is a path on the Label Studio server, but no "
                "hostname is known: Label Studio sends it in /setup (set LABEL_STUDIO_HOST)"
            )
        return _http(source.hostname.rstrip("/") + value, source, task)
    if urlsplit(value).scheme in ("http", "https"):
        return _http(value, source, task)
    raise InvalidInputError(
        f"task {task}'s image {value[:80]!r} is neither a Label Studio path, an http(s) URL "
        "nor a data: URI; labelwise fetches no other kind"
    )


def _data_uri(value: str, task: object) -> bytes:
    head, sep, payload = value.partition(",")
    if not sep or not head.endswith(";base64"):
        raise InvalidInputError(f"task {task}'s data: URI is not 'data:<type>;base64,<data>'")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInputError(f"task {task}'s data: URI is not valid base64: {exc}") from None


def _local_file(value: str, root: str, task: object) -> bytes:
    relative = parse_qs(urlsplit(value).query).get("d", [""])[0]
    base = Path(root).resolve()
    path = (base / relative).resolve()
    if not relative or not path.is_relative_to(base):
        raise InvalidInputError(
            f"task {task}'s image {value!r} does not name a file under the local files root"
        )
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ImageFetchError(f"cannot read task {task}'s image {value!r}: {exc}") from None


def _same_origin(url: str, hostname: str) -> bool:
    if not hostname:
        return False
    a, b = urlsplit(url), urlsplit(hostname)
    return (a.scheme, a.netloc.lower()) == (b.scheme, b.netloc.lower())


def _http(url: str, source: ImageSource, task: object) -> bytes:
    import httpx

    headers = {}
    if source.token and _same_origin(url, source.hostname):
        headers["Authorization"] = f"Token {source.token}"
    shown = urlsplit(url)._replace(query="", fragment="").geturl()
    try:
        response = httpx.get(url, headers=headers, timeout=source.timeout)
    except httpx.HTTPError as exc:
        raise ImageFetchError(f"cannot fetch task {task}'s image {shown}: {exc}") from None
    if response.status_code != 200:
        raise ImageFetchError(
            f"cannot fetch task {task}'s image {shown}: HTTP {response.status_code}"
            + (" (is the access token right?)" if response.status_code in (401, 403) else "")
        )
    if len(response.content) > MAX_IMAGE_BYTES:
        raise ImageFetchError(f"task {task}'s image {shown} is over {MAX_IMAGE_BYTES} bytes")
    return response.content


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
