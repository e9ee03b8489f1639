"""BatchBALD: greedy batches that maximise the joint mutual information with the parameters.

Kirsch, van Amersfoort & Gal, "BatchBALD: Efficient and Diverse Batch Acquisition for Deep
Bayesian Active Learning", NeurIPS 2019. For a batch ``A`` the score is

    I(y_A; w) = H(y_A) - sum_{i in A} E_w H(y_i | w),

and the greedy step adds the item ``n`` with the largest marginal gain

    I(y_A, y_n; w) - I(y_A; w) = H(y_n | y_A) - E_w H(y_n | w)
                               = E_{y_A} H[ sum_k pi_k(y_A) p_k(y_n) ] - E_k H[p_k(y_n)],

where ``pi_k(y_A) = p_k(y_A) / sum_j p_j(y_A)`` is the posterior over the K parameter samples
after seeing the configuration ``y_A`` (the joint is a mixture of K product distributions). The
outer expectation is exact, over all ``C^|A|`` configurations, while that number stays at most
``n_configs``; beyond, it is estimated from ``n_configs`` configurations sampled from the joint,
stratified over the K samples (the paper's sampling estimator, written with the posterior
weights, which has a lower variance than sampling the joint entropy itself).

Per step, the gains of all candidates are one ``(configs x K) @ (K x N*C)`` product and the
entropies along the classes, block by block over the pool. Configurations with the same
posterior are merged, and lazy greedy evaluation skips candidates whose last gain cannot beat
the best one found (the joint mutual information is submodular).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.errors import InvalidInputError
from labelwise.strategies.base import (
    Mask,
    PoolInputs,
    Rng,
    Selection,
    Strategy,
    register_strategy,
    select_indices,
)
from labelwise.strategies.bayesian import (
    MIN_VALUES_FOR_THREADS,
    _expected_entropy_kernel,
    _map_chunks,
    check_samples,
    expected_entropy,
)
from labelwise.strategies.chunking import resolve_n_jobs, share_pieces
from labelwise.validation import FloatArray, check_positive_int, check_rng

#: Configurations of the batch's labels: enumerated exactly up to this many, sampled beyond.
DEFAULT_N_CONFIGS = 1000
#: Configurations whose posteriors over the K samples agree to this are merged.
POSTERIOR_GRID = 1e-4
#: Bytes of one (configs x chunk*C) block of joint predictions.
BLOCK_BYTES = 2 * 1024 * 1024
#: Most pool items in one block (the first step has a single configuration).
MAX_BLOCK_ROWS = 16_384


def merge_posteriors(
    post: NDArray[np.float64], weights: NDArray[np.float64], grid: float = POSTERIOR_GRID
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Merge configurations whose posteriors round to the same point of a ``grid``.

    A group becomes one configuration: its summed weight and its weighted mean posterior. The
    error is second order in the grid (measurements: benchmarks/README.md, tuning history).
    """
    key = np.round(post / grid).astype(np.int64)
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    if first.size == post.shape[0]:
        return post, weights
    inverse = inverse.ravel()
    merged_weights = np.bincount(inverse, weights=weights, minlength=first.size).astype(np.float64)
    merged = np.zeros((first.size, post.shape[1]))
    np.add.at(merged, inverse, post * weights[:, None])
    merged /= np.maximum(merged_weights, np.finfo(np.float64).tiny)[:, None]
    return merged, merged_weights


