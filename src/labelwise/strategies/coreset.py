"""Core-set selection by k-center greedy (Sener & Savarese 2018, "Active Learning for
Convolutional Neural Networks: A Core-Set Approach", ICLR).

Greedy 2-approximation of the k-center problem: with ``C`` the labeled points and the points
picked so far, repeatedly pick ``u = argmax_{i in pool} min_{c in C} |x_i - c|_2`` (ties to the
lower pool index); with no labeled point the first pick is uniform (``rng``). The picks equal
the textbook loop's with float64 distances: float32 BLAS distances on centred data with a
rigorous error bound ``tol``, float64 wherever the top candidates lie within ``2 tol``, and
lazy updates of a set of top candidates (stale min-distances are upper bounds).
"""

from __future__ import annotations

from typing import ClassVar

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
from labelwise.validation import row_sq_norms

#: Elements per (rows x centres) block of the distance passes.
BLOCK_ELEMENTS = 1 << 21
#: Candidates kept up to date between refreshes.
N_CANDIDATES = 1024
_U32 = float(np.finfo(np.float32).eps) / 2  # unit roundoff of float32


def coreset(
    embeddings: ArrayLike,
    labeled_embeddings: ArrayLike | None,
    batch_size: int,
    rng: np.random.Generator | int | None = None,
    exclude: ArrayLike | None = None,
) -> NDArray[np.intp]:
    """k-center greedy core-set batch (Sener & Savarese 2018).

    Parameters
    ----------
    embeddings : (N, d) pool embeddings.
    labeled_embeddings : (L, d) embeddings of the labeled set; ``None`` or L = 0 starts from a
        uniformly drawn pool point (one ``rng.integers`` draw over the non-excluded indices).
    batch_size : number of points to pick.
    rng : numpy Generator or seed (used only when L = 0).
    exclude : pool indices or mask that must not be picked (they are not centres either).

    Returns
    -------
    (batch_size,) distinct pool indices in the order picked.

    Examples
    --------
    >>> coreset([[0.0], [1.0], [5.0]], [[0.0]], 2).tolist()
    [2, 1]
    """
    labeled = np.empty((0, 0)) if labeled_embeddings is None else labeled_embeddings
    arrays = {"embeddings": embeddings, "labeled_embeddings": labeled}
    return select_indices(Coreset(), batch_size, rng, exclude, **arrays)


