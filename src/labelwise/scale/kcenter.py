"""k-center at scale: the pieces that make greedy k-center (the core-set of Sener & Savarese
2018) work on a pool that does not fit one process.

* covering radius ``r = max_{x in pool} min_{c in C} |x - c|_2`` with ``C`` = labeled points plus
  the batch: the quality every k-center method here reports, computed over the *full* pool in a
  streaming pass, shard by shard (:func:`min_sq_distances` per shard, the max of the maxima);
* two-round distributed k-center (Malkomes, Kusner, Chen, Weinberger & Moseley 2015, "Fast
  distributed k-center clustering with outliers on massive data", NeurIPS): greedy k-center on
  each shard, then greedy k-center on the union of the shards' centres. Greedy is a
  2-approximation, the two rounds together a 4-approximation of the optimal radius;
* greedy on a uniform subsample: the radius is only guaranteed on the subsample, so the full-pool
  radius is measured and reported.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from labelwise.strategies.chunking import iter_chunks
from labelwise.strategies.coreset import k_center_greedy

#: Elements per temporary (rows x centres) block.
BLOCK_ELEMENTS = 1 << 22


def min_sq_distances(x: NDArray[np.floating], centers: NDArray[np.floating]) -> NDArray[np.float64]:
    """Squared distance of each row of ``x`` to its nearest centre, in row blocks.

    Computed as ``|x - m|^2 + |c - m|^2 - 2 (x - m).(c - m)`` in float64 with ``m`` the centres'
    mean (shifting both sides keeps the cancellation small); +inf when there is no centre.
    """
    n = x.shape[0]
    if centers.shape[0] == 0:
        return np.full(n, np.inf)
    shift = centers.mean(axis=0, dtype=np.float64)
    c = np.asarray(centers, dtype=np.float64) - shift
    cc = np.einsum("ij,ij->i", c, c)
    out = np.empty(n, dtype=np.float64)
    block = max(1, BLOCK_ELEMENTS // max(c.shape[0], x.shape[1], 1))
    for rows in iter_chunks(n, block):
        chunk = np.asarray(x[rows], dtype=np.float64) - shift
        d2 = chunk @ (-2.0 * c).T
        d2 += cc
        out[rows] = d2.min(axis=1) + np.einsum("ij,ij->i", chunk, chunk)
    np.maximum(out, 0.0, out=out)
    return out


def greedy_centers(
    x: NDArray[np.floating],
    labeled: NDArray[np.floating],
    k: int,
    rng: np.random.Generator,
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """Greedy k-center over the rows of ``x`` given ``labeled`` centres: (positions, distances).

    Picks ``min(k, len(x))`` rows; the distance is each pick's distance to the centres before it.
    """
    k = min(k, x.shape[0])
    if k == 0:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.float64)
    return k_center_greedy(x, labeled, k, rng, np.zeros(x.shape[0], dtype=bool))
