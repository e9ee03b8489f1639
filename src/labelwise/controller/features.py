"""Features of stored samples for the loop's model: pixels of images, hashed words of texts.

Both are stateless (the same sample always gives the same row, whatever else is in the pool), so
the pool can be featurised chunk by chunk and cached by sample id.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelwise.errors import InvalidInputError

__all__ = ["Featurizer", "featurizer_for", "hashed_words", "image_pixels"]

#: Rows of features (a dense array or a SciPy sparse matrix) for ``(text, uri)`` pairs.
Featurizer = Callable[[Sequence[tuple[str | None, str | None]]], Any]


def image_pixels(
    samples: Sequence[tuple[str | None, str | None]], size: tuple[int, int] = (8, 8)
) -> NDArray[np.float64]:
    """Grey levels in [0, 1] of each image, resized to ``size`` (box filter), flattened."""
    from PIL import Image

    rows = np.empty((len(samples), size[0] * size[1]), dtype=np.float64)
    for i, (_, uri) in enumerate(samples):
        if uri is None:
            raise InvalidInputError("an image sample has no image URI")
        with Image.open(uri) as image:
            small = image.convert("L").resize(size, Image.Resampling.BOX)
            rows[i] = np.asarray(small, dtype=np.float64).ravel() / 255.0
    return rows


def hashed_words(samples: Sequence[tuple[str | None, str | None]], n_features: int = 2**16) -> Any:
    """L2-normalised counts of hashed words and word pairs of each text, as a sparse matrix."""
    from sklearn.feature_extraction.text import HashingVectorizer

    vectorizer = HashingVectorizer(n_features=n_features, ngram_range=(1, 2), alternate_sign=False)
    texts = [text or "" for text, _ in samples]
    return vectorizer.transform(texts)


def featurizer_for(task_type: str) -> Featurizer:
    """The default featurizer of a task type."""
    if task_type == "image_classification":
        return image_pixels
    if task_type == "text_classification":
        return hashed_words
    raise InvalidInputError(f"no default featurizer for task type {task_type!r}")
