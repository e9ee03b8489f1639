"""Gold questions: items with a known answer, mixed into the queue to measure each annotator.

:func:`gold_report` counts each annotator's answers and correct answers on gold items,
:func:`flag_annotators` names those under an accuracy threshold, and :func:`gold_weights` turns
the counts into vote weights for :func:`labelwise.quality.aggregation.majority_vote`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.errors import InvalidInputError
from labelwise.quality._validation import FloatArray, check_annotations, check_count


@dataclass(frozen=True)
class GoldReport:
    """Each annotator's record on gold items.

    Attributes
    ----------
    answered : int array of shape (A,)
        Annotations the annotator gave on gold items.
    correct : int array of shape (A,)
        How many of them matched the gold label.
    """

    answered: NDArray[np.int64]
    correct: NDArray[np.int64]

    @property
    def accuracy(self) -> FloatArray:
        """``correct / answered`` per annotator; nan for an annotator with no gold answer."""
        out = np.full(self.answered.shape, np.nan)
        np.divide(self.correct, self.answered, out=out, where=self.answered > 0)
        return out


def gold_report(
    annotations: ArrayLike,
    gold_items: ArrayLike,
    gold_labels: ArrayLike,
    n_classes: int,
    n_annotators: int | None = None,
) -> GoldReport:
    """Count each annotator's answers and correct answers on the gold items.

    Parameters
    ----------
    annotations : int array of shape (M, 3)
        Rows ``(item, annotator, label)``; rows on non-gold items are ignored.
    gold_items : int array of shape (G,)
        Distinct item indices whose true label is known.
    gold_labels : int array of shape (G,)
        Their true labels, in ``[0, n_classes)``.
    n_classes : int
    n_annotators : int, optional
        Default: one more than the largest annotator index.
    """
    table = check_annotations(annotations, n_classes, n_annotators=n_annotators)
    items, labels = np.asarray(gold_items), np.asarray(gold_labels)
    if items.ndim != 1 or items.shape != labels.shape or items.size == 0:
        raise InvalidInputError(
            "gold_items and gold_labels must be non-empty 1-D arrays of the same length, got "
            f"{items.shape} and {labels.shape}"
        )
    if items.dtype.kind not in "iu" or labels.dtype.kind not in "iu":
        raise InvalidInputError("gold_items and gold_labels must hold integer indices")
    if np.unique(items).size != items.size:
        raise InvalidInputError("gold_items holds an item twice: give one gold label per item")
    if items.min() < 0 or labels.min() < 0 or labels.max() >= n_classes:
        raise InvalidInputError(
            f"gold_items must be >= 0 and gold_labels in [0, {n_classes}), got out-of-range values"
        )
    size = max(int(items.max()), table.n_items - 1) + 1
    truth = np.full(size, -1, dtype=np.intp)
    truth[items] = labels
    expected = truth[table.items]
    on_gold = expected >= 0
    annotators = table.annotators[on_gold]
    hits = table.labels[on_gold] == expected[on_gold]
    answered = np.bincount(annotators, minlength=table.n_annotators).astype(np.int64)
    correct = np.bincount(annotators[hits], minlength=table.n_annotators).astype(np.int64)
    return GoldReport(answered=answered, correct=correct)


def flag_annotators(
    report: GoldReport, threshold: float, min_answered: int = 1
) -> NDArray[np.bool_]:
    """Annotators under ``threshold`` gold accuracy after at least ``min_answered`` gold answers.

    An annotator with fewer gold answers is not flagged (not enough evidence yet).

    Returns
    -------
    bool array of shape (A,)
    """
    if not 0.0 <= threshold <= 1.0:
        raise InvalidInputError(f"threshold must be an accuracy in [0, 1], got {threshold}")
    min_answered = check_count(min_answered, "min_answered")
    enough = report.answered >= min_answered
    return np.asarray(enough & (report.correct < threshold * report.answered))


def gold_weights(
    report: GoldReport,
    n_classes: int,
    prior_accuracy: float = 0.7,
    prior_strength: float = 2.0,
) -> FloatArray:
    """Vote weights from gold accuracy: the log-odds of being right, zero at or below chance.

    ``w_k = max(0, log((C - 1) q_k / (1 - q_k)))`` with the smoothed accuracy
    ``q_k = (correct_k + s a_0) / (answered_k + s)`` (a Beta prior of strength ``s`` around
    ``a_0``, so that an annotator with few or no gold answers gets a weight near the prior's
    rather than 0 or infinity). For annotators who are right with probability ``q_k`` and
    otherwise pick one of the C - 1 wrong classes uniformly, a weighted majority vote with these
    weights is the maximum a posteriori label under a uniform class prior (Nitzan & Paroush 1982
    for C = 2; Li & Yu 2014 for C classes). A chance-level annotator (``q_k <= 1/C``) weighs 0.

    Parameters
    ----------
    report : GoldReport
    n_classes : int
    prior_accuracy : float in (1/C, 1)
        ``a_0``: the accuracy assumed before any gold answer.
    prior_strength : float > 0
        ``s``: how many gold answers the prior is worth.

    Returns
    -------
    array of shape (A,)
        Non-negative weights to pass as ``weights`` to ``majority_vote``.

    References
    ----------
    Nitzan, S., & Paroush, J. (1982). Optimal decision rules in uncertain dichotomous choice
    situations. International Economic Review, 23(2), 289-297.
    Li, H., & Yu, B. (2014). Error rate bounds and iterative weighted majority voting for
    crowdsourcing. arXiv:1411.4086.
    """
    n_classes = check_count(n_classes, "n_classes", minimum=2)
    if not 1.0 / n_classes < prior_accuracy < 1.0:
        raise InvalidInputError(
            f"prior_accuracy must lie between chance (1/{n_classes}) and 1, got {prior_accuracy}"
        )
    if not (np.isfinite(prior_strength) and prior_strength > 0):
        raise InvalidInputError(f"prior_strength must be positive, got {prior_strength}")
    q = (report.correct + prior_strength * prior_accuracy) / (report.answered + prior_strength)
    return np.maximum(0.0, np.log((n_classes - 1) * q / (1.0 - q)))
