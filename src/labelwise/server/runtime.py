"""What a running server holds: the store, one controller (and retrainer) per project, a
short-lived cache of verified tokens, and the threads that run the annotators' store calls.
Built by :func:`labelwise.server.create_app`.

The annotators' hot endpoints (next task, answer) run their store work through
:meth:`Runtime.call`, on a small pool of its own: one thread on SQLite, which has one writer at
a time anyway. Sixteen threads each holding a connection and taking turns on the write lock
spent most of their time waiting for the GIL inside the lock (every SQLite call releases it and
must win it back); one thread runs each transaction without that convoy, while the event loop
parses requests and writes responses.

With ``trainer="worker"`` (PostgreSQL, ``labelwise serve --workers N``) this process runs no
round and keeps no queue: ``labelwise worker`` processes do (see
:class:`labelwise.controller.background.ClaimedController`).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from labelwise.controller import Controller, Retrainer
from labelwise.controller.background import ClaimedController
from labelwise.server.settings import ServerSettings
from labelwise.store import AnnotatorInfo, Store, annotator_for_token, list_projects, list_rounds
from labelwise.store.checkpointer import WalCheckpointer
from labelwise.store.projects import hash_token

__all__ = ["ProjectLoop", "Runtime"]

T = TypeVar("T")
#: Threads for the store calls of the hot endpoints on PostgreSQL (row locks, many writers).
PG_THREADS = 8


@dataclass
class ProjectLoop:
    """A project's controller and, when the server retrains in the background, its retrainer."""

    controller: Controller
    retrainer: Retrainer | None

    @property
    def stopped(self) -> bool:
        """The project's one stop state (:func:`labelwise.controller.stop_state`)."""
        return self.controller.stop_decision().stop

    @property
    def stop_reason(self) -> str | None:
        """Why the project stopped, None while it goes on."""
        return self.controller.stop_decision().reason


class Runtime:
    """The server's state; every request reaches it through a dependency."""

    def __init__(self, store: Store, settings: ServerSettings) -> None:
        self.store = store
        self.settings = settings
        self._loops: dict[str, ProjectLoop] = {}
        self._tokens: dict[str, tuple[AnnotatorInfo, float]] = {}
        self._lock = threading.Lock()
        self._creating: dict[str, threading.Lock] = {}
        self._calls: ThreadPoolExecutor | None = None  # started on first use, again after close
        self._checkpointer: WalCheckpointer | None = None  # started with the server

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the store's threads (see the module's notes), awaited."""
        calls = self._calls
        if calls is None:
            with self._lock:
                if self._calls is None:
                    threads = 1 if self.store.dialect == "sqlite" else PG_THREADS
                    self._calls = ThreadPoolExecutor(threads, thread_name_prefix="labelwise-store")
                calls = self._calls
        return await asyncio.get_running_loop().run_in_executor(calls, partial(fn, *args))

    def cached_annotator(self, token: str) -> AnnotatorInfo | None:
        """The annotator of a token verified less than ``token_cache_seconds`` ago, or None."""
        cached = self._tokens.get(hash_token(token))
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        return None

    def annotator(self, token: str) -> AnnotatorInfo | None:
        """The annotator a token belongs to (cached for ``token_cache_seconds``)."""
        key = hash_token(token)
        now = time.monotonic()
        cached = self._tokens.get(key)
        if cached is not None and cached[1] > now:
            return cached[0]
        found = annotator_for_token(self.store, token)
        if found is not None and self.settings.token_cache_seconds > 0:
            self._tokens[key] = (found, now + self.settings.token_cache_seconds)
        return found

    def loop(self, project: str) -> ProjectLoop:
        """The project's loop, created (and its trainer started) on first use.

        Nothing trains under the server's lock: with background training the trainer's own
        thread runs the first round while its queue keeper hands out random samples; without
        it (tests, embedded use) the first round runs here, outside the lock.
        """
        with self._lock:
            found = self._loops.get(project)
            if found is not None:
                return found
            creating = self._creating.setdefault(project, threading.Lock())
        with creating:
            with self._lock:
                found = self._loops.get(project)
            if found is not None:
                return found
            found = self._new_loop(project)
            with self._lock:
                self._loops[project] = found
            return found

    def _new_loop(self, project: str) -> ProjectLoop:
        if self.settings.trainer == "worker":  # rounds and queue: labelwise worker
            return ProjectLoop(ClaimedController(self.store, project), None)
        controller = Controller(self.store, project)
        retrainer = None
        if self.settings.background:
            retrainer = Retrainer(controller, self.settings.poll_seconds).start()
        elif not list_rounds(self.store, project):
            controller.run_round(actor="server")  # the first queue, before anyone asks
        return ProjectLoop(controller, retrainer)

    def start(self) -> None:
        """Start the server's own threads: a SQLite file store's WAL checkpointer (see
        :mod:`labelwise.store.checkpointer`), so that no annotator's commit pays for a
        checkpoint. PostgreSQL and in-memory SQLite need none."""
        with self._lock:
            if self._checkpointer is None and self.store.sqlite_path is not None:
                self._checkpointer = WalCheckpointer(self.store).start()
        if self.settings.background and self.settings.trainer == "server":
            # every project's trainer starts with the server
            for info in list_projects(self.store):
                self.loop(info.name)

    def close(self) -> None:
        """Stop every retrainer and the store's threads."""
        with self._lock:
            calls, self._calls = self._calls, None
        if calls is not None:
            calls.shutdown(wait=True)
        with self._lock:
            checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is not None:
            checkpointer.stop()
        with self._lock:
            for loop in self._loops.values():
                if loop.retrainer is not None:
                    loop.retrainer.stop()
            self._loops.clear()
