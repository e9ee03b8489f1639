"""``labelwise serve --demo`` as a new user meets it: a real process, real sockets, real files.

The demo takes the next free port when its port is taken, keeps its store in a named folder
that ``--resume`` reopens with the same tokens, and leaves nothing else behind; the pages'
``/favicon.ico`` is an icon, not a 404.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the server extra")


def occupied_port() -> Iterator[tuple[socket.socket, int]]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    try:
        yield listener, listener.getsockname()[1]
    finally:
        listener.close()


class Served:
    """A ``labelwise serve`` process and the lines it printed until it gave its URL."""

    def __init__(self, cwd: Path, *args: str) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from labelwise.cli import main; main()", "serve", *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.startswith("admin:"):
                break
        else:
            raise AssertionError("the server stopped early:\n" + "\n".join(self.lines))
        self.base = re.search(r"http://[\d.]+:\d+", self.printed("annotate:")).group(0)

    def printed(self, prefix: str) -> str:
        return next(line for line in self.lines if line.startswith(prefix))

    def get(self, path: str, token: str | None = None) -> tuple[int, str, bytes]:
        """Status, content type and body, once the server answers (within 30 s)."""
        request = urllib.request.Request(self.base + path)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    return response.status, response.headers["content-type"], response.read()
            except urllib.error.HTTPError as error:
                return error.code, error.headers["content-type"], error.read()
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise
                time.sleep(0.2)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Served, int]]:
    """A demo built from nothing while its port is taken; stopped after the module's tests."""
    cwd = tmp_path_factory.mktemp("demo")
    ports = occupied_port()
    _listener, port = next(ports)
    served = Served(cwd, "--demo", "--port", str(port), "--no-background")
    yield cwd, served, port
    served.stop()
    ports.close()


def test_the_demo_takes_the_next_free_port_and_says_so(first_run: tuple[Path, Served, int]) -> None:
    _cwd, served, taken = first_run
    chosen = int(served.base.rsplit(":", 1)[1])
    assert chosen != taken
    assert f"port {taken} is taken: serving on port {chosen} instead" in served.lines
    status, _type, page = served.get("/")
    assert status == 200 and b"<html" in page.lower()


def test_the_pages_have_an_icon(first_run: tuple[Path, Served, int]) -> None:
    status, content_type, body = first_run[1].get("/favicon.ico")
    assert status == 200 and content_type.startswith("image/svg+xml")
    assert body.startswith(b"<svg")


def test_the_demo_keeps_its_store_in_a_named_folder_and_nothing_else(
    first_run: tuple[Path, Served, int],
) -> None:
    cwd, served, _port = first_run
    assert "demo store: labelwise-demo/" in served.printed("demo store:")
    folder = cwd / "labelwise-demo"
    assert {p.name for p in cwd.iterdir()} == {"labelwise-demo"}
    assert {p.name for p in folder.iterdir()} <= {
        "demo.db",
        "demo.db-wal",
        "demo.db-shm",
        "images",
        "tokens.json",
    }
    images = list((folder / "images").iterdir())
    assert len(images) == 1797 and all(p.suffix == ".png" for p in images)  # no import table
    assert oct((folder / "tokens.json").stat().st_mode & 0o777) == "0o600"


def test_resume_reopens_the_demo_with_its_tokens(first_run: tuple[Path, Served, int]) -> None:
    cwd, first, _port = first_run
    first.stop()
    tokens = json.loads((cwd / "labelwise-demo" / "tokens.json").read_text())
    again = Served(cwd, "--demo", "--resume", "--port", "0", "--no-background")
    try:
        assert tokens["annotator"] in again.printed("annotate:")
        assert tokens["admin"] in again.printed("admin:")
        status, _type, body = again.get("/api/me", token=tokens["annotator"])
        assert status == 200 and json.loads(body)["name"] == "annotator"
    finally:
        again.stop()


def run_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from labelwise.cli import main; main()", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_a_new_demo_over_a_kept_one_is_refused_with_the_way_to_resume(tmp_path: Path) -> None:
    (tmp_path / "labelwise-demo").mkdir()
    (tmp_path / "labelwise-demo" / "demo.db").write_bytes(b"")
    done = run_cli(tmp_path, "serve", "--demo", "--port", "0")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "labelwise serve --demo --resume reopens it" in done.stderr
    assert (tmp_path / "labelwise-demo" / "demo.db").read_bytes() == b""


def test_resume_without_a_demo_says_how_to_build_one(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "serve", "--demo", "--resume", "--port", "0")
    assert done.returncode == 1
    assert "no demo to resume in labelwise-demo/: labelwise serve --demo builds one" in (
        " ".join(done.stderr.split())
    )
    assert list(tmp_path.iterdir()) == []


def test_serve_names_a_taken_port(tmp_path: Path) -> None:
    ports = occupied_port()
    _listener, port = next(ports)
    try:
        done = run_cli(tmp_path, "serve", "--port", str(port), "--store", "sqlite:///x.db")
    finally:
        ports.close()
    assert done.returncode == 1
    assert f"port {port} on 127.0.0.1 is taken: pass --port with a free one" in done.stderr
