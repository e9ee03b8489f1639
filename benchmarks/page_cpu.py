"""CPU time per label of the annotation page's requests, server and client in one process.

One annotator (:class:`benchmarks.service.Page`, the requests of ``annotate.js``) labels through
FastAPI's test client on a SQLite store of ``--pool`` texts with hashed word features: ``--labels``
labels before any model, then a round trains and as many again with the model's suggestions.
CPU is this process's ``time.process_time``: the route functions, the store and the test
client's own work, without sockets, the other clients or the machine's load, so that two trees
can be compared on a busy machine where labels/s swings with the load.

    .venv/bin/python -m benchmarks.page_cpu --pool 3000 --labels 300
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from fastapi.testclient import TestClient

from benchmarks.service import PROJECT, Page, build_store
from labelwise.server import ServerSettings, create_app
from labelwise.store import open_store

WARM_UP = 20


def label(page: Page, n: int, what: str) -> None:
    """``n`` labels after a warm-up; prints CPU and wall time per label and the requests sent."""
    for i in range(WARM_UP):
        page.answer("pos" if i % 2 else "neg")
    sent = {k: len(v) for k, v in page.out.items() if k not in ("done", "errors", "no_task")}
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(n):
        page.answer("pos" if i % 2 else "neg")
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    per_label = {
        k: round((len(v) - sent.get(k, 0)) / n, 2)
        for k, v in page.out.items()
        if k not in ("done", "errors", "no_task") and len(v) > sent.get(k, 0)
    }
    print(
        f"{what}: {1000 * cpu / n:.2f} ms CPU and {1000 * wall / n:.2f} ms wall per label;"
        f" requests per label {per_label}; errors {len(page.out['errors'])}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=3000)
    parser.add_argument("--labels", type=int, default=300)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="labelwise-page-cpu-"))
    url = f"sqlite:///{folder / 'store.db'}"
    build_store(url, folder, args.pool, 1, {"features": "hashed"})
    store = open_store(url)
    settings = ServerSettings(store=url, background=False, token_cache_seconds=60)
    out: dict[str, list[float]] = defaultdict(list)
    with TestClient(
        create_app(settings, store), headers={"Authorization": "Bearer token-0"}
    ) as client:
        page = Page(client, out, PROJECT)
        page.sign_in()
        label(page, args.labels, "no model")
        admin = {"Authorization": "Bearer admin-token"}
        trained = client.post(f"/api/admin/projects/{PROJECT}/rounds", headers=admin)
        assert trained.status_code == 200, trained.text
        page.refresh_model()  # the page sees the new model
        label(page, args.labels, "with a model")
    store.close()


if __name__ == "__main__":
    main()
