"""A round's fitted model kept in the store, and read back by the processes that did not train it.

Past one process (``labelwise serve --workers N --trainer worker``) the trainer fits the model
and the API processes serve the annotators, who are shown the model's suggestion with each
task. So the round keeps its fitted model adapter with it (:func:`dump_model`, written in the
round's transaction by :func:`labelwise.store.record_round`), and an API process reads the
newest one when it is newer than its own (:class:`NewestStoredModel`): it asks the store for
the newest model's round number at most every ``check_seconds`` (one indexed read, no
bytes), reads and unpickles the bytes once per new round, and serves that model until a newer
one is stored. A one-process server keeps its own model in memory and writes it too, so that a
restart serves a model at once.

The bytes are a pickle (protocol 5) of the model adapter. The store is trusted: only labelwise's
processes write it; a store that others can write must not be served, pickle or not. A pickle
is read correctly only by the libraries that wrote it, so the format names them:
``labelwise-model/1 labelwise/0.1.0 numpy/2.1.3 scikit-learn/1.6.1`` (the layout, then the
version of every installed distribution whose classes the pickle holds). A process refuses
bytes of another layout or other versions (:class:`StoredModelError`, naming both); the
reader logs it once and serves no stored model, so a suggestion is missing, never a request
failed. (A CRF tagger pickles and copies without its compiled C object and opens it again from
its own bytes: :class:`labelwise.spans.crf.CRFTagger`.)
"""

from __future__ import annotations

import copy
import functools
import importlib.metadata
import io
import logging
import pickle
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FunctionType
from typing import Any

from labelwise.errors import LabelwiseError
from labelwise.store import Store
from labelwise.store.round_models import ModelBlob, newest_model_round, newest_round_model

__all__ = [
    "LAYOUT",
    "LoadedModel",
    "NewestStoredModel",
    "StoredModelError",
    "dump_model",
    "load_model",
    "publishable",
    "served_copy",
]

logger = logging.getLogger(__name__)

#: The layout of the bytes; the first word of every format. Change it with the layout.
LAYOUT = "labelwise-model/1"
_PROTOCOL = 5
#: Distributions whose name is not their top-level module's.
_DISTRIBUTIONS = {"sklearn": "scikit-learn", "pycrfsuite": "python-crfsuite"}


class StoredModelError(LabelwiseError):
    """A model cannot be kept in the store, or the stored one cannot be read by this process."""


@dataclass(frozen=True)
class LoadedModel:
    """A stored model read back: the model adapter, its round, the feature kind it reads."""

    model: Any
    round: int
    features: str | None


@functools.cache
def _version_of(module: str) -> str | None:
    """The installed version of the distribution of top-level ``module``; None for the
    standard library and modules of no distribution."""
    if module == "labelwise":
        from labelwise import __version__

        return __version__
    try:
        return importlib.metadata.version(_DISTRIBUTIONS.get(module, module))
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return None


class _Pickler(pickle.Pickler):
    """A pickler that notes the top-level module of every class it meets."""

    def __init__(self, out: io.BytesIO) -> None:
        super().__init__(out, protocol=_PROTOCOL)
        self.modules: set[str] = set()

    def reducer_override(self, obj: Any) -> Any:
        named = obj if isinstance(obj, type | FunctionType) else type(obj)
        self.modules.add(str(getattr(named, "__module__", "") or "").partition(".")[0])
        return NotImplemented  # pickle it as usual


def dump_model(model: Any, features: str | None = None) -> ModelBlob:
    """The fitted model adapter as bytes for the store, with their format.

    Parameters
    ----------
    model : a fitted model adapter (``predict_proba``, ``predict``... as the loop uses it)
    features : the feature kind the model reads (``FeatureSource.name``), None for a tagger

    Raises
    ------
    StoredModelError
        When the model cannot be pickled (an adapter holding an open handle, a lambda...).
    """
    out = io.BytesIO()
    pickler = _Pickler(out)
    try:
        pickler.dump(model)
    except (pickle.PicklingError, TypeError, AttributeError) as error:
        raise StoredModelError(
            f"the {type(model).__name__} model cannot be kept in the store: "
            f"{type(error).__name__}: {error}"
        ) from error
    versions = {m: v for m in pickler.modules if m and (v := _version_of(m)) is not None}
    names = sorted(f"{_DISTRIBUTIONS.get(m, m)}/{v}" for m, v in versions.items())
    return ModelBlob(out.getvalue(), " ".join([LAYOUT, *names]), features)


