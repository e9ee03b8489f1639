"""``labelwise user``: a lead adds people (the token printed once), lists and revokes them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import labelwise.cli.store_cmd
import labelwise.cli.user_cmd  # noqa: F401
from labelwise.store import annotator_for_token, create_project, init_store
from labelwise.store.schema import Annotator
from tests.cli.test_store_cli import one_error_line, run_main, run_ok


@pytest.fixture
def url(tmp_path: Path) -> str:
    store_url = f"sqlite:///{tmp_path / 's.db'}"
    store = init_store(store_url)
    create_project(store, "reviews", ["neg", "pos"])
    store.close()
    return store_url


def token_in(output: str) -> str:
    found = re.search(r"token: (\S+)", output)
    assert found is not None, output
    return found.group(1)


def test_add_prints_a_working_token_once_and_stores_only_its_hash(url: str) -> None:
    printed = run_ok("user", "add", "alice", "--role", "annotator", "--project", "reviews",
                     "--store", url)  # fmt: skip
    token = token_in(printed)
    store = init_store(url)
    try:
        found = annotator_for_token(store, token)
        assert found is not None and (found.name, found.role) == ("alice", "annotator")
        with store.read() as session:
            row = session.query(Annotator).filter_by(name="alice").one()
            assert row.token_hash is not None and token not in row.token_hash
    finally:
        store.close()


def test_list_shows_names_roles_projects_and_never_a_token(url: str) -> None:
    alice = token_in(run_ok("user", "add", "alice", "-p", "reviews", "--store", url))
    root = token_in(run_ok("user", "add", "root", "--role", "admin", "--store", url))
    listed = run_ok("user", "list", "--json", "--store", url)
    assert json.loads(listed) == [
        {"name": "alice", "role": "annotator", "projects": ["reviews"], "token": "active"},
        {"name": "root", "role": "admin", "projects": [], "token": "active"},
    ]
    plain = run_ok("user", "list", "--store", url)
    assert "alice" in plain and "all projects" in plain
    assert alice not in listed + plain and root not in listed + plain


def test_revoke_stops_the_token_at_once_and_keeps_the_user(url: str) -> None:
    token = token_in(run_ok("user", "add", "alice", "-p", "reviews", "--store", url))
    assert "no longer works" in run_ok("user", "revoke", "alice", "--store", url)
    store = init_store(url)
    try:
        assert annotator_for_token(store, token) is None
    finally:
        store.close()
    listed = json.loads(run_ok("user", "list", "--json", "--store", url))
    assert listed == [
        {"name": "alice", "role": "annotator", "projects": ["reviews"], "token": "revoked"}
    ]


def test_an_unknown_project_adds_nobody(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_main(capsys, "user", "add", "alice", "-p", "nope", "--store", url)
    assert code == 1 and "no project named 'nope'" in one_error_line(err)
    assert json.loads(run_ok("user", "list", "--json", "--store", url)) == []


def test_a_second_user_of_the_same_name_is_refused(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run_ok("user", "add", "alice", "--store", url)
    code, err = run_main(capsys, "user", "add", "alice", "--store", url)
    assert code == 1 and "already exists" in one_error_line(err)


def test_revoking_an_unknown_user_is_one_error_line(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run_main(capsys, "user", "revoke", "zed", "--store", url)
    assert code == 1 and "zed" in one_error_line(err)


def test_a_revoked_token_is_refused_by_a_running_server(url: str) -> None:
    from fastapi.testclient import TestClient

    from labelwise.server import ServerSettings, create_app

    token = token_in(run_ok("user", "add", "alice", "-p", "reviews", "--store", url))
    store = init_store(url)
    settings = ServerSettings(store=url, background=False, token_cache_seconds=0)
    me = {"Authorization": f"Bearer {token}"}
    try:
        with TestClient(create_app(settings, store)) as client:
            assert client.get("/api/me", headers=me).status_code == 200
            run_ok("user", "revoke", "alice", "--store", url)
            assert client.get("/api/me", headers=me).status_code == 401
    finally:
        store.close()
    # with the token cache on, a running server forgets a revoked token within seconds
    assert ServerSettings().token_cache_seconds <= 5


def test_serve_prints_the_url_and_how_to_get_a_token(url: str, tmp_path: Path) -> None:
    from labelwise.cli.serve_cmd import free_port
    from tests.cli.test_serve_demo import Served

    token = token_in(run_ok("user", "add", "alice", "-p", "reviews", "--store", url))
    port = free_port("127.0.0.1", 18_500)
    served = Served(tmp_path, "--store", url, "--port", str(port), "--no-background")
    try:
        assert served.process.stdout is not None
        hint = served.process.stdout.readline()
        assert served.printed("annotate:").endswith(f"http://127.0.0.1:{port}/")
        assert served.printed("admin:").endswith(f"http://127.0.0.1:{port}/admin")
        assert hint.startswith("tokens:") and "labelwise user add NAME --role" in hint
        status, _type, body = served.get("/api/me", token)
        assert status == 200 and json.loads(body)["name"] == "alice"
    finally:
        served.stop()
