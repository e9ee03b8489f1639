"""How the ML backend behaves: one frozen settings object, checked when it is made."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from labelwise.controller.features import TextFeatures
from labelwise.errors import InvalidInputError
from labelwise.server.labelstudio.security import MAX_BODY_BYTES, BasicAuth, check_label_studio_url
from labelwise.stream.image_features import pixel_features


@dataclass(frozen=True)
class BackendSettings:
    """How the backend behaves.

    Parameters
    ----------
    strategy : the acquisition strategy, any name of :func:`labelwise.strategies.
        available_strategies` (default ``margin``) or, for NER projects (``<Labels>`` over
        ``<Text>``), of :func:`labelwise.spans.available_sequence_strategies` (NER projects use
        ``mnlp`` when it names none; a sequence-only name serves NER projects only).
    model : the service model (``auto``, ``logreg``, ``committee``, ``mc_dropout``); ``auto``
        picks the first that serves the strategy. An unrunnable pair is refused here.
    text_features : ``auto`` (MiniLM where installed, else hashed words), ``minilm``, ``hashed``.
    train_every : retrain once this many annotation events (created, updated, deleted) are new.
    train_delay : ... or this many seconds after the first new one, whichever comes first.
    resync_every : seconds between re-reads of every project's annotations from Label Studio
        (0: only at start and when a project connects). Needs ``label_studio_url`` and a token.
    batch_size : tasks a batch strategy chooses per ranking (ranked first, see
        :mod:`labelwise.server.labelstudio.ranking`).
    seed : seed of the models and of the strategies' randomness.
    push : after each retrain, import fresh predictions for the unlabeled tasks and set the
        project's ``model_version`` (needs ``label_studio_url`` and ``label_studio_token``).
    title : the title the backend is connected with in Label Studio; the ``model_version``
        answered before the backend pushed one.
    model_version : a fixed ``model_version`` for every prediction; None: follow the project.
    ask_label_studio : at ``/setup``, read the project's ``model_version`` from Label Studio.
    image_features : ``bytes -> 1-D array``: the features of an encoded image (default 16 x 16
        grayscale pixels); every image of a project must give the same length.
    image_timeout : seconds for fetching one image.
    local_files_root : Label Studio's ``LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT``.
    label_studio_url : the only Label Studio the backend sends requests to. None: no request.
    label_studio_token : the API token for ``label_studio_url``; the push and the resync use
        only this one; images and ``/setup``'s check fall back to the token ``/setup`` sends.
    basic_auth_user, basic_auth_pass : HTTP basic auth every route but the health check needs.
    max_body_bytes : request bodies over this size are answered 413.
    """

    strategy: str = "margin"
    model: str = "auto"
    text_features: TextFeatures = "auto"
    train_every: int = 10
    train_delay: float = 10.0
    resync_every: float = 300.0
    batch_size: int = 20
    seed: int = 0
    push: bool = True
    title: str = "labelwise"
    model_version: str | None = None
    ask_label_studio: bool = True
    image_features: Callable[[bytes], Any] = pixel_features
    image_timeout: float = 10.0
    local_files_root: str | None = field(
        default_factory=lambda: os.environ.get("LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT") or None
    )
    label_studio_url: str | None = None
    label_studio_token: str | None = field(default=None, repr=False)
    basic_auth_user: str | None = None
    basic_auth_pass: str | None = field(default=None, repr=False)
    max_body_bytes: int = MAX_BODY_BYTES

    def __post_init__(self) -> None:
        from labelwise.controller.models import resolve_model

        for name in ("train_every", "batch_size", "max_body_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInputError(f"{name} must be a positive int, got {value!r}")
        if not self.train_delay >= 0:
            raise InvalidInputError(f"train_delay must be >= 0 seconds, got {self.train_delay}")
        if not self.resync_every >= 0:
            raise InvalidInputError(f"resync_every must be >= 0 seconds, got {self.resync_every}")
        if not self.image_timeout > 0:
            raise InvalidInputError(f"image_timeout must be positive, got {self.image_timeout}")
        if self.text_features not in ("auto", "minilm", "hashed"):
            raise InvalidInputError(
                f"text_features must be auto, minilm or hashed, got {self.text_features!r}"
            )
        if not self.sequence_only:
            resolve_model(self.strategy, self.model)  # refuses an unknown or unrunnable pair
        if self.label_studio_url:
            check_label_studio_url(self.label_studio_url)
        elif self.label_studio_token:
            raise InvalidInputError("a Label Studio token needs the Label Studio URL it is for")
        self.basic_auth()  # both credentials or neither

    @property
    def sequence_only(self) -> bool:
        """Whether the strategy is a sequence strategy's name only (NER projects only)."""
        from labelwise.spans.selection import available_sequence_strategies
        from labelwise.strategies import available_strategies

        return (
            self.strategy in available_sequence_strategies()
            and self.strategy not in available_strategies()
        )

    @property
    def sequence_strategy(self) -> str:
        """The strategy of NER projects: ``strategy`` when it names a sequence strategy
        (``mnlp``, ``token_entropy``, ``random``...), else the default, ``mnlp``."""
        from labelwise.spans.selection import (
            DEFAULT_SEQUENCE_STRATEGY,
            available_sequence_strategies,
        )

        if self.strategy in available_sequence_strategies():
            return self.strategy
        return DEFAULT_SEQUENCE_STRATEGY

    @property
    def model_name(self) -> str:
        """The service model that runs the strategy (``auto`` resolved; ``crf`` for a
        sequence strategy, which serves NER projects only)."""
        from labelwise.controller.models import resolve_model

        return "crf" if self.sequence_only else resolve_model(self.strategy, self.model)

    @property
    def talks_to_label_studio(self) -> bool:
        """Whether the backend may push and resync: a configured URL and token."""
        return bool(self.label_studio_url and self.label_studio_token)

    def basic_auth(self) -> BasicAuth | None:
        """The credentials requests need, or None when the backend is open."""
        if self.basic_auth_user is None and self.basic_auth_pass is None:
            return None
        return BasicAuth(self.basic_auth_user or "", self.basic_auth_pass or "")


def project_id(value: Any) -> int:
    """Label Studio's project id from ``"12.1712345678"``, ``12`` or ``{"id": 12, ...}``."""
    raw = value.get("id") if isinstance(value, Mapping) else value
    text = str(raw).split(".", 1)[0] if raw is not None else ""
    if isinstance(raw, bool) or not text.isdigit():
        raise InvalidInputError(
            f"project must be Label Studio's project id ('<id>.<timestamp>' or an object with "
            f"'id'), got {value!r}"
        )
    return int(text)
