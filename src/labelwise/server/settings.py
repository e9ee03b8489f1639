"""The server's settings: one object, read from ``LABELWISE_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["ENV_PREFIX", "ServerSettings"]

ENV_PREFIX = "LABELWISE_"


class ServerSettings(BaseModel):
    """How ``labelwise serve`` runs.

    Each field can be set by the environment variable ``LABELWISE_<FIELD>`` (``LABELWISE_STORE``,
    ``LABELWISE_BACKGROUND``, ...); arguments given to :meth:`from_env` win.
    """

    model_config = ConfigDict(frozen=True)

    store: str = Field("sqlite:///labelwise.db", description="database URL of the store")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    background: bool = Field(True, description="retrain in a background thread every N labels")
    trainer: Literal["server", "worker"] = Field(
        "server",
        description="who runs rounds and keeps queues full: this server ('server', in "
        "background threads, or inline without them), or `labelwise worker` processes "
        "('worker', PostgreSQL only; the server then never trains)",
    )
    workers: int = Field(
        1, ge=1, le=256, description="API processes (more than one: PostgreSQL, trainer 'worker')"
    )
    poll_seconds: float = Field(1.0, gt=0, description="how often the retrainer looks for labels")
    token_cache_seconds: float = Field(
        5.0,
        ge=0,
        description="how long a verified token is remembered (0: never); a revoked token "
        "works this long at most",
    )
    max_body_bytes: int = Field(
        1_000_000, ge=1, description="largest request body; a larger one is refused with 413"
    )
    max_upload_bytes: int = Field(
        1_000_000_000, ge=1, description="largest file upload (an import), streamed to disk"
    )
    failed_tokens_per_minute: int = Field(
        20, ge=1, description="wrong tokens from one address before it gets 429 for a minute"
    )

    @model_validator(mode="after")
    def _one_process_on_sqlite(self) -> ServerSettings:
        postgres = self.store.startswith(("postgresql", "postgres:"))
        if not postgres and (self.workers > 1 or self.trainer == "worker"):
            raise ValueError(
                "SQLite allows one writer at a time and its processes cannot coordinate "
                "rounds and leases, so a SQLite store is served by one process that trains in "
                "a background thread: drop --workers, or serve a postgresql:// store"
            )
        if self.workers > 1 and self.trainer != "worker":
            raise ValueError(
                "with more than one API process, rounds belong to `labelwise worker` "
                "(trainer='worker'): otherwise every process would train every project"
            )
        return self

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: object
    ) -> ServerSettings:
        """Settings from ``LABELWISE_*`` variables, then ``overrides``."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name in cls.model_fields:
            key = ENV_PREFIX + name.upper()
            if key in environ:
                values[name] = environ[key]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)
