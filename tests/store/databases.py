"""Real databases for store tests: a SQLite file, and PostgreSQL when LABELWISE_TEST_PG_URL is set.

Each PostgreSQL test gets a schema of its own (``labelwise_test_<random>``) in the database
that the variable names, reached through ``search_path``, and dropped (with everything in it)
afterwards. A schema is as isolated as a database for the store and ten times faster to make.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_URL_VARIABLE = "LABELWISE_TEST_PG_URL"
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def _psycopg_url(url: str) -> str:
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


def _with_schema(url: str, name: str) -> str:
    joiner = "&" if "?" in url else "?"
    return f"{_psycopg_url(url)}{joiner}options=-csearch_path%3D{name}"


def fresh_database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of an empty database of ``backend``; drop it afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    server = os.environ.get(PG_URL_VARIABLE)
    if not server:
        pytest.skip(f"PostgreSQL tests need {PG_URL_VARIABLE} (e.g. postgresql://postgres@host/db)")
    import psycopg

    name = f"labelwise_test_{secrets.token_hex(6)}"
    with psycopg.connect(_psycopg_url(server), autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {name}")
    try:
        yield _with_schema(server, name)
    finally:
        with psycopg.connect(_psycopg_url(server), autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
