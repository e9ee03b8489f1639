"""Hostile and careless requests: non-finite numbers, huge bodies, token guessing, framing.

The real app over HTTP on a real SQLite store (the ``served`` project of conftest.py): every
malformed body gets a 4xx naming the field and never the payload, large bodies 413, a burst of
wrong tokens 429, every answer the security headers, every time its zone, and the open page's
heartbeat keeps a short lease.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from importlib.resources import files
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from labelwise.server import ServerSettings, create_app
from labelwise.server.hardening import CONTENT_SECURITY_POLICY
from tests.server.conftest import Served, bearer, write_project_csv

NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e999"]


def leased_task(served: Served, who: dict[str, str]) -> dict:
    response = served.client.post("/api/projects/reviews/next", headers=who)
    assert response.status_code == 200, response.text
    task = response.json()["task"]
    assert task is not None
    return task


def post_raw(served: Served, url: str, text: str, who: dict[str, str], method: str = "POST"):
    headers = {**who, "Content-Type": "application/json"}
    return served.client.request(method, url, content=text.encode(), headers=headers)


def fields_named(response) -> list[str]:
    return [str(part) for error in response.json()["detail"] for part in error["loc"]]


@pytest.mark.parametrize("number", NON_FINITE)
@pytest.mark.parametrize(
    ("method", "url", "template", "field", "who"),
    [
        ("POST", "/api/tasks/{task}/annotation", '{{"label": "pos", "seconds_spent": {n}}}',
         "seconds_spent", "alice"),
        ("POST", "/api/tasks/{task}/annotation", '{{"label": {n}}}', "label", "alice"),
        ("POST", "/api/tasks/{task}/annotation", '{{"label": "pos", "extra": [1, {n}]}}',
         "extra", "alice"),
        ("PATCH", "/api/admin/projects/reviews/settings", '{{"gold_fraction": {n}}}',
         "gold_fraction", "admin"),
        ("PATCH", "/api/admin/projects/reviews/settings", '{{"budget": {n}}}', "budget", "admin"),
        ("POST", "/api/admin/projects", '{{"name": "x", "labels": ["a", {n}]}}', "labels",
         "admin"),
    ],
)  # fmt: skip
def test_a_non_finite_number_anywhere_in_a_body_is_a_422_naming_the_field(
    served: Served, number: str, method: str, url: str, template: str, field: str, who: str
) -> None:
    headers = served.admin if who == "admin" else served.alice
    task = leased_task(served, served.alice)["task_id"]
    response = post_raw(
        served, url.format(task=task), template.format(n=number), headers, method=method
    )
    assert response.status_code == 422, response.text
    assert field in fields_named(response)


def test_a_validation_error_never_echoes_the_value_sent(served: Served) -> None:
    task = leased_task(served, served.alice)["task_id"]
    secret = "do-not-echo-" + "x" * 50_000
    response = served.client.post(
        f"/api/tasks/{task}/annotation", json={"label": secret}, headers=served.alice
    )
    assert response.status_code == 422
    assert "do-not-echo" not in response.text
    assert fields_named(response) == ["body", "label"]
    assert all(set(error) == {"loc", "msg", "type"} for error in response.json()["detail"])


def test_unparseable_json_is_a_4xx_without_the_payload(served: Served) -> None:
    task = leased_task(served, served.alice)["task_id"]
    response = post_raw(
        served, f"/api/tasks/{task}/annotation", '{"label": "secret-value', served.alice
    )
    assert response.status_code == 422
    assert "secret-value" not in response.text


@pytest.fixture
def small_limits(tmp_path: Path, served: Served) -> Iterator[TestClient]:
    settings = ServerSettings(
        store=served.store.url,
        background=False,
        token_cache_seconds=0,
        max_body_bytes=2_000,
        max_upload_bytes=20_000,
    )
    with TestClient(create_app(settings, served.store)) as client:
        yield client


def test_a_body_over_the_limit_is_refused_with_413(small_limits: TestClient) -> None:
    body = {"name": "big", "labels": ["a", "b" * 5_000]}
    response = small_limits.post("/api/admin/projects", json=body, headers=bearer("admin-token"))
    assert response.status_code == 413
    assert "bytes" in response.json()["detail"]
    assert "bbbb" not in response.text


def test_a_streamed_body_without_length_is_cut_off_at_the_limit(small_limits: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "big", "labels": ["a", "'
        for _ in range(10):
            yield b"b" * 1_000
        yield b'"]}'

    response = small_limits.post(
        "/api/admin/projects",
        content=chunks(),
        headers={**bearer("admin-token"), "Content-Type": "application/json"},
    )
    assert response.status_code == 413


def test_an_import_upload_has_its_own_larger_limit(
    small_limits: TestClient, tmp_path: Path
) -> None:
    admin = bearer("admin-token")
    fits = write_project_csv(tmp_path / "fits.csv", 100, 10, 0).read_bytes()
    assert 2_000 < len(fits) < 20_000
    files_ = {"file": ("fits.csv", fits, "text/csv")}
    ok = small_limits.post("/api/admin/projects/fits/import", files=files_, headers=admin)
    assert ok.status_code == 200, ok.text
    big = write_project_csv(tmp_path / "big.csv", 1_000, 10, 0).read_bytes()
    files_ = {"file": ("big.csv", big, "text/csv")}
    refused = small_limits.post("/api/admin/projects/big/import", files=files_, headers=admin)
    assert refused.status_code == 413


def test_a_burst_of_wrong_tokens_gets_429_with_retry_after(served: Served) -> None:
    client = served.client
    for i in range(20):
        assert client.get("/api/me", headers=bearer(f"guess-{i}")).status_code == 401
    refused = client.get("/api/me", headers=bearer("guess-21"))
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # the address waits, whatever it sends: a right guess would not tell itself apart
    assert client.get("/api/me", headers=served.alice).status_code == 429


def test_missing_tokens_are_not_counted_as_guesses(served: Served) -> None:
    for _ in range(30):
        assert served.client.get("/api/me").status_code == 401
    assert served.client.get("/api/me", headers=served.alice).status_code == 200


@pytest.mark.parametrize(
    "path", ["/", "/admin", "/api/me", "/static/annotate.js", "/openapi.json", "/nowhere"]
)
def test_every_response_carries_the_security_headers(served: Served, path: str) -> None:
    response = served.client.get(path)
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"


class _InlineFinder(HTMLParser):
    """Whatever a CSP without 'unsafe-inline' would block: inline script, style, handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "style" or (tag == "script" and "src" not in names):
            self.found.append(f"<{tag}>")
        self.found += [name for name in names if name == "style" or name.startswith("on")]
        self.found += [f"{n}={v}" for n, v in attrs if v and v.startswith("javascript:")]


