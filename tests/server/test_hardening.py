"""Hostile and careless requests: non-finite numbers, huge bodies, token guessing, framing.

The real app over HTTP on a real SQLite store (the ``served`` project of conftest.py): every
malformed body gets a 4xx naming the field and never the payload, large bodies 413, a burst of
wrong tokens 429, every answer the security headers, every time its zone, and the open page's
heartbeat keeps a short lease.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from importlib.resources import files
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from labelwise.server import ServerSettings, create_app
from labelwise.server.schemas import (
    AnnotationCreate,
    AnnotatorCreate,
    ProjectCreate,
    ProjectSettingsChange,
    ResolutionCreate,
)
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


def csp_directives(policy: str) -> dict[str, list[str]]:
    """``"a x y; b z"`` as ``{"a": ["x", "y"], "b": ["z"]}``."""
    parts = (directive.split() for directive in policy.split(";") if directive.strip())
    return {name: values for name, *values in parts}


def assert_security_headers(response) -> None:
    """The headers every answer carries: pages, API, static files and errors alike."""
    policy = csp_directives(response.headers["Content-Security-Policy"])
    scripts = policy.get("script-src", policy.get("default-src"))
    assert scripts is not None, policy
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, scripts
    assert "'unsafe-inline'" not in policy.get("style-src", policy.get("default-src", []))
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"


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
    assert_security_headers(served.client.get(path))


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


# -- every JSON body, field by field ----------------------------------------------------------

#: Every route with a JSON body: the model that checks it and a valid body to spoil field by
#: field. ``test_the_table_covers_every_json_body_route`` keeps it complete.
JSON_BODIES: dict[tuple[str, str], tuple[type[BaseModel], dict[str, object]]] = {
    ("POST", "/api/tasks/{task_id}/annotation"): (AnnotationCreate, {"label": "pos"}),
    ("POST", "/api/tasks/{task_id}/answer"): (AnnotationCreate, {"label": "pos"}),
    ("POST", "/api/admin/projects"): (ProjectCreate, {"name": "fresh", "labels": ["a", "b"]}),
    ("PATCH", "/api/admin/projects/{project}/settings"): (ProjectSettingsChange, {}),
    ("POST", "/api/admin/projects/{project}/annotators"): (AnnotatorCreate, {"name": "zed"}),
    ("POST", "/api/review/projects/{project}/samples/{sample_id}/resolution"): (
        ResolutionCreate,
        {"label": "pos"},
    ),
    ("POST", "/api/review/projects/{project}/samples/{sample_id}/gold"): (
        ResolutionCreate,
        {"label": "pos"},
    ),
}
#: Where a number may hide in a field's value: the value, an item, an item of an item.
SHAPES = ["{n}", "[{n}]", '{{"deep": [1, {n}]}}']


def _url_and_caller(served: Served, method: str, path: str) -> tuple[str, dict[str, str]]:
    if "{task_id}" in path:
        return path.format(task_id=leased_task(served, served.alice)["task_id"]), served.alice
    return path.format(project="reviews", sample_id=1), served.admin


def _body_with(base: dict[str, object], field: str, raw: str) -> str:
    """``base`` with ``field`` set to the raw JSON text ``raw`` (which ``json`` cannot write)."""
    marker = "__raw_value__"
    return json.dumps({**base, field: marker}).replace(f'"{marker}"', raw)


def test_the_table_covers_every_json_body_route(served: Served) -> None:
    spec = served.client.get("/openapi.json").json()
    with_json = {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    }
    assert with_json == set(JSON_BODIES)


@pytest.mark.parametrize(("method", "path"), list(JSON_BODIES))
def test_a_non_finite_number_in_any_field_of_any_body_is_a_422_naming_that_field(
    served: Served, method: str, path: str
) -> None:
    model, base = JSON_BODIES[(method, path)]
    url, who = _url_and_caller(served, method, path)
    tried = 0
    for field in model.model_fields:
        for number in NON_FINITE:
            for shape in SHAPES:
                text = _body_with(base, field, shape.format(n=number))
                response = post_raw(served, url, text, who, method=method)
                assert response.status_code == 422, (text, response.status_code, response.text)
                assert field in fields_named(response), (text, response.text)
                tried += 1
    assert tried == len(model.model_fields) * len(NON_FINITE) * len(SHAPES)


@pytest.mark.parametrize("number", NON_FINITE)
@pytest.mark.parametrize(("method", "path"), list(JSON_BODIES))
def test_a_body_that_is_a_non_finite_number_is_a_422(
    served: Served, method: str, path: str, number: str
) -> None:
    url, who = _url_and_caller(served, method, path)
    response = post_raw(served, url, number, who, method=method)
    assert response.status_code == 422, response.text
    assert fields_named(response)[0] == "body"


@pytest.mark.parametrize(("method", "path"), list(JSON_BODIES))
def test_no_field_of_any_body_echoes_a_large_value(served: Served, method: str, path: str) -> None:
    model, base = JSON_BODIES[(method, path)]
    url, who = _url_and_caller(served, method, path)
    for field in model.model_fields:
        for value in ("echo-me-" + "z" * 300_000, ["echo-me-" + "z" * 300_000], 10**400):
            text = _body_with(base, field, json.dumps(value))
            response = post_raw(served, url, text, who, method=method)
            assert response.status_code == 422, (field, response.status_code)
            assert "echo-me" not in response.text and "zzzz" not in response.text
            assert "0" * 50 not in response.text
            assert len(response.content) < 4_000, (field, len(response.content))


@pytest.mark.parametrize(("method", "path"), list(JSON_BODIES))
def test_many_bad_items_get_a_short_answer(served: Served, method: str, path: str) -> None:
    """A list of 100,000 wrong items is one body, not 100,000 errors sent back."""
    model, base = JSON_BODIES[(method, path)]
    url, who = _url_and_caller(served, method, path)
    lists = [name for name, f in model.model_fields.items() if "list" in str(f.annotation)]
    field = (lists or list(model.model_fields))[0]
    text = _body_with(base, field, "[" + ", ".join(["NaN"] * 100_000) + "]")
    response = post_raw(served, url, text, who, method=method)
    assert response.status_code == 422
    assert len(response.content) < 20_000


def test_routes_without_a_body_ignore_a_hostile_one(served: Served) -> None:
    spec = served.client.get("/openapi.json").json()
    bodiless = [
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if method in ("post", "put", "patch") and "requestBody" not in operation
    ]
    assert ("POST", "/api/tasks/{task_id}/lease") in bodiless
    task = leased_task(served, served.alice)["task_id"]
    for method, path in bodiless:
        admin = path.startswith(("/api/admin", "/api/review"))
        url = path.format(task_id=task, project="reviews", sample_id=1)
        for text in ("NaN", '{"x": Infinity}', "[1e999", "\x00" * 100):
            response = post_raw(
                served, url, text, served.admin if admin else served.alice, method=method
            )
            assert response.status_code < 500, (url, text, response.text)
            assert "Infinity" not in response.text


# -- throttling per address ------------------------------------------------------------------


def test_a_throttled_address_does_not_hold_up_the_others(served: Served) -> None:
    guesser = served.client
    for i in range(25):
        guesser.get("/api/me", headers=bearer(f"guess-{i}"))
    assert guesser.get("/api/me", headers=served.alice).status_code == 429
    colleague = TestClient(served.client.app, client=("10.1.2.3", 40000))
    assert colleague.get("/api/me", headers=served.bob).status_code == 200
    # and a wrong token from the colleague is a 401 again, not the other address's 429
    assert colleague.get("/api/me", headers=bearer("typo")).status_code == 401


def test_the_wait_ends_when_the_failures_leave_the_minute() -> None:
    from labelwise.server.hardening import FailedTokens

    failed = FailedTokens(limit=3, window_seconds=60.0)
    for t in (0.0, 10.0, 20.0):
        assert failed.retry_after("1.2.3.4", now=t) == 0
        failed.failed("1.2.3.4", now=t)
    assert failed.retry_after("1.2.3.4", now=21.0) == 39  # until the first failure is 60 s old
    assert failed.retry_after("5.6.7.8", now=21.0) == 0
    assert failed.retry_after("1.2.3.4", now=60.5) == 0


def test_the_addresses_remembered_are_bounded() -> None:
    from labelwise.server.hardening import FailedTokens

    failed = FailedTokens(limit=1, window_seconds=60.0, max_addresses=100)
    for i in range(1_000):
        failed.failed(f"10.0.{i // 256}.{i % 256}", now=float(i) / 100)
    assert len(failed._failures) <= 100
    assert failed.retry_after("10.0.3.231", now=10.0) > 0  # the newest is still held back


# -- headers on every kind of answer ---------------------------------------------------------


def test_errors_carry_the_security_headers_too(served: Served, small_limits: TestClient) -> None:
    client = served.client
    answers = {
        401: client.get("/api/me"),
        404: client.post("/api/projects/nowhere/next", headers=served.alice),
        405: client.get("/api/admin/projects", headers=served.admin),
        422: post_raw(served, "/api/admin/projects", "NaN", served.admin),
        413: small_limits.post(
            "/api/admin/projects", content=b"x" * 5_000, headers=bearer("admin-token")
        ),
    }
    for i in range(25):
        client.get("/api/me", headers=bearer(f"wrong-{i}"))
    answers[429] = client.get("/api/me", headers=bearer("wrong"))
    for code, response in answers.items():
        assert response.status_code == code, (code, response.text)
        assert_security_headers(response)


def test_the_scripts_need_nothing_the_csp_forbids() -> None:
    """No eval, no handlers or styles written as HTML attributes from the scripts."""
    static = files("labelwise.server") / "static"
    for name in ("annotate.js", "admin.js", "common.js"):
        script = (static / name).read_text()
        for forbidden in ("eval(", "new Function", "javascript:", "style=", " onclick", "onload="):
            assert forbidden not in script, (name, forbidden)
        assert not re.search(r"setTimeout\(\s*[\"'`]", script), name  # a string is eval'd


# -- heartbeat and leases --------------------------------------------------------------------


def test_the_heartbeat_starts_the_lease_over(served: Served) -> None:
    from labelwise.store import renew_lease

    task = leased_task(served, served.alice)
    renew_lease(served.store, task["task_id"], "alice", 5)  # as if the page were quiet 115 s
    renewed = served.client.post(f"/api/tasks/{task['task_id']}/lease", headers=served.alice)
    assert renewed.status_code == 200, renewed.text
    left = (_utc(renewed.json()["expires_at"]) - datetime.now(UTC)).total_seconds()
    assert 100 <= left <= 125
    assert_security_headers(renewed)


def test_an_expired_lease_is_not_renewed_409(served: Served) -> None:
    from labelwise.store import renew_lease
    from labelwise.store.engine import utcnow

    task = leased_task(served, served.alice)["task_id"]
    renew_lease(served.store, task, "alice", 1, now=utcnow() - timedelta(seconds=10))  # expired
    response = served.client.post(f"/api/tasks/{task}/lease", headers=served.alice)
    assert response.status_code == 409, response.text
    assert "expired" in response.json()["detail"]


def test_an_abandoned_task_goes_to_the_next_annotator_after_its_lease(served: Served) -> None:
    short = served.client.patch(
        "/api/admin/projects/reviews/settings", json={"lease_seconds": 1}, headers=served.admin
    )
    assert short.status_code == 200, short.text
    left_behind = leased_task(served, served.alice)
    time.sleep(1.2)  # the page was closed: no heartbeat
    assert served.client.post(
        f"/api/tasks/{left_behind['task_id']}/lease", headers=served.alice
    ).status_code in (404, 409)
    taken = leased_task(served, served.bob)
    assert taken["external_id"] == left_behind["external_id"]
    # Bob holds it now: Alice's old page can neither renew it nor answer it
    again = served.client.post(f"/api/tasks/{taken['task_id']}/lease", headers=served.alice)
    assert again.status_code == 404
    assert (
        served.client.post(f"/api/tasks/{taken['task_id']}/lease", headers=served.bob).status_code
        == 200
    )


def test_every_time_the_annotator_sees_has_its_zone(served: Served) -> None:
    task = leased_task(served, served.alice)
    renewed = served.client.post(f"/api/tasks/{task['task_id']}/lease", headers=served.alice)
    _utc(renewed.json()["expires_at"])
    answered = served.client.post(
        f"/api/tasks/{task['task_id']}/annotation?next=true",
        json={"label": "pos"},
        headers=served.alice,
    )
    assert answered.status_code == 201, answered.text
    _utc(answered.json()["created_at"])
    _utc(answered.json()["next"]["task"]["expires_at"])
    undone = served.client.post("/api/projects/reviews/undo", headers=served.alice)
    assert undone.status_code == 200, undone.text
    _utc(undone.json()["expires_at"])


# -- the pages under the policy, in a real browser -------------------------------------------

_CHROMIUM = Path("/usr/bin/chromium")
_WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(not _CHROMIUM.exists(), reason="needs Debian's chromium")
def test_both_pages_work_in_chromium_without_a_policy_violation(served: Served) -> None:
    import threading

    import uvicorn

    sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright")
    from labelwise.cli.serve_cmd import free_port

    port = free_port("127.0.0.1", 0)
    server = uvicorn.Server(
        uvicorn.Config(served.client.app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(_CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page()
            page.add_init_script(_WATCH_VIOLATIONS)
            console = []
            page.on("console", lambda message: console.append(message.text))
            page.goto(base + "/")
            page.fill("#token", "alice-token")
            page.click("#signin-button")
            page.wait_for_selector("#sample .text", timeout=15_000)
            page.click("#labels button[data-label='pos']")
            sync_api.expect(page.locator("#my-labels")).to_have_text("1", timeout=15_000)
            assert page.evaluate("window.__violations") == []
            page.goto(base + "/admin")
            page.fill("#token", "admin-token")
            page.click("#signin-button")
            sync_api.expect(page.locator("#work")).to_be_visible(timeout=15_000)
            page.wait_for_timeout(1_000)
            assert page.evaluate("window.__violations") == []
            assert not [line for line in console if "Content Security Policy" in line], console
            # the watch works: an inline handler, which the policy blocks, is seen
            page.evaluate(
                "document.body.insertAdjacentHTML('beforeend', '<img src=\"/nowhere.png\" "
                'onerror="window.ran = 1">\')'
            )
            page.wait_for_timeout(500)
            assert page.evaluate("window.ran") is None
            assert any("script-src" in v for v in page.evaluate("window.__violations"))
            browser.close()
    finally:
        server.should_exit = True
        thread.join(10)


def test_a_malformed_upload_is_a_4xx(served: Served) -> None:
    url = "/api/admin/projects/reviews/import"
    for content_type, body in [
        ("application/json", b"NaN"),
        ("multipart/form-data; boundary=xyz", b"--xyz\r\nno headers here\r\n--xyz--"),
        ("multipart/form-data", b"\x00" * 100),
        ("multipart/form-data; boundary=xyz", b"--xyz\r\nContent-Disposition: form-data"),
    ]:
        response = served.client.post(
            url, content=body, headers={**served.admin, "Content-Type": content_type}
        )
        assert 400 <= response.status_code < 500, (content_type, response.text)


_NAIVE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?![\d:.]*(Z|[+-]\d\d:?\d\d))")


def test_no_json_answer_carries_a_time_without_its_zone(served: Served) -> None:
    task = leased_task(served, served.alice)["task_id"]
    done = served.client.post(
        f"/api/tasks/{task}/annotation", json={"label": "pos"}, headers=served.alice
    )
    assert done.status_code == 201
    served.client.post("/api/admin/projects/reviews/rounds", headers=served.admin)
    spec = served.client.get("/openapi.json").json()
    checked = 0
    for path, operations in spec["paths"].items():
        answer = operations.get("get", {}).get("responses", {}).get("200", {})
        if "application/json" not in answer.get("content", {}):
            continue
        url = path.format(project="reviews", task_id=task, sample_id=1)
        who = served.admin if path.startswith(("/api/admin", "/api/review")) else served.alice
        response = served.client.get(url, headers=who)
        if response.status_code != 200:
            continue
        checked += 1
        naive = [m.group(0) for m in _NAIVE_TIME.finditer(response.text)]
        assert naive == [], (path, naive[:3])
    assert checked >= 5
