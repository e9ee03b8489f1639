"""A small HTTP server that answers the backend's API calls as Label Studio 1.23 does.

It covers what the backend asks of Label Studio (see
:mod:`labelwise.server.labelstudio.client`), with Label Studio's shapes: ``GET
/api/projects/<id>``, ``PATCH /api/projects/<id>``, ``GET /api/tasks?project=&page=&page_size=
&fields=all`` (``{"tasks", "total"}``, 404 past the last page), ``POST
/api/projects/<id>/import/predictions`` (400 for a task of another project, 201 ``{"created"}``).
Every call needs ``Authorization: Token <token>`` (401 otherwise). Tests annotate tasks in it
directly, as annotators would in Label Studio, and read what the backend pushed.

The shapes are those a real Label Studio 1.23.2 answered in ``benchmarks/labelstudio_e2e.py``'s
run: the task listing's ``{"total_annotations", "total_predictions", "total", "tasks"}``, 404
``"Invalid page."`` past the end, 400 for a prediction of a task not in the project, 201
``{"created": n}`` (also for an empty list), 401 ``"Invalid token."``.

A test can hold a call on the server with :meth:`FakeLabelStudio.gate`: the request waits until
the gate is released, so the backend's trainer thread, which makes the call, is provably busy.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "fake-ls-token-0123456789abcdef"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that hung up: fine
            super().handle_error(request, client_address)


class Gate:
    """Holds every request whose path starts with ``prefix`` until :meth:`release`."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.entered = threading.Event()  # a request is waiting at the gate
        self._open = threading.Event()

    def wait(self) -> None:
        self.entered.set()
        if not self._open.wait(60):
            raise TimeoutError(f"gate {self.prefix} was never released")

    def release(self) -> None:
        self._open.set()

    @property
    def released(self) -> bool:
        return self._open.is_set()


