"""Chance-corrected agreement between annotators: Cohen's and Fleiss' kappa, Krippendorff's alpha.

All three have the form ``1 - observed disagreement / disagreement expected by chance``: 1 is
perfect agreement, 0 is what raters who label at random with the observed label frequencies
reach, below 0 is systematic disagreement. Each returns ``nan`` when chance agreement is already
perfect (every rating the same category), where the coefficient is undefined (0/0).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.errors import InvalidInputError
from labelwise.quality._validation import (
    FloatArray,
    check_annotations,
    vote_counts,
)

KappaWeights = Literal["linear", "quadratic"]
AlphaLevel = Literal["nominal", "ordinal", "interval", "ratio"]


def _ratio_or_nan(numerator: float, denominator: float) -> float:
    """``1 - numerator / denominator``, or nan when the denominator vanishes (0/0)."""
    if denominator <= 1e-15:
        return float("nan")
    return float(1.0 - numerator / denominator)


def cohen_kappa(
    a: ArrayLike,
    b: ArrayLike,
    labels: ArrayLike | None = None,
    weights: KappaWeights | None = None,
) -> float:
    """Cohen's kappa between two raters who labelled the same N items (Cohen 1960, 1968).

    ``kappa = (p_o - p_e) / (1 - p_e)`` with ``p_o`` the observed share of agreement and
    ``p_e = sum_c p_a(c) p_b(c)`` the agreement expected from the raters' marginals. The weighted
    form (Cohen 1968) is ``kappa_w = 1 - sum_ij w_ij O_ij / sum_ij w_ij E_ij`` with ``O`` the
    joint label shares, ``E`` the outer product of the marginals, and disagreement weights
    ``|i - j|`` (linear) or ``(i - j)^2`` (quadratic) between label positions in ``labels``.

    Parameters
    ----------
    a, b : array of shape (N,)
        The two raters' labels, item by item (ints or strings).
    labels : array of shape (L,), optional
        The label set, in order (the order matters for weighted kappa). Default: the sorted union
        of the labels present.
    weights : {None, "linear", "quadratic"}
        None for the unweighted kappa of nominal labels.

    Returns
    -------
    float
        Kappa in [-1, 1]; nan when both raters always give the same single label.

    References
    ----------
    Cohen, J. (1960). A coefficient of agreement for nominal scales. Educ. Psychol. Meas., 20(1).
    Cohen, J. (1968). Weighted kappa. Psychological Bulletin, 70(4), 213-220.

    >>> round(cohen_kappa([0, 0, 1, 1], [0, 1, 1, 1]), 4)
    0.5
    """
    x, y = np.asarray(a), np.asarray(b)
    if x.ndim != 1 or x.shape != y.shape or x.size == 0:
        raise InvalidInputError(
            f"a and b must be non-empty 1-D arrays of the same length, got {x.shape} and {y.shape}"
        )
    for arr, name in ((x, "a"), (y, "b")):
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            raise InvalidInputError(f"{name} holds NaN or infinity: drop items with missing labels")
    label_set = np.union1d(x, y) if labels is None else np.asarray(labels)
    if label_set.ndim != 1 or np.unique(label_set).size != label_set.size:
        raise InvalidInputError("labels must be a 1-D sequence of distinct labels")
    order = np.argsort(label_set, kind="stable")
    positions = []
    for arr, name in ((x, "a"), (y, "b")):
        idx = np.searchsorted(label_set, arr, sorter=order)
        idx = order[np.minimum(idx, label_set.size - 1)]
        if not (label_set[idx] == arr).all():
            raise InvalidInputError(f"{name} holds labels that are not in labels")
        positions.append(idx)
    n_labels = label_set.size
    pairs = np.bincount(positions[0] * n_labels + positions[1], minlength=n_labels**2)
    observed = pairs.reshape(n_labels, n_labels) / x.size
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    grid = np.arange(n_labels)
    distance = np.abs(grid[:, None] - grid[None, :]).astype(np.float64)
    if weights is None:
        w = (distance > 0).astype(np.float64)
    elif weights == "linear":
        w = distance
    elif weights == "quadratic":
        w = distance**2
    else:
        raise InvalidInputError(f"weights must be None, 'linear' or 'quadratic', got {weights!r}")
    return _ratio_or_nan(float((w * observed).sum()), float((w * expected).sum()))


def _check_counts(counts: ArrayLike) -> tuple[FloatArray, int]:
    """Check an (N, C) table of rating counts with the same number n >= 2 of ratings per row."""
    arr = np.asarray(counts)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] < 2:
        raise InvalidInputError(
            f"counts must be an (N items, C >= 2 categories) table, got shape {arr.shape}"
        )
    if arr.dtype.kind not in "iuf" or not np.isfinite(arr).all() or (arr < 0).any():
        raise InvalidInputError("counts must hold finite, non-negative numbers of ratings")
    if (arr % 1 != 0).any():
        raise InvalidInputError("counts must hold whole numbers of ratings")
    per_item = arr.sum(axis=1)
    if (per_item != per_item[0]).any():
        raise InvalidInputError(
            "Fleiss' kappa needs the same number of ratings for every item, got between "
            f"{int(per_item.min())} and {int(per_item.max())}: use krippendorff_alpha for "
            "missing ratings"
        )
    if per_item[0] < 2:
        raise InvalidInputError("Fleiss' kappa needs at least 2 ratings per item")
    return arr.astype(np.float64), int(per_item[0])


def fleiss_kappa(counts: ArrayLike) -> float:
    """Fleiss' kappa for N items each rated by n raters into C categories (Fleiss 1971).

    With ``n_ij`` the number of raters who put item i in category j:
    ``P_i = (sum_j n_ij^2 - n) / (n (n - 1))`` (agreeing pairs on item i),
    ``p_j = sum_i n_ij / (N n)``, ``P_e = sum_j p_j^2`` and
    ``kappa = (mean_i P_i - P_e) / (1 - P_e)``. The raters need not be the same people from item
    to item, only the same number.

    Parameters
    ----------
    counts : array of shape (N, C)
        Ratings per item and category; every row sums to the same n >= 2. Build it from an
        annotation table with :func:`fleiss_counts`.

    Returns
    -------
    float
        nan when every rating falls in one category.

    References
    ----------
    Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. Psychological
    Bulletin, 76(5), 378-382. (Its 30 patients x 6 psychiatrists example gives kappa = 0.430.)
    """
    arr, n = _check_counts(counts)
    agreement = ((arr * (arr - 1)).sum(axis=1) / (n * (n - 1))).mean()
    shares = arr.sum(axis=0) / arr.sum()
    chance = float((shares**2).sum())
    return _ratio_or_nan(1.0 - float(agreement), 1.0 - chance)


def fleiss_kappa_per_category(counts: ArrayLike) -> FloatArray:
    """Fleiss' kappa of each category against all the others (Fleiss 1971).

    ``kappa_j = 1 - sum_i n_ij (n - n_ij) / (N n (n - 1) p_j q_j)`` with ``q_j = 1 - p_j``. The
    overall kappa is the mean of the ``kappa_j`` weighted by ``p_j q_j``.

    Returns
    -------
    array of shape (C,)
        nan for a category that no rater used (or that every rater always used).
    """
    arr, n = _check_counts(counts)
    n_items = arr.shape[0]
    shares = arr.sum(axis=0) / arr.sum()
    spread = n_items * n * (n - 1) * shares * (1.0 - shares)
    disagreement = (arr * (n - arr)).sum(axis=0)
    out = np.full(arr.shape[1], np.nan)
    ok = spread > 1e-15
    out[ok] = 1.0 - disagreement[ok] / spread[ok]
    return out


def fleiss_counts(
    annotations: ArrayLike, n_classes: int, n_items: int | None = None
) -> NDArray[np.int64]:
    """The (N, C) table of how many annotations put each item in each class.

    Parameters
    ----------
    annotations : int array of shape (M, 3)
        Rows ``(item, annotator, label)`` of zero-based indices.
    n_classes : int
    n_items : int, optional
        Default: one more than the largest item index.
    """
    table = check_annotations(annotations, n_classes, n_items=n_items)
    return vote_counts(table).astype(np.int64)


def _level_distance(values: FloatArray, totals: FloatArray, level: AlphaLevel) -> FloatArray:
    """Krippendorff's squared difference ``delta^2_ck`` between the sorted distinct values."""
    diff = values[:, None] - values[None, :]
    if level == "nominal":
        return (diff != 0).astype(np.float64)
    if level == "interval":
        return np.asarray(diff**2, dtype=np.float64)
    if level == "ratio":
        total = values[:, None] + values[None, :]
        safe = np.where(total == 0, 1.0, total)
        return np.asarray(np.where(total == 0, 0.0, (diff / safe) ** 2), dtype=np.float64)
    # ordinal: (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2, from the cumulative value frequencies
    cum = np.cumsum(totals)
    grid = np.arange(values.size)
    low, high = np.minimum.outer(grid, grid), np.maximum.outer(grid, grid)
    between = cum[high] - cum[low] + totals[low]
    return np.asarray((between - (totals[:, None] + totals[None, :]) / 2.0) ** 2)


