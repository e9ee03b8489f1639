"""The few Label Studio API calls the backend makes, to the configured Label Studio only.

The backend reads a project (its label config), lists its tasks with their annotations (for the
resync and as the pool to score), imports predictions in bulk and sets the project's
``model_version`` (so "Uncertainty sampling" orders by the new predictions). Every call goes to
the ``--label-studio-url`` with the ``--label-studio-token`` (``Authorization: Token ...``;
``Bearer`` is tried once when Label Studio refuses it); no redirect is followed and each answer
is read up to :data:`MAX_ANSWER_BYTES`.

Endpoints (Label Studio 1.23):

* ``GET /api/projects/{id}`` -> the project (``label_config``, ``model_version`` ...)
* ``GET /api/tasks?project={id}&page={p}&page_size={n}&fields=all&include=id,data,annotations
  &expand=annotations`` -> ``{"tasks": [task with "annotations"], "total": N}``; pages past the
  end answer 404
* ``POST /api/projects/{id}/import/predictions`` with a list of ``{"task", "result", "score",
  "model_version"}``: one request for many tasks (``POST /api/predictions`` takes one)
* ``PATCH /api/projects/{id} {"model_version": ...}``
* ``GET /api/ml?project={id}`` -> the project's model connections (``url``, ``auth_method``,
  ``basic_auth_user``); ``GET /api/webhooks/?project={id}`` -> its webhooks (``id``, ``url``,
  ``headers``); ``PATCH /api/webhooks/{id}/ {"headers": ...}``
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
#: The fields a task listing asks for: without them Label Studio sends every prediction of
#: every task too (a 200-task project after 13 pushes: 1.1 MB and 5.5 s instead of 33 KB).
#: Label Studio 1.23 then lists annotations as ids only unless also asked to expand them.
TASK_FIELDS = "id,data,annotations"
#: Predictions sent per import request: Label Studio stores about 20-100 a second on a loaded
#: 2-core machine, so a request of 500 ends well within :data:`IMPORT_TIMEOUT`.
IMPORT_CHUNK = 500
#: Seconds one import request may take (a request that times out still runs in Label Studio).
IMPORT_TIMEOUT = 300.0


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
        self._timeout = timeout
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
        """Every task of the project with its ``annotations``, page by page.

        Asks for :data:`TASK_FIELDS` only (``include``, with ``expand=annotations`` for whole
        annotations); a Label Studio that answers annotations without their ``result`` is asked
        again for every field.
        """
        page = 1
        seen = 0
        narrow = True
        while True:
            params: dict[str, Any] = {
                "project": project,
                "page": page,
                "page_size": page_size,
                "fields": "all",
            }
            if narrow:
                params.update(include=TASK_FIELDS, expand="annotations")
            answer = self._call("GET", "/api/tasks", params=params, missing_ok=True)
            if answer is None:  # past the last page
                return
            tasks = answer.get("tasks") if isinstance(answer, Mapping) else answer
            if not isinstance(tasks, list):
                raise LabelStudioAPIError(f"Label Studio listed project {project}'s tasks oddly")
            if narrow and _stubs(tasks):
                narrow = False  # this Label Studio does not expand them: ask for everything
                continue
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
            path = f"/api/projects/{project}/import/predictions"
            self._call("POST", path, body=chunk, timeout=IMPORT_TIMEOUT)
        return len(predictions)

    def set_model_version(self, project: int, version: str) -> None:
        """Make ``version`` the project's ``model_version`` (the one sampling reads)."""
        self._call("PATCH", f"/api/projects/{project}", body={"model_version": version})

    def model_connections(self, project: int) -> list[dict[str, Any]]:
        """The project's ML backend connections (``url``, ``auth_method``, ``basic_auth_user``)."""
        return _objects(self._call("GET", "/api/ml", params={"project": project}))

    def webhooks(self, project: int) -> list[dict[str, Any]]:
        """The project's webhooks (``id``, ``url``, ``headers``)."""
        return _objects(self._call("GET", "/api/webhooks/", params={"project": project}))

    def set_webhook_headers(self, webhook: int, headers: Mapping[str, str]) -> None:
        """Replace the headers webhook ``webhook`` sends."""
        self._call("PATCH", f"/api/webhooks/{webhook}/", body={"headers": dict(headers)})

    # -- HTTP ---------------------------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        missing_ok: bool = False,
        timeout: float | None = None,
    ) -> Any:
        import httpx

        content = None if body is None else json.dumps(body).encode()
        for attempt in range(2):
            headers = {"Authorization": f"{self._scheme} {self._token}"}
            if content is not None:
                headers["Content-Type"] = "application/json"
            try:
                with self._http.stream(
                    method,
                    self.url + path,
                    params=params,
                    content=content,
                    headers=headers,
                    timeout=timeout if timeout is not None else self._timeout,
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


def _stubs(tasks: list[Any]) -> bool:
    """Whether a listing's annotations came without their ``result`` (ids only)."""
    return any(
        isinstance(annotation, Mapping) and "result" not in annotation
        for task in tasks
        if isinstance(task, Mapping)
        for annotation in task.get("annotations") or []
    )


def _objects(answer: Any) -> list[dict[str, Any]]:
    """The objects of a list answer (or of a paginated one's ``results``)."""
    found = answer.get("results") if isinstance(answer, Mapping) else answer
    if not isinstance(found, list):
        raise LabelStudioAPIError("Label Studio answered a listing with no list")
    return [item for item in found if isinstance(item, dict)]


def _read(response: Any, what: str) -> bytes:
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > MAX_ANSWER_BYTES:
            raise LabelStudioAPIError(f"Label Studio's answer to {what} is over {MAX_ANSWER_BYTES}")
    return bytes(body)