def load_model(blob: ModelBlob, round_number: int | None = None) -> Any:
    """The model adapter of ``blob`` (of round ``round_number``, for the messages).

    Raises
    ------
    StoredModelError
        For another layout, libraries of other versions than this process's, or bytes that do
        not unpickle; the message says which and what to do.
    """
    which = "the stored model" if round_number is None else f"round {round_number}'s model"
    check_format(blob.format, which)
    try:
        return pickle.loads(blob.data)  # the store is trusted (see the module's notes)
    except Exception as error:
        raise StoredModelError(
            f"{which} in the store cannot be read ({type(error).__name__}: {error}); "
            "the next round stores a new one"
        ) from error


def check_format(found: str, which: str = "the stored model") -> None:
    """Refuse a format this process does not write: another layout or other library versions."""
    layout, *names = found.split()
    if layout != LAYOUT:
        raise StoredModelError(
            f"{which} is in format {layout!r}; this labelwise reads {LAYOUT!r}: run the API "
            "processes and `labelwise worker` from one labelwise version"
        )
    differ = []
    for name in names:
        distribution, _, version = name.partition("/")
        module = next((m for m, d in _DISTRIBUTIONS.items() if d == distribution), distribution)
        mine = _version_of(module)
        if mine != version:
            differ.append(f"{distribution} {version} there, {mine or 'none'} here")
    if differ:
        raise StoredModelError(
            f"{which} was written with other libraries than this process has ("
            + "; ".join(differ)
            + "): install the same versions where the trainer (labelwise worker) and the API "
            "processes run"
        )


def publishable(model: Any, features: str | None) -> ModelBlob | None:
    """:func:`dump_model`, or None (logged) for a model that cannot be kept: the round goes on
    without it, and processes that did not train it serve no suggestion until one can."""
    try:
        return dump_model(model, features)
    except StoredModelError as error:
        logger.warning("%s", error)
        return None


def served_copy(model: Any) -> Any:
    """A copy of the fitted model, served while the next round refits the original."""
    return copy.deepcopy(model)


class NewestStoredModel:
    """The newest model a project's rounds stored, read when newer than the caller's own.

    Parameters
    ----------
    store, project : where the rounds are kept
    check_seconds : how long a number read from the store is trusted; the store is asked for
        the newest model's round at most this often (0: at every call)
    clock : seconds, monotonic (tests pass their own)
    """

    def __init__(
        self,
        store: Store,
        project: str,
        *,
        check_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.project = project
        self.check_seconds = check_seconds
        self._clock = clock
        self._checked_at: float | None = None
        self._loaded: LoadedModel | None = None
        self._refused: int | None = None  # a round whose model this process cannot read
        self._lock = threading.Lock()

    @property
    def loaded(self) -> LoadedModel | None:
        """The stored model read last, if any (no store read)."""
        return self._loaded

    def newer_than(self, own_round: int | None) -> LoadedModel | None:
        """The newest stored model when it is newer than ``own_round`` (the caller's model in
        memory; None when it has none), else None.

        A call in another thread's read of the store does not wait for it: it answers with
        the model read before.
        """
        now = self._clock()
        due = self._checked_at is None or now - self._checked_at >= self.check_seconds
        if due and self._lock.acquire(blocking=False):
            try:
                self._checked_at = now
                self._read_newer(own_round)
            finally:
                self._lock.release()
        loaded = self._loaded
        if loaded is None or (own_round is not None and loaded.round <= own_round):
            return None
        return loaded

    def refuse(self, loaded: LoadedModel, reason: str) -> None:
        """Serve ``loaded`` no more (its round is not read again), and log ``reason`` once."""
        with self._lock:
            self._refused = loaded.round
            if self._loaded is loaded:
                self._loaded = None
        logger.warning("project %r: %s", self.project, reason)

    def _read_newer(self, own_round: int | None) -> None:
        newest = newest_model_round(self.store, self.project)
        known = None if self._loaded is None else self._loaded.round
        if newest is None or newest in (known, self._refused):
            return
        if own_round is not None and newest <= own_round:
            return  # the caller's own model is as new: no bytes to read
        stored = newest_round_model(self.store, self.project)
        if stored is None or stored.round_number in (known, self._refused):
            return
        try:
            model = load_model(stored.blob, stored.round_number)
        except StoredModelError as error:
            self._refused = stored.round_number
            logger.warning("project %r: %s", self.project, error)
            return
        self._loaded = LoadedModel(model, stored.round_number, stored.blob.features)