@pytest.mark.parametrize("page", ["annotate.html", "admin.html"])
def test_the_pages_have_nothing_inline_that_the_csp_would_block(page: str) -> None:
    finder = _InlineFinder()
    finder.feed((files("labelwise.server") / "static" / page).read_text())
    assert finder.found == []


def _utc(text: str) -> datetime:
    assert re.search(r"(Z|\+00:00)$", text), text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_times_in_answers_are_utc_with_the_zone(served: Served) -> None:
    task = leased_task(served, served.alice)
    expires = _utc(task["expires_at"])
    assert abs((expires - datetime.now(UTC)).total_seconds()) < 3_600
    answered = served.client.post(
        f"/api/tasks/{task['task_id']}/annotation", json={"label": "pos"}, headers=served.alice
    )
    assert answered.status_code == 201, answered.text
    _utc(answered.json()["created_at"])


def test_the_default_lease_is_about_two_minutes(served: Served) -> None:
    left = _utc(leased_task(served, served.alice)["expires_at"]) - datetime.now(UTC)
    assert 100 <= left.total_seconds() <= 125


def test_the_heartbeat_extends_the_lease(served: Served) -> None:
    task = leased_task(served, served.alice)
    before = _utc(task["expires_at"])
    renewed = served.client.post(f"/api/tasks/{task['task_id']}/lease", headers=served.alice)
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["task_id"] == task["task_id"]
    assert _utc(renewed.json()["expires_at"]) >= before


def test_only_the_holder_renews_and_only_while_the_task_is_open(served: Served) -> None:
    task = leased_task(served, served.alice)["task_id"]
    assert served.client.post(f"/api/tasks/{task}/lease", headers=served.bob).status_code == 404
    answered = served.client.post(
        f"/api/tasks/{task}/annotation", json={"label": "neg"}, headers=served.alice
    )
    assert answered.status_code == 201
    after = served.client.post(f"/api/tasks/{task}/lease", headers=served.alice)
    assert after.status_code == 409
    assert "no longer" in after.json()["detail"] or "not leased" in after.json()["detail"]


def test_the_annotation_page_sends_the_heartbeat() -> None:
    script = (files("labelwise.server") / "static" / "annotate.js").read_text()
    assert '"/lease"' in script and "setInterval(keepLease" in script
    assert json.loads(re.search(r"HEARTBEAT_MS = (\d+)", script).group(1)) <= 40_000
