"""Features of an image for a model with no pretrained encoder: its small grayscale pixels.

An image (PNG, JPEG, any format Pillow reads) becomes ``side * side`` numbers: converted to
grayscale with the ITU-R 601-2 luma transform ``L = 0.299 R + 0.587 G + 0.114 B`` (Pillow's
``convert("L")``), resized to ``side x side`` pixels (bilinear), scaled to ``[0, 1]`` by
``/ 255`` and flattened row by row. That is the representation of the classic digit benchmarks
(LeCun et al. 1998, MNIST: 28 x 28 grayscale) and is enough for simple images such as digits or
icons; real photographs want embeddings of a pretrained network, which the Label Studio backend
takes through its ``image_features`` hook (any ``bytes -> 1-D array`` callable).

The features are stored as float32 (:func:`encode_features`) so a restarted backend retrains
without fetching a single image again.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelwise.errors import InvalidInputError

#: Side of the square the default features resize every image to.
IMAGE_SIDE = 16


def pixel_features(image: bytes, side: int = IMAGE_SIDE) -> NDArray[np.float64]:
    """The ``(side * side,)`` grayscale pixels of an encoded image, in ``[0, 1]``.

    Parameters
    ----------
    image : bytes
        An encoded image (PNG, JPEG, GIF, ...).
    side : int
        The side, in pixels, of the square the image is resized to.

    Returns
    -------
    ndarray of shape (side * side,)
        ``convert("L")``, bilinear resize to ``side x side``, ``/ 255``, row-major.

    Raises
    ------
    InvalidInputError
        When the bytes are not an image Pillow can decode.
    """
    if isinstance(side, bool) or not isinstance(side, int) or side < 1:
        raise InvalidInputError(f"side must be a positive int, got {side!r}")
    from PIL import Image

    try:
        with Image.open(io.BytesIO(image)) as picture:
            gray = picture.convert("L")
    except Exception as exc:  # Pillow raises many types for bytes that are not an image
        raise InvalidInputError(f"not a decodable image ({len(image)} bytes): {exc}") from None
    if gray.size != (side, side):
        gray = gray.resize((side, side), Image.Resampling.BILINEAR)
    pixels = np.asarray(gray, dtype=np.float64)
    return (pixels / 255.0).ravel()


def encode_features(features: NDArray[np.floating[Any]]) -> str:
    """A 1-D feature vector as base64 of little-endian float32, to keep in JSON."""
    vector = np.asarray(features, dtype="<f4")
    if vector.ndim != 1:
        raise InvalidInputError(f"features must be 1-D, got shape {vector.shape}")
    return base64.b64encode(vector.tobytes()).decode("ascii")


def decode_features(text: str) -> NDArray[np.float64]:
    """The inverse of :func:`encode_features`."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError) as exc:
        raise InvalidInputError(f"stored features are not base64: {exc}") from None
    if len(raw) % 4:
        raise InvalidInputError(f"stored features have {len(raw)} bytes, not a float32 array")
    return np.frombuffer(raw, dtype="<f4").astype(np.float64)


def image_classifier(classes: Sequence[str]) -> Any:
    """A :class:`~labelwise.models.SklearnModel` over image features: logistic regression with
    the label space fixed to ``classes`` (probability columns in that order)."""
    from sklearn.linear_model import LogisticRegression

    from labelwise.models import SklearnModel

    return SklearnModel(LogisticRegression(C=1.0, max_iter=2000), classes=list(classes))