def k_center_greedy(
    x: NDArray[np.floating],
    labeled: NDArray[np.floating] | None,
    k: int,
    rng: np.random.Generator,
    exclude: NDArray[np.bool_],
    n_candidates: int = N_CANDIDATES,
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """Kernel of :func:`coreset`: (indices, min-distance of each when picked).

    Trusts its inputs. The first pick's distance is ``inf`` when there is no labeled point
    (``labeled`` None or empty).
    """
    if labeled is None:
        labeled = np.empty((0, x.shape[1]), dtype=x.dtype)
    work, shift = _working_copy(x)
    lab_work = np.ascontiguousarray(labeled - shift, dtype=np.float32)
    xx = _sq_norms(work)
    ll = _sq_norms(lab_work)
    biggest = max(float(xx.max(initial=0.0)), float(ll.max(initial=0.0)))
    state = _LazyKCenter(work, xx, x, labeled, _tolerance(work.shape[1], biggest), k)
    state.s[:] = np.inf if labeled.shape[0] == 0 else _min_sq_dist(work, xx, lab_work, ll)
    state.s[exclude] = -np.inf
    picks = np.empty(k, dtype=np.intp)
    dists = np.empty(k, dtype=np.float64)
    start = 0
    if labeled.shape[0] == 0:
        available = np.flatnonzero(~exclude)
        picks[0], dists[0] = available[rng.integers(available.size)], np.inf
        state.add_center(int(picks[0]))
        state.refresh(np.flatnonzero(state.s > -np.inf))
        start = 1
    for step in range(start, k):
        j, d2 = state.next_pick(n_candidates)
        picks[step], dists[step] = j, np.sqrt(max(d2, 0.0))
        state.add_center(j)
    return picks, dists


def _working_copy(x: NDArray[np.floating]) -> tuple[NDArray[np.float32], NDArray[np.float64]]:
    """float32 embeddings near the origin and the shift: the input when it is float32 and
    centred enough, else a centred copy made block by block."""
    n, d = x.shape
    mean = np.zeros(d, dtype=np.float64)
    if n:
        mean = np.asarray(x.mean(axis=0, dtype=np.float64))
    if x.dtype == np.float32 and x.flags.c_contiguous and n:
        spread = float(_sq_norms(x).mean()) - float(mean @ mean)
        if float(mean @ mean) <= 0.25 * max(spread, 0.0):
            return x, np.zeros(d, dtype=np.float64)
    work = np.empty((n, d), dtype=np.float32)
    for rows in iter_chunks(n, max(1, BLOCK_ELEMENTS // max(d, 1))):
        work[rows] = x[rows] - mean
    return work, mean


def _sq_norms(a: NDArray[np.floating]) -> NDArray[np.float32]:
    """Row squared norms accumulated in float64, stored as float32."""
    return row_sq_norms(a).astype(np.float32)


def _tolerance(d: int, max_sq_norm: float) -> float:
    """Twice a bound on |float32 - float64 squared distance|, ``M`` the largest squared norm:
    rounding to float32 moves it by ``<= 8 u M``; norms, dot product and additions add
    ``<= (14 u + 2 gamma_d) M``."""
    gamma = d * _U32 / (1.0 - d * _U32)
    return 2.0 * (22.0 * _U32 + 2.0 * gamma) * max_sq_norm * (1.0 + 1e-6)


def _min_sq_dist(
    work: NDArray[np.float32],
    xx: NDArray[np.float32],
    centers: NDArray[np.float32],
    cc: NDArray[np.float32],
    rows: NDArray[np.intp] | None = None,
) -> NDArray[np.float32]:
    """Min squared distance of each (selected) row to ``centers``, in row blocks."""
    m = work.shape[0] if rows is None else rows.size
    out = np.empty(m, dtype=np.float32)
    scaled = np.ascontiguousarray(-2.0 * centers, dtype=np.float32)  # exact scaling
    block = max(1, BLOCK_ELEMENTS // max(centers.shape[0], work.shape[1], 1))
    for part in iter_chunks(m, block):
        chunk = work[part] if rows is None else work[rows[part]]
        g = chunk @ scaled.T
        g += cc
        norms = xx[part] if rows is None else xx[rows[part]]
        out[part] = g.min(axis=1) + norms
    return out


class _LazyKCenter:
    """State of the lazy greedy: stale bounds ``s``, up-to-date candidates, the centres."""

    def __init__(
        self,
        work: NDArray[np.float32],
        xx: NDArray[np.float32],
        x: NDArray[np.floating],
        labeled: NDArray[np.floating],
        tol: float,
        k: int,
    ) -> None:
        n, d = work.shape
        self.work, self.xx, self.x, self.tol = work, xx, x, tol
        n_lab = labeled.shape[0]
        self.centers64 = np.empty((n_lab + k, d), dtype=np.float64)  # labeled, then picks
        self.centers64[:n_lab] = labeled
        self.n_centers64 = n_lab
        self.exact = np.full(n, np.inf)  # float64 min sq distance, cached for tie checks
        self.exact_upto = np.zeros(n, dtype=np.intp)  # how many float64 centres it accounts for
        self.s = np.empty(n, dtype=np.float32)  # approx min sq distance; -inf: never pick
        self.fresh = np.zeros(n, dtype=np.intp)  # how many picked centres s accounts for
        self.centers = np.empty((k, d), dtype=np.float32)
        self.cc = np.empty(k, dtype=np.float32)
        self.picked: list[int] = []
        self.cand = np.empty(0, dtype=np.intp)
        self.cand_x = np.empty((0, d), dtype=np.float32)
        self.cand_xx = np.empty(0, dtype=np.float32)
        self.cur = np.empty(0, dtype=np.float32)
        self.bound = np.inf

    def add_center(self, j: int) -> None:
        """Make pool point ``j`` a centre and update the candidates' distances."""
        k = len(self.picked)
        self.centers[k] = self.work[j]
        self.cc[k] = self.xx[j]
        self.picked.append(j)
        self.s[j] = -np.inf
        self.centers64[self.n_centers64] = np.asarray(self.x[j], dtype=np.float64)
        self.n_centers64 += 1
        if self.cand.size:
            d2 = self.cand_x @ self.centers[k]
            d2 *= -2.0
            d2 += self.cand_xx
            d2 += self.cc[k]
            np.minimum(self.cur, d2, out=self.cur)
            self.cur[self.cand == j] = -np.inf

    def refresh(self, rows: NDArray[np.intp]) -> None:
        """Bring the bounds of ``rows`` up to date with every picked centre."""
        k = len(self.picked)
        rows = rows[self.fresh[rows] < k]
        if rows.size == 0:
            return
        rows = rows[np.argsort(self.fresh[rows], kind="stable")]
        block = max(1, BLOCK_ELEMENTS // max(k, self.work.shape[1], 1))
        for part in iter_chunks(rows.size, block):
            sub = rows[part]
            start = int(self.fresh[sub[0]])
            d2 = _min_sq_dist(self.work, self.xx, self.centers[start:k], self.cc[start:k], sub)
            np.minimum(self.s[sub], d2, out=d2)
            self.s[sub] = d2
            self.fresh[sub] = k

    def next_pick(self, n_candidates: int) -> tuple[int, float]:
        """The point farthest from every centre, and its squared distance."""
        while True:
            if self.cand.size:
                pos = int(np.argmax(self.cur))
                top = float(self.cur[pos])
                if top > -np.inf and top - 2.0 * self.tol > self.bound:
                    band = np.flatnonzero(self.cur >= top - 2.0 * self.tol)
                    if band.size == 1:
                        return int(self.cand[pos]), top
                    return self._exact_argmax(self.cand[band])
            self._rebuild(n_candidates)

    def _rebuild(self, n_candidates: int) -> None:
        """Choose new candidates: refresh the best bounds until the top is certain."""
        if self.cand.size:
            self.s[self.cand] = self.cur
            self.fresh[self.cand] = len(self.picked)
        s, n = self.s, self.s.size
        block = min(n, max(4 * n_candidates, 8192))
        size = n_candidates
        while True:
            if block >= n:
                top, outside = np.arange(n), -np.inf
            else:
                part = np.argpartition(s, (n - block - 1, n - block))
                top, outside = part[n - block :], float(s[part[n - block - 1]])
            self.refresh(top)
            vals = s[top]
            if top.size > size:
                order = np.argpartition(vals, (top.size - size - 1, top.size - size))
                cand, inner = top[order[top.size - size :]], float(vals[order[top.size - size - 1]])
            else:
                cand, inner = top, -np.inf
            bound = max(outside, inner)
            best = float(s[cand].max())
            if (best > -np.inf and best - 2.0 * self.tol > bound) or bound == -np.inf:
                break
            if block < n:
                block = min(n, 4 * block)
            else:
                size = min(n, 4 * size)
        self.cand = np.sort(cand)
        self.cand_x = self.work[self.cand]
        self.cand_xx = self.xx[self.cand]
        self.cur = s[self.cand].copy()
        self.bound = bound

    def _exact_argmax(self, rows: NDArray[np.intp]) -> tuple[int, float]:
        """Among ``rows`` (ascending), the farthest in float64; ties to the lower index.

        float64 squared distances ``sum((x - c)**2)`` to every centre, as the textbook loop
        computes them (not ``|x|^2 + |c|^2 - 2 x.c``, whose cancellation loses differences far
        below the norms: ``x = (0, 1)`` and ``c = (1e-33, 1)`` would tie at 0 with ``x = c``);
        each point's value is cached and later extended with new centres.
        """
        m, d = self.n_centers64, self.centers64.shape[1]
        for i in rows.tolist():
            start = int(self.exact_upto[i])
            pt = np.asarray(self.x[i], dtype=np.float64)
            for part in iter_chunks(m - start, max(1, BLOCK_ELEMENTS // max(d, 1))):
                diff = self.centers64[start + part.start : start + part.stop] - pt
                d2 = float(np.einsum("ij,ij->i", diff, diff).min())
                self.exact[i] = min(self.exact[i], d2)
            self.exact_upto[i] = m
        values = self.exact[rows]
        i = int(np.argmax(values))
        return int(rows[i]), float(values[i])


@register_strategy
class Coreset(Strategy):
    """Core-set by k-center greedy (:func:`coreset`); scores are the distances when picked."""

    name: ClassVar[str] = "coreset"
    needs = frozenset({"embeddings", "labeled_embeddings"})

    def __init__(self, n_candidates: int = N_CANDIDATES) -> None:
        self.n_candidates = n_candidates

    def _select(self, inputs: PoolInputs, batch_size: int, rng: Rng, exclude: Mask) -> Selection:
        x, lab = inputs.embeddings, inputs.labeled_embeddings
        assert x is not None
        idx, dist = k_center_greedy(x, lab, batch_size, rng, exclude, self.n_candidates)
        return Selection(idx, dist)
