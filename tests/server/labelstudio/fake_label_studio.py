"""A small HTTP server that answers the backend's API calls as Label Studio 1.23 does.

It covers what the backend asks of Label Studio (see
:mod:`labelwise.server.labelstudio.client`), with Label Studio's shapes: ``GET
/api/projects/<id>``, ``PATCH /api/projects/<id>``, ``GET /api/tasks?project=&page=&page_size=
&fields=all`` (``{"tasks", "total"}``, 404 past the last page), ``POST
/api/projects/<id>/import/predictions`` (400 for a task of another project, 201 ``{"created"}``).
Every call needs ``Authorization: Token <token>`` (401 otherwise). Tests annotate tasks in it
directly, as annotators would in Label Studio, and read what the backend pushed.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "fake-ls-token-0123456789abcdef"


class FakeLabelStudio:
    """Projects, tasks, annotations and predictions, served over HTTP on 127.0.0.1."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.projects: dict[int, dict[str, Any]] = {}
        self.tasks: dict[int, dict[str, Any]] = {}
        self.predictions: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        self.import_delay = 0.0  # seconds each prediction import takes (a slow Label Studio)
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
                    self._answer(401, {"detail": "Authentication credentials were not provided."})
                    return
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

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # -- life ---------------------------------------------------------------------------------
    def start(self) -> FakeLabelStudio:
        self._thread.start()
        return self

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- what annotators and admins do --------------------------------------------------------
    def add_project(self, project_id: int, label_config: str) -> None:
        self.projects[project_id] = {
            "id": project_id,
            "title": f"project {project_id}",
            "label_config": label_config,
            "model_version": "labelwise",
            "sampling": "Uncertainty sampling",
        }

    def add_task(self, project_id: int, task_id: int, data: dict[str, Any]) -> dict[str, Any]:
        task = {"id": task_id, "project": project_id, "data": data, "annotations": []}
        self.tasks[task_id] = task
        return task

    def annotate(self, task_id: int, from_name: str, to_name: str, label: str) -> dict[str, Any]:
        """Add an annotation choosing ``label``; returns it (the webhook's ``annotation``)."""
        with self._lock:
            self._next_annotation += 1
            stamp = f"2025-11-26T01:{self._next_annotation % 60:02d}:00.{self._next_annotation}Z"
            annotation = {
                "id": self._next_annotation,
                "task": task_id,
                "was_cancelled": False,
                "created_at": stamp,
                "updated_at": stamp,
                "result": [
                    {
                        "from_name": from_name,
                        "to_name": to_name,
                        "type": "choices",
                        "value": {"choices": [label]},
                    }
                ],
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
        if path.rstrip("/") == "/api/tasks" and method == "GET":
            project_id = int(query.get("project", ["0"])[0])
            page = int(query.get("page", ["1"])[0])
            size = int(query.get("page_size", ["100"])[0])
            tasks = [t for t in self.tasks.values() if t["project"] == project_id]
            chunk = tasks[(page - 1) * size : page * size]
            if page > 1 and not chunk:
                return 404, {"detail": "Invalid page."}
            return 200, {"tasks": chunk, "total": len(tasks)}
        return 404, {"detail": "Not found."}

    def _import(self, project_id: int, body: Any) -> tuple[int, Any]:
        if not isinstance(body, list):
            return 400, {"detail": "a list of predictions is expected"}
        for item in body:
            task = self.tasks.get(item.get("task"))
            if task is None or task["project"] != project_id:
                return 400, {"detail": f"task {item.get('task')} not found in project"}
        time.sleep(self.import_delay)
        self.predictions.extend(body)
        return 201, {"created": len(body)}


@contextmanager
def fake_label_studio() -> Iterator[FakeLabelStudio]:
    server = FakeLabelStudio().start()
    try:
        yield server
    finally:
        server.close()
