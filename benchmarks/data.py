"""Synthetic, seeded inputs for the benchmarks: probabilities, MC samples and embeddings.

Every generator is a pure function of its sizes and a seed, so a worker subprocess and the
parent process rebuild exactly the same arrays. float32 throughout, like a network's output.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

F32 = NDArray[np.float32]


def softmax(logits: NDArray[np.floating], axis: int = -1) -> NDArray[np.floating]:
    """Softmax along ``axis``, in place on ``logits`` (its dtype is kept)."""
    logits -= logits.max(axis=axis, keepdims=True)
    np.exp(logits, out=logits)
    logits /= logits.sum(axis=axis, keepdims=True)
    return logits


def make_proba(n: int, n_classes: int, seed: int = 0) -> F32:
    """(N, C) class probabilities, from confident to nearly uniform rows."""
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((n, n_classes), dtype=np.float32)
    logits *= rng.gamma(2.0, 1.5, size=(n, 1)).astype(np.float32)
    return softmax(logits)


def make_samples(n_samples: int, n: int, n_classes: int, seed: int = 0) -> F32:
    """(K, N, C) probabilities of K stochastic passes: a shared mean plus per-item disagreement."""
    rng = np.random.default_rng(seed)
    mean = rng.standard_normal((1, n, n_classes), dtype=np.float32)
    mean *= rng.gamma(2.0, 1.5, size=(1, n, 1)).astype(np.float32)
    spread = rng.gamma(1.5, 1.0, size=(1, n, 1)).astype(np.float32)
    logits = rng.standard_normal((n_samples, n, n_classes), dtype=np.float32)
    logits *= spread
    logits += mean
    return softmax(logits)


def make_repeated_samples(
    n_samples: int, n: int, n_classes: int, repeats: int, seed: int = 0
) -> F32:
    """(K, N, C) samples whose pool holds ``N / repeats`` distinct items, each ``repeats`` times.

    Like Repeated-MNIST (Kirsch et al. 2019): top-k BALD picks copies of one item, a batch-aware
    strategy should not.
    """
    if n % repeats:
        raise ValueError(f"n={n} is not a multiple of repeats={repeats}")
    distinct = make_samples(n_samples, n // repeats, n_classes, seed)
    return np.ascontiguousarray(np.tile(distinct, (1, repeats, 1)))


def make_embeddings(n: int, dim: int, seed: int = 0, n_clusters: int = 20) -> F32:
    """(N, d) embeddings from a mixture of Gaussian clusters of different widths."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((n_clusters, dim), dtype=np.float32) * 3.0
    widths = rng.uniform(0.5, 1.5, size=n_clusters).astype(np.float32)
    assign = rng.integers(0, n_clusters, size=n)
    x = rng.standard_normal((n, dim), dtype=np.float32)
    x *= widths[assign, None]
    x += centers[assign]
    return x


def make_pool_and_labeled(n: int, n_labeled: int, dim: int, seed: int = 0) -> tuple[F32, F32]:
    """Pool and labeled embeddings drawn from the same mixture (core-set's setting)."""
    both = make_embeddings(n + n_labeled, dim, seed)
    return np.ascontiguousarray(both[n_labeled:]), np.ascontiguousarray(both[:n_labeled])


def make_badge_inputs(n: int, n_classes: int, dim: int, seed: int = 0) -> tuple[F32, F32]:
    """Embeddings (N, d) and the probabilities (N, C) of a linear softmax head over them."""
    emb = make_embeddings(n, dim, seed)
    rng = np.random.default_rng(seed + 1)
    weights = rng.standard_normal((dim, n_classes), dtype=np.float32) / np.float32(np.sqrt(dim))
    return emb, softmax(emb @ weights)
