"""Quality control of multi-label annotations: each annotation is a set of labels.

Annotations arrive as a long table, one row per (item, annotator) answer: ``items`` (M,) item
indices, ``annotators`` (M,) annotator indices, and ``label_sets`` (M, Q) 0/1 rows (1 where the
annotator said the label applies). Agreement is Krippendorff's alpha with a distance between
sets (Jaccard or MASI, Passonneau 2006); aggregation is a majority per label or Dawid-Skene per
label (each label a binary task).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.errors import InvalidInputError
from labelwise.quality.aggregation import dawid_skene

__all__ = [
    "jaccard_distance",
    "label_set_alpha",
    "masi_distance",
    "per_label_dawid_skene",
    "per_label_majority",
]

SetDistance = Literal["masi", "jaccard"]
FloatArray = NDArray[np.float64]


def _check_table(items: ArrayLike, label_sets: ArrayLike) -> tuple[NDArray[np.intp], FloatArray]:
    idx = np.asarray(items)
    sets = np.asarray(label_sets)
    if idx.ndim != 1 or idx.size == 0 or idx.dtype.kind not in "iu" or idx.min() < 0:
        raise InvalidInputError("items must be a non-empty 1-D array of item indices >= 0")
    if sets.ndim != 2 or sets.shape[0] != idx.size or sets.shape[1] < 1:
        raise InvalidInputError(
            f"label_sets must be a (M, Q) 0/1 matrix with one row per annotation: got shape "
            f"{sets.shape} for {idx.size} annotations"
        )
    if sets.dtype.kind not in "biuf" or not np.isin(sets, (0, 1)).all():
        raise InvalidInputError("label_sets must hold only 0 and 1")
    return idx.astype(np.intp), sets.astype(np.float64)


def jaccard_distance(a: ArrayLike, b: ArrayLike) -> float:
    """``1 - |A n B| / |A u B|`` of two 0/1 label rows; 0 for two empty sets."""
    x, y = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    union = int((x | y).sum())
    return 0.0 if union == 0 else 1.0 - int((x & y).sum()) / union


def masi_distance(a: ArrayLike, b: ArrayLike) -> float:
    """MASI distance ``1 - J M`` (Passonneau, "Measuring Agreement on Set-valued Items", LREC
    2006): ``J`` the Jaccard similarity, ``M`` 1 for equal sets, 2/3 when one contains the other,
    1/3 when they only overlap, 0 when disjoint.

    >>> round(masi_distance([1, 1, 0], [1, 0, 0]), 6)  # subset: 1 - (1/2)(2/3)
    0.666667
    """
    x, y = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    union, common = int((x | y).sum()), int((x & y).sum())
    if union == 0 or np.array_equal(x, y):
        return 0.0
    if common == 0:
        return 1.0
    monotonicity = 2.0 / 3.0 if common in (int(x.sum()), int(y.sum())) else 1.0 / 3.0
    return 1.0 - (common / union) * monotonicity


_DISTANCES = {"masi": masi_distance, "jaccard": jaccard_distance}


def label_set_alpha(
    items: ArrayLike, label_sets: ArrayLike, distance: SetDistance = "masi"
) -> float:
    """Krippendorff's alpha over set-valued annotations, ``1 - D_o / D_e``.

    The values are the distinct label sets; the coincidence matrix ``o_ck`` counts, per item u
    with ``m_u >= 2`` answers, the ordered pairs of answers (c, k) from different annotations,
    weighted ``1 / (m_u - 1)``; with ``n_c = sum_k o_ck``, ``n = sum n_c``::

        alpha = 1 - (n - 1) sum_ck o_ck delta(c, k) / sum_ck n_c n_k delta(c, k)

    with ``delta`` the MASI or Jaccard distance (Krippendorff, "Computing Krippendorff's
    alpha-reliability", 2011; for sets: Passonneau 2006). For single-label answers (one label
    per set) both distances are the nominal metric, and alpha is nominal alpha.

    Parameters
    ----------
    items : (M,) the item of each annotation.
    label_sets : (M, Q) each annotation's 0/1 label row.
    distance : ``"masi"`` or ``"jaccard"``.

    Returns
    -------
    Alpha; NaN when every pairable answer is the same set (nothing to disagree on).
    """
    idx, sets = _check_table(items, label_sets)
    if distance not in _DISTANCES:
        raise InvalidInputError(f"distance must be 'masi' or 'jaccard', got {distance!r}")
    values, codes = np.unique(sets, axis=0, return_inverse=True)
    codes = codes.reshape(-1)
    per_unit = np.zeros((int(idx.max()) + 1, values.shape[0]))
    np.add.at(per_unit, (idx, codes), 1.0)
    m_u = per_unit.sum(axis=1)
    pairable = m_u >= 2
    if not pairable.any():
        raise InvalidInputError("no item has two or more answers: alpha needs pairable values")
    per_unit, m_u = per_unit[pairable], m_u[pairable]
    scaled = per_unit / (m_u - 1.0)[:, None]
    coincidence = scaled.T @ per_unit - np.diag(scaled.sum(axis=0))
    totals = coincidence.sum(axis=1)
    n = float(totals.sum())
    fn = _DISTANCES[distance]
    delta = np.array([[fn(a, b) for b in values] for a in values], dtype=np.float64)
    observed = float((coincidence * delta).sum())
    expected = float((np.outer(totals, totals) * delta).sum()) / (n - 1.0)
    return float("nan") if expected == 0.0 else 1.0 - observed / expected


def per_label_majority(
    items: ArrayLike,
    label_sets: ArrayLike,
    n_items: int | None = None,
    ties: Literal["absent", "present"] = "absent",
) -> NDArray[np.int64]:
    """One label set per item: each label applies where more than half its answers say so.

    Parameters
    ----------
    items, label_sets : the annotation table (see the module docstring).
    n_items : items in the result (default: one more than the largest index); every item needs
        an answer.
    ties : a label marked by exactly half the answers is ``"absent"`` (default) or
        ``"present"``.

    Returns
    -------
    (n_items, Q) 0/1 label sets.
    """
    idx, sets = _check_table(items, label_sets)
    n = int(idx.max()) + 1 if n_items is None else int(n_items)
    if idx.max() >= n:
        raise InvalidInputError(f"items hold indices beyond n_items={n}")
    if ties not in ("absent", "present"):
        raise InvalidInputError(f"ties must be 'absent' or 'present', got {ties!r}")
    answers = np.bincount(idx, minlength=n).astype(np.float64)
    if (answers == 0).any():
        missing = int(np.flatnonzero(answers == 0)[0])
        raise InvalidInputError(f"item {missing} has no answer: aggregate answered items only")
    votes = np.zeros((n, sets.shape[1]))
    np.add.at(votes, idx, sets)
    share = votes / answers[:, None]
    chosen = share > 0.5 if ties == "absent" else share >= 0.5
    return chosen.astype(np.int64)


def per_label_dawid_skene(
    items: ArrayLike,
    annotators: ArrayLike,
    label_sets: ArrayLike,
    n_items: int | None = None,
    max_iter: int = 100,
) -> tuple[NDArray[np.int64], FloatArray]:
    """Dawid-Skene per label: each label is a binary task with its own annotator confusions.

    Returns
    -------
    (n_items, Q) 0/1 label sets and (n_items, Q) posterior probabilities that each label
    applies (:func:`labelwise.quality.dawid_skene` on each label column).
    """
    idx, sets = _check_table(items, label_sets)
    who = np.asarray(annotators)
    if who.shape != idx.shape or who.dtype.kind not in "iu":
        raise InvalidInputError("annotators must hold one annotator index per annotation")
    n = int(idx.max()) + 1 if n_items is None else int(n_items)
    posterior = np.empty((n, sets.shape[1]))
    for q in range(sets.shape[1]):
        table = np.column_stack([idx, who, sets[:, q].astype(np.intp)])
        posterior[:, q] = dawid_skene(table, 2, max_iter=max_iter, n_items=n).posterior[:, 1]
    return (posterior > 0.5).astype(np.int64), posterior
