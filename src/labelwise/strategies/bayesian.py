"""Bayesian acquisition over sampled predictions: BALD, variation ratios, mean std, max entropy.

Every function takes ``samples`` of shape (K, N, C): the class probabilities of N pool items
under K draws from the model's posterior (MC Dropout passes, ensemble members), and returns N
scores, higher = more informative. The scores follow Gal, Islam & Ghahramani, "Deep Bayesian
Active Learning with Image Data", ICML 2017, sec. 3.

The kernels read the pool in chunks of about :data:`CHUNK_BYTES`, each validated and logged
once in its own dtype, shared by ``n_jobs`` threads.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.errors import InvalidInputError
from labelwise.strategies.base import scoring_strategy
from labelwise.strategies.chunking import iter_chunks, share_pieces, threads_for
from labelwise.validation import PROBA_SUM_ATOL, FloatArray, check_proba

#: Bytes of one chunk of samples.
CHUNK_BYTES = 1024 * 1024
#: Below this many values (K * N * C) a second thread costs more than it saves.
MIN_VALUES_FOR_THREADS = 2_000_000

ChunkKernel = Callable[[NDArray[np.floating]], NDArray[np.floating]]


def check_samples(samples: ArrayLike, name: str = "samples") -> FloatArray:
    """Check the layout of (K, N, C) samples, K >= 1; the kernels check the values chunk by
    chunk as they read them (integer arrays are checked and converted here)."""
    arr = np.asarray(samples)
    if arr.ndim != 3 or arr.dtype.kind != "f" or arr.shape[-1] < 2:
        arr = check_proba(arr, name, ndim=3)
    if arr.shape[0] < 1:
        raise InvalidInputError(f"{name} needs at least one sample (K >= 1), got {arr.shape}")
    return arr


def check_samples_chunk(x: NDArray[np.floating], name: str = "samples") -> None:
    """Refuse NaN, negative values and rows not summing to one in a (K, n, C) chunk: row sums
    (one matrix-vector product) and minimum first; where they fail, :func:`check_proba` raises
    its message."""
    if x.size == 0:
        return
    sums = x.reshape(-1, x.shape[-1]) @ np.ones(x.shape[-1], dtype=x.dtype)
    if not (np.abs(sums - 1) <= PROBA_SUM_ATOL).all() or x.min() < 0:
        check_proba(x, name, ndim=3)


def _rows_per_chunk(k: int, c: int, itemsize: int) -> int:
    return max(1, CHUNK_BYTES // max(1, k * c * itemsize))


def _map_chunks(
    kernel: ChunkKernel,
    samples: FloatArray,
    n_jobs: int | None,
    name: str = "samples",
    *,
    validate: bool = True,
) -> NDArray[np.float64]:
    """The (N,) scores of ``kernel`` over the (K, n, C) chunks, each validated first."""
    k, n, c = samples.shape
    out = np.empty(n, dtype=np.float64)
    chunks = list(iter_chunks(n, _rows_per_chunk(k, c, samples.itemsize)))

    def run(i: int) -> bool:
        x = samples[:, chunks[i]]
        if validate:
            check_samples_chunk(x, name)
        out[chunks[i]] = kernel(x)
        return True

    threads = threads_for(samples.size, len(chunks), n_jobs, MIN_VALUES_FOR_THREADS)
    share_pieces(len(chunks), threads, lambda: run)
    return out


def _neg_entropy_sum(p: NDArray[np.floating], buf: NDArray[np.floating]) -> NDArray[np.floating]:
    """(n,) ``sum p log p`` of (K, n, C) ``p`` over axes 0 and 2 (0 log 0 = 0); ``buf``: scratch."""
    k, _, c = p.shape
    np.maximum(p, np.finfo(p.dtype).tiny, out=buf)
    np.log(buf, out=buf)
    np.multiply(buf, p, out=buf)
    per_class = buf.sum(axis=0) if k > 1 else buf[0]
    return per_class @ np.ones(c, dtype=p.dtype)


def _bald_kernel(x: NDArray[np.floating]) -> NDArray[np.floating]:
    k = x.shape[0]
    buf = np.empty(x.shape, dtype=x.dtype)
    expected_neg_h = _neg_entropy_sum(x, buf) / k
    mean = _sample_mean(x)[None]
    neg_h_mean = _neg_entropy_sum(mean, buf[:1])
    return np.maximum(expected_neg_h - neg_h_mean, 0)


def _sample_mean(x: NDArray[np.floating]) -> NDArray[np.floating]:
    """The (n, C) mean over the K samples of a (K, n, C) chunk, as one matrix-vector product."""
    k, n, c = x.shape
    weights = np.full(k, 1.0 / k, dtype=x.dtype)
    return (weights @ x.reshape(k, n * c)).reshape(n, c)


def _expected_entropy_kernel(x: NDArray[np.floating]) -> NDArray[np.floating]:
    return -_neg_entropy_sum(x, np.empty(x.shape, dtype=x.dtype)) / x.shape[0]


def _max_entropy_kernel(x: NDArray[np.floating]) -> NDArray[np.floating]:
    mean = _sample_mean(x)[None]
    return -_neg_entropy_sum(mean, np.empty_like(mean))


def expected_entropy(samples: ArrayLike, *, n_jobs: int | None = None) -> NDArray[np.float64]:
    """``E_k H[p_k] = -(1/K) sum_k sum_c p_kc log p_kc``, BALD's second term, in nats."""
    return _map_chunks(_expected_entropy_kernel, check_samples(samples), n_jobs)


