"""Evaluation metrics for one round: accuracy, macro-F1, per-class recall, calibration error.

Pure functions of integer labels and class probabilities; the label space is fixed by the
number of probability columns, so a class that no prediction hits still counts (F1 = 0).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

#: Equal-width confidence bins of the expected calibration error (Guo et al., 2017 use 15).
ECE_BINS = 15


def confusion(
    y_true: NDArray[np.intp], y_pred: NDArray[np.intp], n_classes: int
) -> NDArray[np.int64]:
    """Confusion counts ``M[t, p]`` of true class t predicted as p, shape (C, C)."""
    flat = np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes).astype(np.int64)


def per_class_recall(matrix: NDArray[np.int64]) -> NDArray[np.float64]:
    """``M[c, c] / sum_p M[c, p]`` per class; NaN for a class absent from the test set."""
    support = matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(support > 0, np.diag(matrix) / support, np.nan)


def macro_f1(matrix: NDArray[np.int64]) -> float:
    """Unweighted mean over classes of ``F1_c = 2 TP_c / (2 TP_c + FP_c + FN_c)``.

    Classes that neither occur nor are predicted are left out (scikit-learn's ``f1_score`` with
    ``average="macro"`` over the labels present); a class never predicted gets F1 = 0.
    """
    tp = np.diag(matrix).astype(np.float64)
    fp = matrix.sum(axis=0) - tp
    fn = matrix.sum(axis=1) - tp
    denom = 2 * tp + fp + fn
    present = denom > 0
    return float(np.mean(2 * tp[present] / denom[present])) if present.any() else 0.0


def expected_calibration_error(
    proba: NDArray[np.floating], y_true: NDArray[np.intp], n_bins: int = ECE_BINS
) -> float:
    """ECE (Naeini et al., 2015; Guo et al., 2017) of the top-class confidence.

    ``ECE = sum_b |B_b| / n * |acc(B_b) - conf(B_b)|`` over ``n_bins`` equal-width bins of
    ``max_c p(c|x)`` in (0, 1], each bin ``((b - 1)/n_bins, b/n_bins]``.
    """
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y_true
    bins = np.clip(np.ceil(confidence * n_bins).astype(np.int64) - 1, 0, n_bins - 1)
    conf_sum = np.bincount(bins, weights=confidence, minlength=n_bins)
    acc_sum = np.bincount(bins, weights=correct.astype(np.float64), minlength=n_bins)
    return float(np.abs(acc_sum - conf_sum).sum() / max(len(y_true), 1))


def evaluate(
    proba: NDArray[np.floating], y_true: NDArray[np.intp]
) -> dict[str, float | NDArray[np.float64]]:
    """Accuracy, macro-F1, per-class recall and ECE of probabilities ``proba`` (N, C)."""
    n_classes = proba.shape[1]
    pred = proba.argmax(axis=1)
    matrix = confusion(y_true, pred, n_classes)
    return {
        "accuracy": float(np.mean(pred == y_true)),
        "macro_f1": macro_f1(matrix),
        "ece": expected_calibration_error(proba, y_true),
        "recall": per_class_recall(matrix),
    }
