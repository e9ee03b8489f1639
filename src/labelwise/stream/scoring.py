"""Turning one model's class probabilities into the numbers that rank or gate items.

Both faces of labelwise outside the pool loop use them: the stream rules want an uncertainty
(higher = ask for a label), Label Studio's "Uncertainty sampling" wants a score it serves lowest
first. All three uncertainties lie in [0, 1] (Settles 2009, "Active Learning Literature Survey",
sec. 3.1):

* ``least_confidence``: ``1 - max_c p_c`` rescaled by ``C / (C - 1)`` so that uniform is 1;
* ``margin``: ``1 - (p_1 - p_2)``, one minus the gap between the two most likely classes;
* ``entropy``: ``H[p] / log C``, the Shannon entropy over its maximum.

The Label Studio score is ``1 - uncertainty``: the confidence, so lowest = most informative.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.errors import InvalidInputError
from labelwise.strategies import entropy, least_confidence, margin

UncertaintyKind = Literal["least_confidence", "margin", "entropy"]
UNCERTAINTY_KINDS: tuple[str, ...] = ("least_confidence", "margin", "entropy")


def uncertainty(
    proba: ArrayLike, kind: UncertaintyKind = "least_confidence"
) -> NDArray[np.float64]:
    """Uncertainty of each row of ``proba`` (N, C) in [0, 1]; 1 for a uniform row.

    >>> uncertainty([[0.5, 0.5], [1.0, 0.0]]).tolist()
    [1.0, 0.0]
    """
    p = np.asarray(proba, dtype=np.float64)
    n_classes = p.shape[1] if p.ndim == 2 else 0
    if kind == "least_confidence":
        values = least_confidence(p) * (n_classes / max(n_classes - 1, 1))
    elif kind == "margin":
        values = 1.0 + margin(p)
    elif kind == "entropy":
        values = entropy(p) / math.log(max(n_classes, 2))
    else:
        raise InvalidInputError(f"kind must be one of {', '.join(UNCERTAINTY_KINDS)}, got {kind!r}")
    return np.clip(values, 0.0, 1.0)


def labelstudio_score(
    proba: ArrayLike, kind: UncertaintyKind = "least_confidence"
) -> NDArray[np.float64]:
    """``1 - uncertainty``: Label Studio serves the lowest score first, so the most
    informative task (a uniform prediction scores 0) is labeled first."""
    return 1.0 - uncertainty(proba, kind)