def krippendorff_alpha(
    data: ArrayLike, level: AlphaLevel = "nominal", missing: float | None = -1
) -> float:
    """Krippendorff's alpha over a reliability data matrix with missing values.

    ``alpha = 1 - D_o / D_e = 1 - (n - 1) sum_ck o_ck delta_ck / sum_ck n_c n_k delta_ck``, where
    the coincidence matrix ``o_ck = sum_u (number of c-k pairs of values in unit u) / (m_u - 1)``
    counts ordered pairs of values given to the same unit by different coders, ``m_u`` is the
    number of values in unit u (units with fewer than 2 are not pairable and are dropped),
    ``n_c = sum_k o_ck`` and ``n = sum_c n_c``. ``delta_ck`` is the squared difference of the
    chosen level: nominal ``[c != k]``; ordinal ``(sum_{g=c}^{k} n_g - (n_c + n_k) / 2)^2``;
    interval ``(c - k)^2``; ratio ``((c - k) / (c + k))^2``.

    Parameters
    ----------
    data : array of shape (n_coders, n_units)
        Each coder's value for each unit (category codes for nominal data). NaN marks a missing
        value, and so does any value equal to ``missing``.
    level : {"nominal", "ordinal", "interval", "ratio"}
        The metric of the values.
    missing : float or None
        The code of a missing value besides NaN (default -1); None when every finite value is
        data (say, interval data that may be negative).

    Returns
    -------
    float
        Alpha; nan when all pairable values are equal (no variation to agree on).

    References
    ----------
    Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability. Annenberg School for
    Communication Departmental Papers 43. (Its 4 coders x 12 units example gives nominal
    0.743, ordinal 0.815, interval 0.849, ratio 0.797.)
    """
    arr = np.asarray(data, dtype=np.float64)
    if arr.ndim != 2 or arr.size == 0:
        raise InvalidInputError(
            f"data must be a (coders, units) reliability matrix, got shape {arr.shape}"
        )
    if np.isinf(arr).any():
        raise InvalidInputError("data holds infinite values: use NaN for missing values")
    if level not in ("nominal", "ordinal", "interval", "ratio"):
        raise InvalidInputError(
            f"level must be 'nominal', 'ordinal', 'interval' or 'ratio', got {level!r}"
        )
    present = ~np.isnan(arr)
    if missing is not None:
        present &= arr != missing
    if level == "ratio" and (arr[present] < 0).any():
        raise InvalidInputError("ratio-level values must be non-negative")
    values, codes = np.unique(arr[present], return_inverse=True)
    units = np.broadcast_to(np.arange(arr.shape[1]), arr.shape)[present]
    per_unit = np.zeros((arr.shape[1], values.size))
    np.add.at(per_unit, (units, codes), 1.0)
    m_u = per_unit.sum(axis=1)
    pairable = m_u >= 2
    if not pairable.any():
        raise InvalidInputError(
            "no unit has values from two or more coders: alpha needs pairable values"
        )
    per_unit, m_u = per_unit[pairable], m_u[pairable]
    scaled = per_unit / (m_u - 1.0)[:, None]
    coincidence = scaled.T @ per_unit - np.diag(scaled.sum(axis=0))
    totals = coincidence.sum(axis=1)
    n = float(totals.sum())
    delta = _level_distance(values, totals, level)
    observed = float((coincidence * delta).sum())
    expected = float((np.outer(totals, totals) * delta).sum()) / (n - 1.0)
    return _ratio_or_nan(observed, expected)


