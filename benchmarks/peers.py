"""The peer libraries, each called through its own public API on inputs in its native layout.

Layout conversions (the transposes and log-probabilities a peer expects) happen in ``prepare``,
outside the timed call. A peer that is not installed raises :class:`Unavailable`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.case import Data, Params, Unavailable

UNCERTAINTY_NAMES = {
    # ours: (modAL score function, modAL sampling function, skactiveml method)
    "entropy": ("classifier_entropy", "entropy_sampling", "entropy"),
    "margin": ("classifier_margin", "margin_sampling", "margin_sampling"),
    "least_confidence": ("classifier_uncertainty", "uncertainty_sampling", "least_confident"),
}


def _require(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise Unavailable(f"{module} is not installed ({exc})") from None


class _FixedProba:
    """A fitted 'classifier' whose predict_proba returns its input: modAL needs only that."""

    def predict_proba(self, X: Any, **kwargs: Any) -> Any:
        return X


def _skactiveml_classifier(proba: np.ndarray) -> Any:
    """A SkactivemlClassifier that answers every predict_proba with ``proba`` (fit is a no-op)."""
    base = _require("skactiveml.base")

    class FixedProbaClassifier(base.SkactivemlClassifier):  # type: ignore[name-defined]
        def __init__(self, proba: Any = None, classes: Any = None) -> None:
            super().__init__(classes=classes)
            self.proba = proba

        def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Any:
            self.classes_ = np.asarray(self.classes)
            return self

        def predict_proba(self, X: Any, **kwargs: Any) -> Any:
            return self.proba

    return FixedProbaClassifier(proba, classes=np.arange(proba.shape[1])).fit(None, None)


def _all_missing(n: int) -> np.ndarray:
    return np.full(n, np.nan)


# -- uncertainty ---------------------------------------------------------------------------------
def modal_score(method: str) -> Callable[[Data, Params], Callable[[], Any]]:
    def prepare(data: Data, params: Params) -> Callable[[], Any]:
        fn = getattr(_require("modAL.uncertainty"), UNCERTAINTY_NAMES[method][0])
        clf, proba = _FixedProba(), data["proba"]
        return lambda: fn(clf, proba)

    return prepare


def modal_select(method: str) -> Callable[[Data, Params], Callable[[], Any]]:
    def prepare(data: Data, params: Params) -> Callable[[], Any]:
        fn = getattr(_require("modAL.uncertainty"), UNCERTAINTY_NAMES[method][1])
        clf, proba, b = _FixedProba(), data["proba"], params["batch"]
        return lambda: fn(clf, proba, n_instances=b)[0]

    return prepare


def skactiveml_score(method: str) -> Callable[[Data, Params], Callable[[], Any]]:
    def prepare(data: Data, params: Params) -> Callable[[], Any]:
        fn = _require("skactiveml.pool").uncertainty_scores
        proba, name = data["proba"], UNCERTAINTY_NAMES[method][2]
        return lambda: fn(proba, method=name)

    return prepare


def skactiveml_query(method: str) -> Callable[[Data, Params], Callable[[], Any]]:
    def prepare(data: Data, params: Params) -> Callable[[], Any]:
        pool = _require("skactiveml.pool")
        proba, b = data["proba"], params["batch"]
        clf = _skactiveml_classifier(proba)
        y = _all_missing(len(proba))
        qs = pool.UncertaintySampling(method=UNCERTAINTY_NAMES[method][2], random_state=0)
        return lambda: qs.query(X=proba, y=y, clf=clf, fit_clf=False, batch_size=b)

    return prepare


# -- core-set and BADGE --------------------------------------------------------------------------
def skactiveml_coreset(data: Data, params: Params) -> Callable[[], Any]:
    pool = _require("skactiveml.pool")
    labeled, unlabeled = data["labeled"], data["pool"]
    X = np.concatenate([labeled, unlabeled])
    y = np.concatenate([np.zeros(len(labeled)), _all_missing(len(unlabeled))])
    qs = pool.CoreSet(random_state=0)
    n_labeled, b = len(labeled), params["batch"]
    return lambda: np.asarray(qs.query(X=X, y=y, batch_size=b)) - n_labeled


def skactiveml_badge(data: Data, params: Params) -> Callable[[], Any]:
    pool = _require("skactiveml.pool")
    emb, proba, b = data["embeddings"], data["proba"], params["batch"]
    clf = _skactiveml_classifier(proba)
    y = _all_missing(len(emb))
    qs = pool.Badge(random_state=0)
    return lambda: np.asarray(qs.query(X=emb, y=y, clf=clf, fit_clf=False, batch_size=b))


# -- BALD and BatchBALD ---------------------------------------------------------------------------
def baal_bald(data: Data, params: Params) -> Callable[[], Any]:
    heuristics = _require("baal.active.heuristics")
    predictions = np.ascontiguousarray(data["samples"].transpose(1, 2, 0))  # (N, C, K)
    bald = heuristics.BALD()
    return lambda: bald.get_uncertainties(predictions)


def _log_probs_n_k_c(samples: np.ndarray) -> Any:
    torch = _require("torch")
    log_probs = np.log(np.maximum(samples.transpose(1, 0, 2).astype(np.float64), 1e-300))
    return torch.from_numpy(np.ascontiguousarray(log_probs))


def batchbald_redux_bald(data: Data, params: Params) -> Callable[[], Any]:
    module = _require("batchbald_redux.batchbald")
    log_probs = _log_probs_n_k_c(data["samples"])
    b = params["batch"]
    return lambda: np.asarray(module.get_bald_batch(log_probs, b).indices)


def batchbald_redux_batchbald(data: Data, params: Params) -> Callable[[], Any]:
    module = _require("batchbald_redux.batchbald")
    torch = _require("torch")
    log_probs = _log_probs_n_k_c(data["samples"])
    b, m = params["batch"], params["redux_num_samples"]
    return lambda: np.asarray(
        module.get_batchbald_batch(log_probs, b, num_samples=m, dtype=torch.double).indices
    )
