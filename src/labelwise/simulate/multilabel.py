"""Simulated active learning for multi-label classification: metrics, models, defaults.

Metrics per round: micro- and macro-averaged F1, subset accuracy and Hamming loss on the test
split; micro-F1 is the curve's metric. The runs go through
:func:`labelwise.simulate.task_run.run_task_simulation`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from labelwise.errors import InvalidInputError
from labelwise.models.multilabel import SklearnMultilabel

__all__ = ["MULTILABEL_MODELS", "make_multilabel_model", "multilabel_metrics"]

MULTILABEL_MODELS: tuple[str, ...] = ("logreg", "forest")
#: The metric a multi-label curve follows (higher is better).
PRIMARY_METRIC = "micro_f1"


def multilabel_metrics(Y_true: ArrayLike, Y_pred: ArrayLike) -> dict[str, float]:
    """Micro-F1, macro-F1, subset accuracy and Hamming loss of predicted label sets.

    With per-label counts ``tp_q, fp_q, fn_q``: ``micro_f1 = 2 sum tp / (2 sum tp + sum fp +
    sum fn)``; ``macro_f1`` the mean over labels of ``2 tp_q / (2 tp_q + fp_q + fn_q)`` (a label
    never true nor predicted scores 0, as scikit-learn's ``zero_division=0``);
    ``subset_accuracy`` the share of items whose whole set is right; ``hamming_loss`` the share
    of (item, label) pairs that are wrong.

    >>> multilabel_metrics([[1, 0], [1, 1]], [[1, 0], [0, 1]])["hamming_loss"]
    0.25
    """
    Y = np.asarray(Y_true)
    P = np.asarray(Y_pred)
    if Y.ndim != 2 or Y.shape != P.shape or Y.size == 0:
        raise InvalidInputError(f"Y_true {Y.shape} and Y_pred {P.shape} must be equal 2-D shapes")
    y, p = Y.astype(bool), P.astype(bool)
    tp = (y & p).sum(axis=0).astype(np.float64)
    fp = (~y & p).sum(axis=0).astype(np.float64)
    fn = (y & ~p).sum(axis=0).astype(np.float64)
    micro_den = 2 * tp.sum() + fp.sum() + fn.sum()
    per_label_den = 2 * tp + fp + fn
    per_label = np.divide(2 * tp, per_label_den, out=np.zeros_like(tp), where=per_label_den > 0)
    return {
        "micro_f1": float(2 * tp.sum() / micro_den) if micro_den > 0 else 0.0,
        "macro_f1": float(per_label.mean()),
        "subset_accuracy": float((y == p).all(axis=1).mean()),
        "hamming_loss": float((y != p).mean()),
    }


def make_multilabel_model(name: str, seed: int) -> SklearnMultilabel:
    """A fresh multi-label model for one seed: ``logreg`` (one logistic regression per label,
    ``OneVsRestClassifier``) or ``forest`` (a random forest fitting every label at once)."""
    estimator: Any
    if name == "logreg":
        from sklearn.linear_model import LogisticRegression

        return SklearnMultilabel(LogisticRegression(C=1.0, max_iter=1000), "one_vs_rest")
    if name == "forest":
        from sklearn.ensemble import RandomForestClassifier

        estimator = RandomForestClassifier(100, random_state=seed, n_jobs=1)
        return SklearnMultilabel(estimator, "native")
    raise InvalidInputError(
        f"unknown multi-label model {name!r}; known: {', '.join(MULTILABEL_MODELS)}"
    )