class JointConfigurations:
    """Label configurations ``y_A`` of a batch, held as ``log p_k(y_A)`` for every sample k.

    Exact (every configuration, weighted by its probability) while ``C^|A| <= n_configs``;
    afterwards ``n_configs`` (rounded up to a multiple of K) configurations sampled from the
    joint, ``n_configs / K`` from each sample's product distribution, weighted equally.
    """

    def __init__(self, n_samples: int, n_configs: int) -> None:
        self.n_samples = n_samples
        self.n_configs = n_configs
        #: (K, S) log-likelihood of each configuration under each parameter sample.
        self.log_lik = np.zeros((n_samples, 1))
        #: (S,) the sample each configuration was drawn from; None while exact.
        self.source: NDArray[np.intp] | None = None
        self._items: list[NDArray[np.float64]] = []

    @property
    def exact(self) -> bool:
        """Whether every configuration is enumerated (no sampling so far)."""
        return self.source is None

    def add(self, probs: NDArray[np.floating], rng: np.random.Generator) -> None:
        """Extend the configurations with one more item's (K, C) probabilities."""
        log_p = np.log(np.maximum(probs.astype(np.float64), np.finfo(np.float64).tiny))
        self._items.append(log_p)
        k, c = log_p.shape
        if self.exact and self.log_lik.shape[1] * c <= self.n_configs:
            self.log_lik = (self.log_lik[:, :, None] + log_p[:, None, :]).reshape(k, -1)
            return
        if self.exact:  # switch to sampling: draw every item of the batch so far
            m = k * math.ceil(self.n_configs / k)
            self.source = np.arange(m) % k
            self.log_lik = np.zeros((k, m))
            for item in self._items:
                self._draw(item, rng)
        else:
            self._draw(log_p, rng)

    def _draw(self, log_p: NDArray[np.float64], rng: np.random.Generator) -> None:
        """Draw each configuration's label for one item from its source sample; add its logs."""
        assert self.source is not None
        cdf = np.cumsum(np.exp(log_p[self.source]), axis=1)
        u = rng.random(self.source.size) * cdf[:, -1]
        labels = np.minimum((u[:, None] >= cdf).sum(axis=1), cdf.shape[1] - 1)
        self.log_lik += log_p[:, labels]

    def _log_marginal(self) -> NDArray[np.float64]:
        """``log p(y_A) = log (1/K) sum_k p_k(y_A)`` for each configuration."""
        top = self.log_lik.max(axis=0)
        total = np.exp(self.log_lik - top).sum(axis=0)
        return np.asarray(top + np.log(total) - math.log(self.n_samples), dtype=np.float64)

    def posterior_and_weights(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(S, K) posteriors ``pi_k(y_A)`` and (S,) weights of the expectation over ``y_A``.

        Configurations whose posteriors agree to ``POSTERIOR_GRID`` are merged (see
        :func:`merge_posteriors`): as the batch grows the posteriors concentrate on few
        parameter samples, and a step's cost is proportional to the distinct ones.
        """
        log_marginal = self._log_marginal()
        post = np.exp(self.log_lik - log_marginal - math.log(self.n_samples)).T
        if self.exact:
            weights = np.exp(log_marginal)
        else:
            weights = np.full(post.shape[0], 1.0 / post.shape[0])
        return merge_posteriors(post, weights)

    def entropy(self) -> float:
        """``H(y_A)``: exact sum over configurations, or the mean of ``-log p(y_A)`` sampled."""
        log_marginal = self._log_marginal()
        if self.exact:
            return float(-(np.exp(log_marginal) * log_marginal).sum())
        return float(-log_marginal.mean())


def _take_items(samples: FloatArray, idx: NDArray[np.intp]) -> FloatArray:
    """``samples[:, idx]``, a view when ``idx`` is a contiguous run."""
    if idx[-1] - idx[0] == idx.size - 1 and (idx.size < 2 or (np.diff(idx) == 1).all()):
        return samples[:, idx[0] : idx[0] + idx.size]
    return samples[:, idx]


class MarginalGains:
    """Marginal gains ``H(y_n | y_A) - E_w H(y_n | w)`` of candidate items, block by block.

    ``H(y_n | y_A) = sum_s w_s H[post_s @ p(y_n)]``: one ``(S x K) @ (K x n*C)`` product per
    block of n items, then the entropies along the classes; blocks shared among threads.
    """

    def __init__(
        self,
        samples: FloatArray,
        cond_entropy: NDArray[np.float64],
        post: NDArray[np.float64],
        weights: NDArray[np.float64],
        executor: ThreadPoolExecutor | None = None,
        n_workers: int = 1,
    ) -> None:
        dtype = samples.dtype
        tiny = np.finfo(dtype).tiny
        self.samples, self.cond_entropy = samples, cond_entropy
        self.executor, self.n_workers = executor, n_workers if executor is not None else 1
        self.post = post.astype(dtype)
        self.post[self.post < tiny] = 0  # no subnormals in the product (they are slow)
        self.weights = weights.astype(dtype)
        n_configs, c = post.shape[0], samples.shape[2]
        self.rows = max(1, min(MAX_BLOCK_ROWS, BLOCK_BYTES // (n_configs * c * samples.itemsize)))

    def __call__(self, idx: NDArray[np.intp]) -> NDArray[np.float64]:
        """Marginal gains of the pool items ``idx`` (any order), as float64."""
        out = np.empty(idx.size, dtype=np.float64)
        n_blocks = -(-idx.size // self.rows)
        small = idx.size * self.post.shape[0] * self.samples.shape[2] < MIN_VALUES_FOR_THREADS
        threads = 1 if small else min(self.n_workers, n_blocks)
        share_pieces(n_blocks, threads, lambda: self._worker(idx, out), self.executor)
        return out - self.cond_entropy[idx]

    def _worker(self, idx: NDArray[np.intp], out: NDArray[np.float64]) -> Callable[[int], bool]:
        """One thread's block function, with that thread's buffers."""
        k, _, c = self.samples.shape
        s = self.post.shape[0]
        size = s * self.rows * c
        joint_buf = np.empty(size, dtype=self.samples.dtype)
        log_buf = np.empty(size, dtype=self.samples.dtype)
        ones = np.ones(c, dtype=self.samples.dtype)
        tiny = np.finfo(self.samples.dtype).tiny

        def run(i: int) -> bool:
            start = i * self.rows
            block = idx[start : start + self.rows]
            n = block.size
            x = _take_items(self.samples, block).reshape(k, n * c)
            joint = joint_buf[: s * n * c].reshape(s, n * c)  # p(y_n | y_A = config s)
            np.matmul(self.post, x, out=joint)
            logs = log_buf[: s * n * c].reshape(s, n * c)
            np.maximum(joint, tiny, out=logs)
            np.log(logs, out=logs)
            np.multiply(logs, joint, out=logs)
            out[start : start + n] = -((self.weights @ logs).reshape(n, c) @ ones)
            return True

        return run


def _best(gains: NDArray[np.float64], idx: NDArray[np.intp]) -> tuple[float, int]:
    """The highest gain and its pool index; ties go to the lower index."""
    top = gains.max()
    return float(top), int(idx[gains == top].min())


def greedy_batchbald(
    samples: FloatArray,
    batch_size: int,
    rng: np.random.Generator,
    exclude: NDArray[np.bool_],
    n_configs: int = DEFAULT_N_CONFIGS,
    *,
    lazy: bool = True,
    n_jobs: int | None = None,
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """The greedy BatchBALD loop over validated inputs: chosen indices and their marginal gains.

    Ties go to the lower pool index. With ``lazy`` (Minoux 1978) a step evaluates candidates in
    decreasing order of their last gain, an upper bound (gains only shrink: submodularity), and
    stops once the best found beats every remaining bound: the full evaluation's pick while
    configurations are exact, approximately once they are sampled.
    """
    k = samples.shape[0]
    cond_entropy = _map_chunks(_expected_entropy_kernel, samples, n_jobs, validate=False)
    candidates = np.flatnonzero(~exclude)
    bound = np.full(samples.shape[1], np.inf)  # last gain of each item: an upper bound
    tol = 1000 * float(np.finfo(samples.dtype).eps)
    configs = JointConfigurations(k, n_configs)
    chosen: list[int] = []
    gains: list[float] = []
    threads = resolve_n_jobs(n_jobs)
    executor = ThreadPoolExecutor(threads - 1) if threads > 1 else None
    try:
        for step in range(batch_size):
            post, weights = configs.posterior_and_weights()
            evaluate = MarginalGains(samples, cond_entropy, post, weights, executor, threads)
            if lazy and step > 0:
                order = candidates[np.lexsort((candidates, -bound[candidates]))]
                top, pick = -np.inf, -1
                chunk = evaluate.rows * evaluate.n_workers
                for start in range(0, order.size, chunk):
                    if bound[order[start]] + tol < top:
                        break
                    idx = order[start : start + chunk]
                    bound[idx] = evaluate(idx)
                    found, at = _best(bound[idx], idx)
                    if found > top or (found == top and at < pick):
                        top, pick = found, at
            else:
                bound[candidates] = evaluate(candidates)
                top, pick = _best(bound[candidates], candidates)
            chosen.append(pick)
            gains.append(top)
            candidates = candidates[candidates != pick]
            if len(chosen) < batch_size:
                configs.add(samples[:, pick], rng)
    finally:
        if executor is not None:
            executor.shutdown()
    return np.asarray(chosen, dtype=np.intp), np.asarray(gains, dtype=np.float64)


def batchbald(
    samples: ArrayLike,
    batch_size: int,
    rng: np.random.Generator | int | None = None,
    exclude: ArrayLike | None = None,
    n_configs: int = DEFAULT_N_CONFIGS,
) -> NDArray[np.intp]:
    """Pool indices of a BatchBALD batch (Kirsch, van Amersfoort & Gal 2019), in pick order.

    Parameters
    ----------
    samples : (K, N, C) probabilities of N pool items under K posterior samples.
    batch_size : number of distinct items to choose.
    rng : seed or Generator for the sampled configurations (used once ``C^b > n_configs``).
    exclude : pool indices or a boolean mask that must not be chosen.
    n_configs : configurations of the batch's labels: enumerated exactly up to this many,
        sampled (this many, rounded up to a multiple of K) beyond. Time and memory of a step
        grow linearly with it.

    Returns
    -------
    (batch_size,) distinct pool indices, in the order the greedy algorithm chose them; the first
    is the BALD top-1.
    """
    strategy = BatchBALD(n_configs)
    return select_indices(strategy, batch_size, rng, exclude, samples=samples)


def batch_mutual_information(
    samples: ArrayLike,
    indices: ArrayLike,
    rng: np.random.Generator | int | None = None,
    n_configs: int = 100_000,
) -> float:
    """``I(y_A; w) = H(y_A) - sum_{i in A} E_w H(y_i | w)`` of a given batch ``A``, in nats.

    Exact while ``C^|A| <= n_configs``, else a Monte Carlo estimate of ``H(y_A)`` from
    ``n_configs`` configurations sampled from the joint (each one's probability is exact). Use it
    to compare the batches of different strategies.
    """
    arr = check_samples(samples)
    idx = np.asarray(indices, dtype=np.intp).ravel()
    if idx.size and (idx.min() < 0 or idx.max() >= arr.shape[1]):
        raise InvalidInputError(f"indices outside the pool of {arr.shape[1]} items")
    generator = check_rng(rng)
    configs = JointConfigurations(arr.shape[0], check_positive_int(n_configs, "n_configs"))
    for i in idx:
        configs.add(arr[:, int(i)], generator)
    cond_entropy = expected_entropy(arr[:, idx]) if idx.size else np.zeros(0)
    return configs.entropy() - float(cond_entropy.sum())


@register_strategy
class BatchBALD(Strategy):
    """Greedy BatchBALD batches; the scores are the marginal gain in joint mutual information."""

    name: ClassVar[str] = "batchbald"
    needs = frozenset({"samples"})

    def __init__(self, n_configs: int = DEFAULT_N_CONFIGS, n_jobs: int | None = None) -> None:
        self.n_configs = check_positive_int(n_configs, "n_configs")
        self.n_jobs = n_jobs

    def _select(self, inputs: PoolInputs, batch_size: int, rng: Rng, exclude: Mask) -> Selection:
        samples = inputs.samples
        assert samples is not None
        indices, gains = greedy_batchbald(
            samples, batch_size, rng, exclude, self.n_configs, n_jobs=self.n_jobs
        )
        return Selection(indices, gains)
