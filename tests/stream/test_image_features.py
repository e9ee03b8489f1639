"""Pixel features of an image: grayscale, resized, in [0, 1], flattened row by row."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from labelwise.errors import InvalidInputError
from labelwise.stream.image_features import (
    IMAGE_SIDE,
    decode_features,
    encode_features,
    pixel_features,
)


def png(array: np.ndarray, mode: str | None = None) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array, mode=mode).save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_image_of_the_right_size_gives_its_pixels_over_255() -> None:
    pixels = np.arange(IMAGE_SIDE * IMAGE_SIDE, dtype=np.uint8).reshape(IMAGE_SIDE, IMAGE_SIDE)
    features = pixel_features(png(pixels))
    assert features.shape == (IMAGE_SIDE * IMAGE_SIDE,)
    expected = [pixels[r, c] / 255.0 for r in range(IMAGE_SIDE) for c in range(IMAGE_SIDE)]
    np.testing.assert_array_equal(features, expected)


def test_colour_goes_through_the_itu_601_luma() -> None:
    red = np.zeros((3, 5, 3), dtype=np.uint8)
    red[..., 0] = 255
    # L = 0.299 R + 0.587 G + 0.114 B = 76.245 -> 76
    np.testing.assert_allclose(pixel_features(png(red), side=2), np.full(4, 76 / 255))


def test_a_larger_image_is_resized_to_the_side() -> None:
    checker = np.kron(np.eye(2, dtype=np.uint8) * 255, np.ones((20, 20), dtype=np.uint8))
    features = pixel_features(png(checker), side=2)
    # Pillow's bilinear filter antialiases (its support grows with the shrink factor), so the
    # quadrants blend a little; the bright diagonal stays bright and the mean is kept
    assert features[0] == features[3] > 0.7 and features[1] == features[2] < 0.3
    assert features.mean() == pytest.approx(0.5, abs=0.01)
    gray = np.full((30, 50), 200, dtype=np.uint8)
    np.testing.assert_allclose(pixel_features(png(gray), side=4), np.full(16, 200 / 255))


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.integers(1, 12), st.integers(0, 2**32 - 1))
def test_features_are_in_the_unit_interval_for_any_image(
    height: int, width: int, side: int, seed: int
) -> None:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    features = pixel_features(png(pixels), side=side)
    assert features.shape == (side * side,)
    assert features.min() >= 0.0 and features.max() <= 1.0


def test_bytes_that_are_no_image_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="not a decodable image"):
        pixel_features(b"<html>not found</html>")
    with pytest.raises(InvalidInputError, match="side"):
        pixel_features(png(np.zeros((2, 2), dtype=np.uint8)), side=0)


def test_encoded_features_round_trip_as_float32() -> None:
    vector = np.array([0.0, 1.0, 0.25, 1 / 3])
    back = decode_features(encode_features(vector))
    np.testing.assert_array_equal(back, vector.astype(np.float32))
    with pytest.raises(InvalidInputError):
        decode_features("not base64!")
