"""k-means++ seeding (Arthur & Vassilvitskii 2007) and k-means selection (Lloyd 1982).

:func:`d2_seeding`, the one D^2-sampling kernel, takes the squared distance as a function (BADGE
seeds on gradient embeddings it never builds).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.strategies.base import (
    Mask,
    PoolInputs,
    Rng,
    Selection,
    Strategy,
    register_strategy,
    select_indices,
)
from labelwise.strategies.chunking import iter_chunks
from labelwise.validation import (
    check_batch_size,
    check_exclude,
    check_matrix_with_norms,
    check_rng,
    row_sq_norms,
)

#: ``sq_dist(rows, centers)``: squared distances of shape (len(rows), len(centers)), float64,
#: where ``rows`` is a slice or an index array of the pool and ``centers`` an index array.
SquaredDistances = Callable[[slice | NDArray[np.intp], NDArray[np.intp]], NDArray[np.float64]]

#: Rows per block in full passes over the pool.
ROW_BLOCK = 4096
#: Every bound is refreshed once the rejections since the last refresh reach this many times
#: the centres chosen since then.
REFRESH_RATIO = 4


def d2_seeding(
    sq_dist: SquaredDistances,
    n: int,
    k: int,
    rng: np.random.Generator,
    available: NDArray[np.bool_],
    first: int | None = None,
) -> NDArray[np.intp]:
    """k-means++ seeding over ``n`` points given only their squared distances.

    The first centre is ``first``, or uniform over ``available`` (one ``rng.integers`` draw);
    each next centre ``x`` is drawn with probability ``D(x)^2 / sum_y D(y)^2``, ``D`` the
    distance to the nearest centre so far (Arthur & Vassilvitskii 2007), by rejection from
    stale upper bounds ``s`` of ``D^2``: a proposal ``i = searchsorted(cumsum(s), u * sum(s),
    "right")`` (``u = rng.random()``) is accepted when ``v * s_i < D_i^2`` (``v = rng.random()``),
    else ``s_i = D_i^2``; after ``REFRESH_RATIO`` rejections per new centre every bound is made
    exact. When every remaining ``D^2`` is zero the centre is uniform over the unchosen points.
    Trusts its inputs: ``1 <= k <= available.sum()``, ``first`` available.

    Returns
    -------
    (k,) distinct indices of available points, in the order chosen.
    """
    chosen = np.zeros(n, dtype=bool)
    if first is None:
        candidates = np.flatnonzero(available)
        first = int(candidates[rng.integers(candidates.size)])
    centers = [int(first)]
    chosen[first] = True
    stale = np.zeros(n, dtype=np.float64)
    fresh = np.zeros(n, dtype=np.intp)  # how many centres each bound accounts for
    _refresh_all(sq_dist, stale, fresh, np.asarray(centers, dtype=np.intp), available, True)
    stale[~available | chosen] = 0.0
    rejections, refreshed_at = 0, 1
    while len(centers) < k:
        centers_arr = np.asarray(centers, dtype=np.intp)
        while True:
            cumulative = np.cumsum(stale)
            total = float(cumulative[-1])
            if not total > 0.0:
                remaining = np.flatnonzero(available & ~chosen)
                pick = int(remaining[rng.integers(remaining.size)])
                break
            u = rng.random()
            i = min(int(np.searchsorted(cumulative, u * total, side="right")), n - 1)
            current = _bring_up_to_date(sq_dist, i, stale, fresh, centers_arr)
            v = rng.random()
            if v * stale[i] < current:
                pick = i
                break
            stale[i] = current
            rejections += 1
            if rejections >= REFRESH_RATIO * (len(centers) - refreshed_at):
                _refresh_all(sq_dist, stale, fresh, centers_arr, available, False)
                rejections, refreshed_at = 0, len(centers)
        centers.append(pick)
        chosen[pick] = True
        stale[pick] = 0.0
    return np.asarray(centers, dtype=np.intp)


def _bring_up_to_date(
    sq_dist: SquaredDistances,
    i: int,
    stale: NDArray[np.float64],
    fresh: NDArray[np.intp],
    centers: NDArray[np.intp],
) -> float:
    """``D_i^2`` against every centre, from the bound and the centres it has not seen yet."""
    new = centers[fresh[i] :]
    fresh[i] = centers.size
    if new.size == 0:
        return float(stale[i])
    d2 = sq_dist(np.array([i], dtype=np.intp), new)
    return float(min(stale[i], max(float(d2.min()), 0.0)))


def _refresh_all(
    sq_dist: SquaredDistances,
    stale: NDArray[np.float64],
    fresh: NDArray[np.intp],
    centers: NDArray[np.intp],
    available: NDArray[np.bool_],
    initial: bool,
) -> None:
    """Make every bound exact (the first call sets them from the first centre)."""
    for rows in iter_chunks(stale.size, ROW_BLOCK):
        if not available[rows].any():
            continue
        start = int(fresh[rows].min())
        d2 = np.maximum(sq_dist(rows, centers[start:]).min(axis=1), 0.0)
        stale[rows] = d2 if initial else np.minimum(stale[rows], d2)
    fresh[:] = centers.size


def euclidean_sq_dist(
    X: NDArray[np.floating], norms: NDArray[np.float64] | None = None
) -> SquaredDistances:
    """Squared Euclidean distances between rows of ``X``, ``|x|^2 + |c|^2 - 2 x.c``."""
    if norms is None:
        norms = row_sq_norms(X)

    def sq_dist(rows: slice | NDArray[np.intp], centers: NDArray[np.intp]) -> NDArray[np.float64]:
        dots = np.asarray(X[rows] @ X[centers].T, dtype=np.float64)
        return norms[rows][:, None] + norms[centers][None, :] - 2.0 * dots

    return sq_dist


def kmeans_plus_plus(
    X: ArrayLike,
    k: int,
    rng: np.random.Generator | int | None = None,
    *,
    first: Literal["random", "largest_norm"] = "random",
    exclude: ArrayLike | None = None,
) -> NDArray[np.intp]:
    """k-means++ seeding: ``k`` rows of ``X`` far apart in the D^2 sense.

    Each next centre ``x`` is drawn with probability ``D(x)^2 / sum_y D(y)^2`` (Arthur &
    Vassilvitskii 2007); the draws are those of :func:`d2_seeding`.

    Parameters
    ----------
    X : (N, d) points.
    k : number of centres, at most the number of non-excluded rows.
    rng : numpy Generator or seed.
    first : ``"random"`` (uniform, the paper) or ``"largest_norm"`` (the row of largest norm,
        ties to the lower index, as BADGE's reference code does).
    exclude : rows that must not be chosen.

    Returns
    -------
    (k,) distinct row indices, in the order chosen.
    """
    x, norms = check_matrix_with_norms(X, "X")
    mask = check_exclude(exclude, x.shape[0])
    check_batch_size(k, x.shape[0] - int(mask.sum()))
    gen = check_rng(rng)
    start = None
    if first == "largest_norm":
        start = int(np.argmax(np.where(mask, -np.inf, norms)))
    return d2_seeding(euclidean_sq_dist(x, norms), x.shape[0], int(k), gen, ~mask, start)


def kmeans(
    embeddings: ArrayLike,
    batch_size: int,
    rng: np.random.Generator | int | None = None,
    exclude: ArrayLike | None = None,
    max_iter: int = 100,
    tol: float = 1e-4,
) -> NDArray[np.intp]:
    """Representative sampling: k-means with ``k = batch_size``, then the pool point nearest
    each centroid (distinct).

    Lloyd's algorithm (Lloyd 1982) from a k-means++ start, over the non-excluded points;
    iterations stop when no point changes cluster, when the centroids move less than ``tol``
    times the mean per-feature variance (squared shift, summed), or after ``max_iter``.

    Returns
    -------
    (batch_size,) distinct pool indices, the representatives of the largest clusters first.
    """
    strategy = KMeans(max_iter, tol)
    return select_indices(strategy, batch_size, rng, exclude, embeddings=embeddings)


def kmeans_representatives(
    x: NDArray[np.floating],
    k: int,
    rng: np.random.Generator,
    exclude: NDArray[np.bool_],
    max_iter: int = 100,
    tol: float = 1e-4,
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """Kernel of :func:`kmeans`: (indices, cluster sizes), trusting its inputs."""
    pool = np.flatnonzero(~exclude)
    points = x[pool] if exclude.any() else x
    seeds = d2_seeding(euclidean_sq_dist(points), points.shape[0], k, rng, np.ones(len(pool), bool))
    centroids = np.asarray(points[seeds], dtype=np.float64)
    _, sizes = lloyd(points, centroids, max_iter, tol)
    nearest = _distinct_nearest(points, centroids)
    order = np.lexsort((nearest, -sizes))
    return pool[nearest[order]].astype(np.intp), sizes[order].astype(np.float64)


def lloyd(
    points: NDArray[np.floating], centroids: NDArray[np.float64], max_iter: int, tol: float
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Lloyd iterations, updating ``centroids`` in place; returns (labels, cluster sizes).

    An emptied cluster is moved to the point farthest from its centroid (as scikit-learn does).
    """
    import scipy.sparse  # here, not at import: the store and the server need no SciPy

    n, k = points.shape[0], centroids.shape[0]
    variance = float(np.mean(np.var(points, axis=0))) if points.shape[1] else 0.0
    labels = np.full(n, -1, dtype=np.intp)
    for _ in range(max_iter):
        new_labels, d2 = _assign(points, centroids)
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
        membership = scipy.sparse.csr_matrix(
            (np.ones(n), (labels, np.arange(n))), shape=(k, n), dtype=np.float64
        )
        sizes = np.bincount(labels, minlength=k)
        sums = np.asarray(membership @ points, dtype=np.float64)
        updated = centroids.copy()
        filled = sizes > 0
        updated[filled] = sums[filled] / sizes[filled, None]
        if not filled.all():
            farthest = np.argsort(-d2, kind="stable")
            for j, far in zip(np.flatnonzero(~filled), farthest, strict=False):
                updated[j] = points[far]
        shift = float(((updated - centroids) ** 2).sum())
        centroids[:] = updated
        if shift <= tol * variance:
            break
    labels, _ = _assign(points, centroids)
    return labels, np.bincount(labels, minlength=k)


def _assign(
    points: NDArray[np.floating], centroids: NDArray[np.float64]
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """Nearest centroid of each point (ties to the lower centroid) and its squared distance."""
    n = points.shape[0]
    labels = np.empty(n, dtype=np.intp)
    d2 = np.empty(n, dtype=np.float64)
    cc = np.einsum("ij,ij->i", centroids, centroids)
    block = max(1, (1 << 22) // max(1, centroids.shape[0]))
    for rows in iter_chunks(n, block):
        chunk = np.asarray(points[rows], dtype=np.float64)
        dist = cc[None, :] - 2.0 * (chunk @ centroids.T)
        labels[rows] = np.argmin(dist, axis=1)
        best = dist[np.arange(dist.shape[0]), labels[rows]]
        d2[rows] = np.maximum(best + np.einsum("ij,ij->i", chunk, chunk), 0.0)
    return labels, d2


def _distinct_nearest(
    points: NDArray[np.floating], centroids: NDArray[np.float64]
) -> NDArray[np.intp]:
    """For each centroid in turn its nearest untaken point (ties to the lower index)."""
    n, k = points.shape[0], centroids.shape[0]
    pn = row_sq_norms(points)
    best = np.full(k, np.inf)
    first = np.zeros(k, dtype=np.intp)
    block = max(1, (1 << 22) // max(1, k))
    for rows in iter_chunks(n, block):
        dist = pn[rows][:, None] - 2.0 * (np.asarray(points[rows], dtype=np.float64) @ centroids.T)
        arg = np.argmin(dist, axis=0)
        low = dist[arg, np.arange(k)]
        better = low < best
        best[better] = low[better]
        first[better] = arg[better] + rows.start
    taken = np.zeros(n, dtype=bool)
    out = np.empty(k, dtype=np.intp)
    for j in range(k):
        i = int(first[j])
        if taken[i]:
            d2 = pn - 2.0 * np.asarray(points @ centroids[j].astype(points.dtype), dtype=np.float64)
            d2[taken] = np.inf
            i = int(np.argmin(d2))
        taken[i] = True
        out[j] = i
    return out


@register_strategy
class KMeans(Strategy):
    """Representative sampling with :func:`kmeans`; scores are the cluster sizes."""

    name: ClassVar[str] = "kmeans"
    needs = frozenset({"embeddings"})

    def __init__(self, max_iter: int = 100, tol: float = 1e-4) -> None:
        self.max_iter = max_iter
        self.tol = tol

    def _select(self, inputs: PoolInputs, batch_size: int, rng: Rng, exclude: Mask) -> Selection:
        x = inputs.embeddings
        assert x is not None
        idx, sizes = kmeans_representatives(x, batch_size, rng, exclude, self.max_iter, self.tol)
        return Selection(idx, sizes)
