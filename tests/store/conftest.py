from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from labelwise.store import Store, init_store
from tests.store.databases import BACKENDS, fresh_database_url


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database, on SQLite and on PostgreSQL."""
    yield from fresh_database_url(request.param, tmp_path)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A store with the current schema."""
    opened = init_store(store_url)
    yield opened
    opened.close()