class FakeLabelStudio:
    """Projects, tasks, annotations and predictions, served over HTTP on 127.0.0.1."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.projects: dict[int, dict[str, Any]] = {}
        self.tasks: dict[int, dict[str, Any]] = {}
        self.predictions: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        self.gates: list[Gate] = []
        self.models: list[dict[str, Any]] = []  # model connections (POST /api/ml)
        self.webhooks: dict[int, dict[str, Any]] = {}
        self.expands = True  # False: a Label Studio that ignores expand=annotations
        self._next_annotation = 1000
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, body: Any) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _handle(self, method: str) -> None:
                parts = urlsplit(self.path)
                owner.requests.append((method, parts.path))
                if self.headers.get("Authorization") != f"Token {owner.token}":
                    self._answer(401, {"detail": "Invalid token."})
                    return
                for gate in list(owner.gates):
                    if parts.path.startswith(gate.prefix) and not gate.released:
                        gate.wait()
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                status, answer = owner.route(method, parts.path, parse_qs(parts.query), body)
                self._answer(status, answer)

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_PATCH(self) -> None:
                self._handle("PATCH")

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # -- life ---------------------------------------------------------------------------------
    def start(self) -> FakeLabelStudio:
        self._thread.start()
        return self

    def close(self) -> None:
        for gate in self.gates:
            gate.release()
        self.httpd.shutdown()
        self.httpd.server_close()

    def gate(self, prefix: str) -> Gate:
        """Hold the calls to paths starting with ``prefix`` until the gate is released."""
        found = Gate(prefix)
        self.gates.append(found)
        return found

    # -- what annotators and admins do --------------------------------------------------------
    def add_project(self, project_id: int, label_config: str) -> None:
        self.projects[project_id] = {
            "id": project_id,
            "title": f"project {project_id}",
            "label_config": label_config,
            "model_version": "labelwise",
            "sampling": "Uncertainty sampling",
        }

    def connect_model(self, project_id: int, url: str, user: str | None = None) -> dict[str, Any]:
        """What ``POST /api/ml`` leaves: a model connection and a project webhook to
        ``<url>/webhook`` that sends no credentials; returns the webhook."""
        number = len(self.models) + 1
        self.models.append(
            {
                "id": number,
                "project": project_id,
                "url": url,
                "title": "labelwise",
                "auth_method": "BASIC_AUTH" if user else "NONE",
                "basic_auth_user": user,
                "basic_auth_pass_is_set": bool(user),
            }
        )
        hook = {
            "id": number,
            "project": project_id,
            "url": url.rstrip("/") + "/webhook",
            "send_payload": True,
            "send_for_all_actions": True,
            "headers": {},
            "is_active": True,
        }
        self.webhooks[number] = hook
        return hook

    def add_task(self, project_id: int, task_id: int, data: dict[str, Any]) -> dict[str, Any]:
        task = {"id": task_id, "project": project_id, "data": data, "annotations": []}
        self.tasks[task_id] = task
        return task

    def annotate(self, task_id: int, from_name: str, to_name: str, label: str) -> dict[str, Any]:
        """Add an annotation choosing ``label``; returns it (the webhook's ``annotation``)."""
        region = {
            "from_name": from_name,
            "to_name": to_name,
            "type": "choices",
            "value": {"choices": [label]},
        }
        return self.add_annotation(task_id, [region])

    def add_annotation(self, task_id: int, result: list[dict[str, Any]]) -> dict[str, Any]:
        """Add an annotation with these result regions; returns it."""
        with self._lock:
            self._next_annotation += 1
            stamp = f"2025-11-26T01:{self._next_annotation % 60:02d}:00.{self._next_annotation}Z"
            annotation = {
                "id": self._next_annotation,
                "task": task_id,
                "was_cancelled": False,
                "created_at": stamp,
                "updated_at": stamp,
                "result": result,
            }
            self.tasks[task_id]["annotations"].append(annotation)
            return annotation

    def delete_annotation(self, annotation_id: int) -> None:
        for task in self.tasks.values():
            task["annotations"] = [a for a in task["annotations"] if a["id"] != annotation_id]

    def pushed(self, version: str) -> dict[int, dict[str, Any]]:
        """Task id -> the prediction of ``version`` imported for it."""
        return {p["task"]: p for p in self.predictions if p["model_version"] == version}

    # -- the API ------------------------------------------------------------------------------
    def route(
        self, method: str, path: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if parts[:2] == ["api", "projects"] and len(parts) >= 3 and parts[2].isdigit():
            project = self.projects.get(int(parts[2]))
            if project is None:
                return 404, {"detail": "Not found."}
            if len(parts) == 3 and method == "GET":
                return 200, project
            if len(parts) == 3 and method == "PATCH":
                project.update(body or {})
                return 200, project
            if parts[3:] == ["import", "predictions"] and method == "POST":
                return self._import(project["id"], body)
        if path.rstrip("/") == "/api/ml" and method == "GET":
            wanted = int(query.get("project", ["0"])[0])
            return 200, [m for m in self.models if m["project"] == wanted]
        if path.rstrip("/") == "/api/webhooks" and method == "GET":
            wanted = int(query.get("project", ["0"])[0])
            return 200, [h for h in self.webhooks.values() if h["project"] == wanted]
        if parts[:2] == ["api", "webhooks"] and len(parts) == 3 and method == "PATCH":
            hook = self.webhooks.get(int(parts[2])) if parts[2].isdigit() else None
            if hook is None:
                return 404, {"detail": "Not found."}
            hook.update(body or {})
            return 200, hook
        if path.rstrip("/") == "/api/tasks" and method == "GET":
            project_id = int(query.get("project", ["0"])[0])
            page = int(query.get("page", ["1"])[0])
            size = int(query.get("page_size", ["100"])[0])
            tasks = [t for t in self.tasks.values() if t["project"] == project_id]
            chunk = tasks[(page - 1) * size : page * size]
            if "include" in query:  # only these fields, as Label Studio answers
                keep = query["include"][0].split(",")
                chunk = [{k: t[k] for k in keep if k in t} for t in chunk]
                expand = query.get("expand", [""])[0].split(",")
                if "annotations" not in expand or not self.expands:
                    chunk = [  # annotations as ids only, unless expanded
                        {**t, "annotations": [{"id": a["id"]} for a in t["annotations"]]}
                        if "annotations" in t
                        else t
                        for t in chunk
                    ]
            if page > 1 and not chunk:
                return 404, {"detail": "Invalid page."}
            annotations = sum(len(t["annotations"]) for t in tasks)
            return 200, {
                "total_annotations": annotations,
                "total_predictions": 0,
                "total": len(tasks),
                "tasks": chunk,
            }
        return 404, {"detail": "Not found."}

    def _import(self, project_id: int, body: Any) -> tuple[int, Any]:
        if not isinstance(body, list):
            return 400, {"detail": "a list of predictions is expected"}
        for item in body:
            task = self.tasks.get(item.get("task"))
            if task is None or task["project"] != project_id:
                return 400, {"detail": "Validation error"}
        self.predictions.extend(body)
        return 201, {"created": len(body)}


@contextmanager
def fake_label_studio() -> Iterator[FakeLabelStudio]:
    server = FakeLabelStudio().start()
    try:
        yield server
    finally:
        server.close()
