"""A real Label Studio as a child process, for the end-to-end benchmark and the slow test.

Label Studio runs from its own virtualenv (``python3 -m venv /tmp/ls-venv &&
/tmp/ls-venv/bin/pip install label-studio``; never the project's venv) on 127.0.0.1 with SQLite
in a data folder, started with what the backend needs of it: legacy API tokens on (the fixed
:data:`TOKEN`), ``ML_BLOCK_LOCAL_IP=false`` and ``SSRF_PROTECTION_ENABLED=false`` (the backend
is on 127.0.0.1) and ``LABEL_STUDIO_HOST`` equal to its URL (the hostname ``/setup`` sends).
The first start runs its migrations (~95 s).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["TOKEN", "free_port", "label_studio", "label_studio_env", "wait_http"]

#: The API token of the Label Studio started here (legacy tokens are 40 hex digits).
TOKEN = "0123456789abcdef0123456789abcdef01234567"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, seconds: float, process: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until ``url`` answers below 500; TimeoutError after ``seconds``, RuntimeError when
    ``process`` (the server's) exits first."""
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the process serving {url} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer in {seconds} s")


def label_studio_env(url: str, data: Path) -> dict[str, str]:
    """The environment of a Label Studio at ``url`` keeping its data under ``data``."""
    return {
        **os.environ,
        "LABEL_STUDIO_USERNAME": "admin@example.com",
        "LABEL_STUDIO_PASSWORD": "adminpass123",
        "LABEL_STUDIO_USER_TOKEN": TOKEN,
        "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
        "COLLECT_ANALYTICS": "false",
        "SENTRY_DSN": "",
        "FRONTEND_SENTRY_DSN": "",
        "ML_BLOCK_LOCAL_IP": "false",
        "SSRF_PROTECTION_ENABLED": "false",
        "LABEL_STUDIO_BASE_DATA_DIR": str(data),
        "LABEL_STUDIO_HOST": url,
    }


@contextmanager
def label_studio(binary: str, folder: Path, seconds: float = 400) -> Iterator[tuple[str, Path]]:
    """Start Label Studio (the ``label-studio`` executable ``binary``) on a free port with
    SQLite under ``folder``; yields ``(url, log path)`` and stops it on exit."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data = folder / "label-studio"
    data.mkdir(parents=True, exist_ok=True)
    log_path = folder / "label-studio.log"
    args = [binary, "start", "--no-browser", "--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*args, "--data-dir", str(data)],
            env=label_studio_env(url, data),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_http(f"{url}/health", seconds, process)
            yield url, log_path
        finally:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
