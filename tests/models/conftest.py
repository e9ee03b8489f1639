"""Small, well-separated data shared by the model tests."""

from __future__ import annotations

import numpy as np
import pytest


def blobs(n: int = 60, n_features: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three Gaussian clusters 6 standard deviations apart, labels 0, 1, 2 in turn."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    centers = 6.0 * np.eye(3, n_features)
    X = centers[y] + rng.normal(size=(n, n_features))
    return X.astype(np.float32), y


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray]:
    return blobs()


@pytest.fixture(autouse=True)
def _one_torch_thread() -> None:
    """Two cores are shared: keep torch (when the test uses it) to one thread."""
    import sys

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
