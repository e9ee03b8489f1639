"""Naive references: the formulas as a textbook (or the paper's code) writes them.

They set the baseline a fast kernel is measured against and the answer it must agree with.
None of them is tuned; clarity over speed is their point.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
Idx = NDArray[np.intp]


# -- uncertainty (Settles 2009, sec. 3.1) -------------------------------------------------------
def textbook_entropy(proba: NDArray[np.floating]) -> F64:
    """``H[p] = -sum_c p_c log p_c`` in float64, 0 log 0 = 0."""
    p = proba.astype(np.float64)
    logp = np.log(p, out=np.zeros_like(p), where=p > 0)
    return -(p * logp).sum(axis=1)


def textbook_margin(proba: NDArray[np.floating]) -> F64:
    """``p_2 - p_1`` (negated top-two gap, higher = more uncertain) by a full sort of each row."""
    s = np.sort(proba.astype(np.float64), axis=1)
    return s[:, -2] - s[:, -1]


def textbook_least_confidence(proba: NDArray[np.floating]) -> F64:
    """``1 - max_c p_c``."""
    return 1.0 - proba.astype(np.float64).max(axis=1)


def textbook_top_k(scores: NDArray[np.floating], k: int) -> Idx:
    """The ``k`` highest scores, best first, ties to the lower index (a stable full sort)."""
    return np.argsort(-scores, kind="stable")[:k].astype(np.intp)


# -- core-set (Sener & Savarese 2018, Algorithm 1: greedy k-center) ----------------------------
def greedy_k_center(pool: NDArray[np.floating], labeled: NDArray[np.floating], k: int) -> Idx:
    """Greedy k-center: repeatedly take ``argmax_i min_j ||x_i - c_j||`` and make it a center.

    Float64 throughout; the first minima come from the labeled set, then each step updates the
    minima with the distance to the newest center only (the algorithm as printed).
    """
    x = pool.astype(np.float64)
    sq = np.einsum("ij,ij->i", x, x)
    min_d2 = np.full(x.shape[0], np.inf)
    for start in range(0, labeled.shape[0], 256):
        c = labeled[start : start + 256].astype(np.float64)
        d2 = sq[:, None] - 2.0 * (x @ c.T) + np.einsum("ij,ij->i", c, c)[None, :]
        np.minimum(min_d2, d2.min(axis=1), out=min_d2)
    chosen = np.empty(k, dtype=np.intp)
    for step in range(k):
        i = int(np.argmax(min_d2))
        chosen[step] = i
        d2 = sq - 2.0 * (x @ x[i]) + sq[i]
        np.minimum(min_d2, d2, out=min_d2)
        min_d2[i] = -np.inf
    return chosen


# -- BADGE (Ash et al. 2020) -------------------------------------------------------------------
def badge_gradient_embeddings(proba: NDArray[np.floating], emb: NDArray[np.floating]) -> F64:
    """Explicit last-layer gradient embeddings ``g_x = (p - e_yhat) (x) h`` of shape (N, C*d).

    As the paper's code builds them: block c of row x is ``h_x * (1{c = yhat} - p_c)``.
    """
    n, n_classes = proba.shape
    dim = emb.shape[1]
    yhat = proba.argmax(axis=1)
    out = np.zeros((n, n_classes * dim))
    for c in range(n_classes):
        factor = (yhat == c).astype(np.float64) - proba[:, c]
        out[:, c * dim : (c + 1) * dim] = emb * factor[:, None]
    return out


def badge_reference(
    proba: NDArray[np.floating], emb: NDArray[np.floating], k: int, seed: int = 0
) -> list[int]:
    """k-means++ seeding over explicit gradient embeddings, written like the BADGE paper's code.

    A transcription of ``init_centers`` from Ash et al.'s public repository (badge_sampling.py):
    the first center is the largest gradient norm, then each new center is drawn with probability
    proportional to ``D(x)^2``, with the per-item Python update loop and scipy's ``rv_discrete``.
    """
    from scipy import stats
    from sklearn.metrics import pairwise_distances

    x = badge_gradient_embeddings(proba, emb)
    np.random.seed(seed)  # noqa: NPY002  (the paper's code draws from numpy's global state)
    ind = int(np.argmax([np.linalg.norm(s, 2) for s in x]))
    mu = [x[ind]]
    inds_all = [ind]
    d2 = np.empty(0)
    while len(mu) < k:
        if len(mu) == 1:
            d2 = pairwise_distances(x, mu).ravel().astype(float)
        else:
            new_d = pairwise_distances(x, [mu[-1]]).ravel().astype(float)
            for i in range(len(x)):
                if d2[i] > new_d[i]:
                    d2[i] = new_d[i]
        d2 = d2.ravel().astype(float)
        ddist = (d2**2) / sum(d2**2)
        custom = stats.rv_discrete(name="custm", values=(np.arange(len(d2)), ddist))
        ind = int(custom.rvs(size=1)[0])
        while ind in inds_all:
            ind = int(custom.rvs(size=1)[0])
        mu.append(x[ind])
        inds_all.append(ind)
    return inds_all


def kmeanspp_potential(
    proba: NDArray[np.floating], emb: NDArray[np.floating], chosen: Any
) -> float:
    """``sum_x min_j ||g_x - g_j||^2`` over the pool for the chosen gradient-embedding centers.

    Uses ``||a (x) h||^2 = ||a||^2 ||h||^2`` and ``<a (x) h, b (x) k> = <a, b><h, k>``, so the
    (N, C*d) matrix is never built. Lower = the batch covers the pool better.
    """
    p = proba.astype(np.float64)
    h = emb.astype(np.float64)
    a = p.copy()
    a[np.arange(len(a)), p.argmax(axis=1)] -= 1.0
    norms = (a * a).sum(axis=1) * (h * h).sum(axis=1)
    best = np.full(len(p), np.inf)
    for j in np.asarray(chosen, dtype=np.intp):
        d2 = norms + norms[j] - 2.0 * (a @ a[j]) * (h @ h[j])
        np.minimum(best, d2, out=best)
    return float(np.maximum(best, 0.0).sum())


# -- BALD (Houlsby et al. 2011; Gal et al. 2017) -----------------------------------------------
def plain_numpy_bald(samples: NDArray[np.floating]) -> NDArray[np.floating]:
    """``H[mean_k p_k] - mean_k H[p_k]`` over (K, N, C) samples, the way one writes it first."""
    mean = samples.mean(axis=0)
    entropy_of_mean = -(mean * np.log(mean + 1e-12)).sum(axis=-1)
    mean_entropy = -(samples * np.log(samples + 1e-12)).sum(axis=-1).mean(axis=0)
    return entropy_of_mean - mean_entropy


# -- joint mutual information of a batch (Kirsch et al. 2019, eq. 4) ---------------------------
def joint_mutual_information(
    samples: NDArray[np.floating],
    batch: Any,
    n_draws: int = 200_000,
    seed: int = 0,
    exact_limit: int = 1_000_000,
) -> tuple[float, float]:
    """``I(y_1..y_b; w) = H(y_1..y_b) - sum_i H(y_i | w)`` for the batch, and its standard error.

    The predictive is the mixture ``p(y_1..y_b) = 1/K sum_k prod_i p_k(y_i)`` of the K samples.
    The conditional entropies are exact. The joint entropy is exact (by enumeration) when
    ``C^b <= exact_limit`` configurations, else the Monte-Carlo mean of ``-log p(y)`` over
    ``n_draws`` draws of ``y ~ p`` (unbiased; its standard error is returned, 0 when exact).
    """
    idx = np.asarray(batch, dtype=np.intp)
    p = samples[:, idx, :].astype(np.float64)  # (K, b, C)
    k_models, b, n_classes = p.shape
    logp = np.log(np.maximum(p, 1e-300))
    conditional = float(-(p * logp).sum(axis=2).mean(axis=0).sum())
    if n_classes**b <= exact_limit:
        joint = np.ones((k_models, 1))
        for i in range(b):
            joint = (joint[:, :, None] * p[:, i, None, :]).reshape(k_models, -1)
        mix = joint.mean(axis=0)
        nz = mix > 0
        return float(-(mix[nz] * np.log(mix[nz])).sum()) - conditional, 0.0
    rng = np.random.default_rng(seed)
    total = np.empty(n_draws)
    for start in range(0, n_draws, 20_000):
        m = min(20_000, n_draws - start)
        member = rng.integers(0, k_models, size=m)
        cum = np.cumsum(p[member], axis=2)  # (m, b, C)
        u = rng.random((m, b, 1))
        y = np.minimum((u > cum).sum(axis=2), n_classes - 1)  # (m, b)
        # log p(y) = logsumexp_k sum_i log p_k(y_i) - log K
        ll = logp[:, np.arange(b)[None, :], y].sum(axis=2)  # (K, m)
        top = ll.max(axis=0)
        total[start : start + m] = -(top + np.log(np.exp(ll - top).mean(axis=0)))
    joint_entropy = float(total.mean())
    return joint_entropy - conditional, float(total.std(ddof=1) / np.sqrt(n_draws))