def annotator_agreement(
    annotations: ArrayLike, n_classes: int, n_annotators: int | None = None
) -> FloatArray:
    """Each annotator's rate of agreement with the other annotators on the same items.

    For annotator a: ``sum over a's annotations (item i, label l) of #others on i who said l``
    divided by ``sum of #others' annotations on i`` (pairwise agreement, Fleiss 1971's ``P_i``
    restricted to pairs that include a). Not chance-corrected: compare annotators with each other,
    not with other projects.

    Returns
    -------
    array of shape (n_annotators,)
        In [0, 1]; nan for an annotator who shares no item with anyone else.
    """
    table = check_annotations(annotations, n_classes, n_annotators=n_annotators)
    counts = vote_counts(table)
    per_item = counts.sum(axis=1)
    # What the annotator contributed to the same item (and label) is not "others".
    pair = table.items * table.n_annotators + table.annotators
    _, own_index, own_total = np.unique(pair, return_inverse=True, return_counts=True)
    triple = pair * table.n_classes + table.labels
    _, same_index, same_total = np.unique(triple, return_inverse=True, return_counts=True)
    others = per_item[table.items] - own_total[own_index]
    agree = counts[table.items, table.labels] - same_total[same_index]
    num = np.bincount(table.annotators, weights=agree, minlength=table.n_annotators)
    den = np.bincount(table.annotators, weights=others, minlength=table.n_annotators)
    out = np.full(table.n_annotators, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def specific_agreement(annotations: ArrayLike, n_classes: int) -> FloatArray:
    """Proportion of specific agreement for each class, with any number of ratings per item.

    ``p_s(c) = sum_i n_ic (n_ic - 1) / sum_i n_ic (m_i - 1)``: given that one annotator chose c
    for an item, the chance that another annotator of the same item chose c too (Fleiss 1971's
    ``P_j``; Uebersax 1982). Items with a single annotation carry no pair and are skipped.

    Returns
    -------
    array of shape (n_classes,)
        nan for a class never chosen on an item with two or more annotations.
    """
    table = check_annotations(annotations, n_classes)
    counts = vote_counts(table)
    m = counts.sum(axis=1, keepdims=True)
    num = (counts * (counts - 1.0)).sum(axis=0)
    den = (counts * (m - 1.0)).sum(axis=0)
    out = np.full(table.n_classes, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


__all__ = [
    "AlphaLevel",
    "KappaWeights",
    "annotator_agreement",
    "cohen_kappa",
    "fleiss_counts",
    "fleiss_kappa",
    "fleiss_kappa_per_category",
    "krippendorff_alpha",
    "specific_agreement",
]
