"""The few Label Studio API calls the backend makes, to the configured Label Studio only.

The backend reads a project (its label config), lists its tasks with their annotations (for the
resync and as the pool to score), imports predictions in bulk and sets the project's
``model_version`` (so "Uncertainty sampling" orders by the new predictions). Every call goes to
the ``--label-studio-url`` with the ``--label-studio-token`` (``Authorization: Token ...``;
``Bearer`` is tried once when Label Studio refuses it); no redirect is followed and each answer
is read up to :data:`MAX_ANSWER_BYTES`.

Endpoints (Label Studio 1.23):

* ``GET /api/projects/{id}`` -> the project (``label_config``, ``model_version`` ...)
* ``GET /api/tasks?project={id}&page={p}&page_size={n}&fields=all`` ->
  ``{"tasks": [task with "annotations"], "total": N}``; pages past the end answer 404
* ``POST /api/projects/{id}/import/predictions`` with a list of ``{"task", "result", "score",
  "model_version"}``: one request for many tasks (``POST /api/predictions`` takes one)
* ``PATCH /api/projects/{id} {"model_version": ...}``
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from labelwise.errors import LabelwiseError

logger = logging.getLogger(__name__)

#: The most bytes read of one answer (a page of 1,000 tasks with annotations is a few MB).
MAX_ANSWER_BYTES = 64 * 1024 * 1024
#: Tasks asked per page when listing a project's tasks.
PAGE_SIZE = 1000
#: Predictions sent per import request.
IMPORT_CHUNK = 2000


class LabelStudioAPIError(LabelwiseError):
    """Label Studio's API answered with an error, or could not be reached."""


class LabelStudioClient:
    """Calls to one Label Studio, with one token.

    Parameters
    ----------
    url : the Label Studio base URL (``--label-studio-url``), already checked.
    token : its API token (``--label-studio-token``).
    timeout : seconds per request.
    """

    def __init__(self, url: str, token: str, timeout: float = 30.0) -> None:
        import httpx

        self.url = url.rstrip("/")
        self._token = token
        self._scheme = "Token"
        self._http = httpx.Client(follow_redirects=False, timeout=timeout)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    # -- calls --------------------------------------------------------------------------------
    def get_project(self, project: int) -> dict[str, Any]:
        """The project object (``label_config``, ``model_version``...)."""
        found = self._call("GET", f"/api/projects/{project}")
        if not isinstance(found, dict):
            raise LabelStudioAPIError(f"Label Studio answered project {project} with no object")
        return found

    def iter_tasks(self, project: int, page_size: int = PAGE_SIZE) -> Iterator[dict[str, Any]]:
        """Every task of the project with its ``annotations``, page by page."""
        page = 1
        seen = 0
        while True:
            answer = self._call(
                "GET",
                "/api/tasks",
                params={
                    "project": project,
                    "page": page,
                    "page_size": page_size,
                    "fields": "all",
                },
                missing_ok=True,
            )
            if answer is None:  # past the last page
                return
            tasks = answer.get("tasks") if isinstance(answer, Mapping) else answer
            if not isinstance(tasks, list):
                raise LabelStudioAPIError(f"Label Studio listed project {project}'s tasks oddly")
            yield from (task for task in tasks if isinstance(task, dict))
            seen += len(tasks)
            total = answer.get("total") if isinstance(answer, Mapping) else None
            if not tasks or len(tasks) < page_size or (isinstance(total, int) and seen >= total):
                return
            page += 1

    def import_predictions(self, project: int, predictions: Sequence[Mapping[str, Any]]) -> int:
        """Create predictions for many tasks at once; returns how many were sent."""
        for start in range(0, len(predictions), IMPORT_CHUNK):
            chunk = list(predictions[start : start + IMPORT_CHUNK])
            self._call("POST", f"/api/projects/{project}/import/predictions", body=chunk)
        return len(predictions)

    def set_model_version(self, project: int, version: str) -> None:
        """Make ``version`` the project's ``model_version`` (the one sampling reads)."""
        self._call("PATCH", f"/api/projects/{project}", body={"model_version": version})

    # -- HTTP ---------------------------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        missing_ok: bool = False,
    ) -> Any:
        import httpx

        content = None if body is None else json.dumps(body).encode()
        for attempt in range(2):
            headers = {"Authorization": f"{self._scheme} {self._token}"}
            if content is not None:
                headers["Content-Type"] = "application/json"
            try:
                with self._http.stream(
                    method, self.url + path, params=params, content=content, headers=headers
                ) as response:
                    if response.status_code in (401, 403) and attempt == 0:
                        self._scheme = "Bearer" if self._scheme == "Token" else "Token"
                        continue
                    if response.status_code == 404 and missing_ok:
                        return None
                    raw = _read(response, f"{method} {path}")
            except httpx.HTTPError as exc:
                raise LabelStudioAPIError(
                    f"cannot reach Label Studio at {self.url} ({method} {path}): {exc}"
                ) from None
            if response.status_code >= 400:
                refused = response.status_code in (401, 403)
                hint = " (is --label-studio-token right?)" if refused else ""
                raise LabelStudioAPIError(
                    f"Label Studio answered {method} {path} with HTTP {response.status_code}"
                    f"{hint}: {raw[:300].decode('utf-8', 'replace')}"
                )
            if not raw.strip():
                return {}
            try:
                return json.loads(raw)
            except ValueError:
                raise LabelStudioAPIError(
                    f"Label Studio answered {method} {path} with something that is not JSON"
                ) from None
        raise LabelStudioAPIError("unreachable")  # pragma: no cover


def _read(response: Any, what: str) -> bytes:
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > MAX_ANSWER_BYTES:
            raise LabelStudioAPIError(f"Label Studio's answer to {what} is over {MAX_ANSWER_BYTES}")
    return bytes(body)
