"""A small real project behind the app: text samples, an admin, two annotators, gold questions."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from labelwise.server import ServerSettings, create_app
from labelwise.store import Store, add_annotator, import_samples, init_store
from labelwise.store.members import add_member

WORDS = {"pos": ["good", "great", "fine", "lovely"], "neg": ["bad", "awful", "poor", "sad"]}


@dataclass
class Served:
    store: Store
    client: TestClient
    admin: dict[str, str]
    alice: dict[str, str]
    bob: dict[str, str]
    outsider: dict[str, str]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def write_project_csv(path: Path, n_pool: int = 40, n_eval: int = 10, n_gold: int = 4) -> Path:
    rows = []
    for i in range(n_pool + n_eval + n_gold):
        label = "pos" if i % 2 else "neg"
        text = f"{WORDS[label][i % 4]} movie number {i}"
        split = "pool" if i < n_pool else "eval" if i < n_pool + n_eval else "gold"
        rows.append(
            {"id": f"s{i}", "text": text, "split": split, "label": "" if split == "pool" else label}
        )
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "text", "split", "label"])
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    store = init_store(f"sqlite:///{tmp_path / 'store.db'}")
    import_samples(store, write_project_csv(tmp_path / "p.csv"), "reviews", labels=["neg", "pos"])
    import_samples(
        store, write_project_csv(tmp_path / "q.csv", 6, 2, 0), "other", labels=["neg", "pos"]
    )
    add_annotator(store, "root", "admin", "admin-token")
    for name in ("alice", "bob", "olga"):
        add_annotator(store, name, "annotator", f"{name}-token")
    add_member(store, "reviews", "alice")
    add_member(store, "reviews", "bob")
    add_member(store, "other", "olga")
    settings = ServerSettings(store=store.url, background=False, token_cache_seconds=0)
    with TestClient(create_app(settings, store)) as client:
        headers = bearer("admin-token")
        # the first use of a project runs its first round (a random queue)
        first = client.get("/api/admin/projects/reviews/settings", headers=headers)
        assert first.status_code == 200
        yield Served(
            store,
            client,
            headers,
            bearer("alice-token"),
            bearer("bob-token"),
            bearer("olga-token"),
        )
    store.close()