def bald(
    samples: ArrayLike, *, n_jobs: int | None = None, name: str = "samples"
) -> NDArray[np.float64]:
    """Mutual information between the label and the model parameters (BALD).

    ``I[y; w | x] = H[E_k p_k] - E_k H[p_k]``, in nats, from K posterior samples: high when the
    samples are each confident but disagree (Houlsby, Huszár, Ghahramani & Lengyel, "Bayesian
    Active Learning for Classification and Preference Learning", 2011; Gal, Islam & Ghahramani
    2017, eq. 2).

    Parameters
    ----------
    samples : (K, N, C) probabilities of N items under K posterior samples.
    n_jobs : threads sharing the pool's chunks (default: the cores this process may use).
    name : the array's name in error messages (a committee's ``committee_proba``).

    Returns
    -------
    (N,) float64 scores in [0, log C], clipped at 0 against rounding.

    Examples
    --------
    >>> round(float(bald([[[1.0, 0.0]], [[0.0, 1.0]]])[0]), 6)  # two confident, disagreeing
    0.693147
    """
    return _map_chunks(_bald_kernel, check_samples(samples, name), n_jobs, name)


def max_entropy(
    samples: ArrayLike, *, n_jobs: int | None = None, name: str = "samples"
) -> NDArray[np.float64]:
    """Predictive entropy ``H[E_k p_k] = -sum_c pbar_c log pbar_c`` (Gal et al. 2017, eq. 1).

    The entropy of the mean prediction over the K samples (axis 0), in nats.
    """
    return _map_chunks(_max_entropy_kernel, check_samples(samples, name), n_jobs, name)


def variation_ratios(samples: ArrayLike) -> NDArray[np.float64]:
    """``1 - f_m / K``, where ``f_m`` counts the samples voting for the modal class.

    Variation ratios (Freeman, "Elementary Applied Statistics", 1965), as in Gal et al. 2017,
    eq. 3: the votes are each sample's argmax; 0 when all samples agree.
    """
    arr = check_samples(samples)
    return _map_chunks(_variation_ratios_kernel, arr, 1)


def _variation_ratios_kernel(x: NDArray[np.floating]) -> NDArray[np.floating]:
    k, _, c = x.shape
    return 1.0 - vote_counts(x.argmax(axis=2), c).max(axis=1) / k


def vote_counts(votes: NDArray[np.integer], n_classes: int) -> NDArray[np.int64]:
    """(N, n_classes) counts of each class among the (K, N) integer votes."""
    n = votes.shape[1]
    flat = (votes + n_classes * np.arange(n)[None, :]).ravel()
    return np.bincount(flat, minlength=n * n_classes).reshape(n, n_classes)


def mean_std(samples: ArrayLike) -> NDArray[np.float64]:
    """``(1/C) sum_c sqrt(E_k[p_kc^2] - E_k[p_kc]^2)``: the class-averaged std over samples.

    Mean standard deviation (Kampffmeyer, Salberg & Jenssen, "Semantic Segmentation of Small
    Objects and Modeling of Uncertainty in Urban Remote Sensing Images Using Deep Convolutional
    Neural Networks", CVPR workshops 2016), as used by Gal et al. 2017; population std (ddof 0).
    """
    return _map_chunks(_mean_std_kernel, check_samples(samples), None)


def _mean_std_kernel(x: NDArray[np.floating]) -> NDArray[np.floating]:
    k, _, c = x.shape
    deviation = x - _sample_mean(x)[None]  # two passes: no cancellation when samples agree
    var = np.einsum("knc,knc->nc", deviation, deviation) / k
    return np.sqrt(var) @ np.full(c, 1.0 / c, dtype=var.dtype)


BALD = scoring_strategy("BALD", "bald", "samples", bald)
VariationRatios = scoring_strategy(
    "VariationRatios", "variation_ratios", "samples", variation_ratios
)
MeanStd = scoring_strategy("MeanStd", "mean_std", "samples", mean_std)
MaxEntropy = scoring_strategy("MaxEntropy", "max_entropy", "samples", max_entropy)
