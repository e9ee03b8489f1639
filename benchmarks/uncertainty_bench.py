"""Uncertainty sampling cases: entropy, margin and least confidence on 1,000,000 x 10 float32.

Each labelwise face (the scoring function, the registry's ``select``) is set against the same face
of modAL and scikit-activeml and against the float64 textbook formula.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks import data as gen
from benchmarks import peers, references
from benchmarks.case import Case, Data, Impl, Params, Target
from benchmarks.ours import SEED, ours_score, ours_select

TEXTBOOK_SCORES = {
    "entropy": references.textbook_entropy,
    "margin": references.textbook_margin,
    "least_confidence": references.textbook_least_confidence,
}

#: How a peer's score maps onto ours (higher = more informative, our scale).
TO_OUR_SCALE: dict[tuple[str, str], Callable[[np.ndarray], np.ndarray]] = {
    ("margin", "modAL.score"): lambda s: -s,
    ("margin", "skactiveml.score"): lambda s: s - 1.0,
}


def score_check(method: str, impl: str) -> Callable[[Data, Params, Any], dict[str, Any]]:
    def check(data: Data, params: Params, output: Any) -> dict[str, Any]:
        ref = TEXTBOOK_SCORES[method](data["proba"])
        scores = TO_OUR_SCALE.get((method, impl), lambda s: s)(np.asarray(output, np.float64))
        diff = float(np.max(np.abs(scores - ref)))
        return {"max_abs_diff_vs_textbook": diff, "agrees": bool(diff <= 1e-5)}

    return check


def topk_check(method: str) -> Callable[[Data, Params, Any], dict[str, Any]]:
    """Picks are a valid top-k: distinct, and none scores below the k-th textbook score."""

    def check(data: Data, params: Params, output: Any) -> dict[str, Any]:
        picks = np.asarray(output, dtype=np.intp).ravel()
        ref = TEXTBOOK_SCORES[method](data["proba"])
        kth = np.sort(ref)[-params["batch"]]
        ok = len(set(picks.tolist())) == params["batch"] and bool((ref[picks] >= kth - 1e-6).all())
        return {"valid_top_k": ok}

    return check


def _uncertainty_case(method: str) -> Case:
    impls = (
        Impl(
            "labelwise.score",
            "ours",
            ours_score(method),
            score_check(method, "labelwise.score"),
            f"labelwise.strategies.{method}(proba)",
        ),
        Impl(
            "labelwise.select",
            "ours",
            ours_select(method, proba="proba"),
            topk_check(method),
            f"get_strategy({method!r}).select(...)",
        ),
        Impl(
            "modAL.score",
            "peer",
            peers.modal_score(method),
            score_check(method, "modAL.score"),
            f"modAL.uncertainty.{peers.UNCERTAINTY_NAMES[method][0]}",
        ),
        Impl(
            "modAL.select",
            "peer",
            peers.modal_select(method),
            topk_check(method),
            f"modAL.uncertainty.{peers.UNCERTAINTY_NAMES[method][1]}",
        ),
        Impl(
            "skactiveml.score",
            "peer",
            peers.skactiveml_score(method),
            score_check(method, "skactiveml.score"),
            "skactiveml.pool.uncertainty_scores",
        ),
        Impl(
            "skactiveml.query",
            "peer",
            peers.skactiveml_query(method),
            topk_check(method),
            "UncertaintySampling(...).query(fit_clf=False)",
        ),
        Impl(
            "textbook.score",
            "reference",
            lambda d, p: lambda: TEXTBOOK_SCORES[method](d["proba"]),
            score_check(method, "textbook.score"),
            "float64 numpy, the formula as written",
        ),
    )
    targets = tuple(
        Target(ours, other, 5.0)
        for ours, others in (
            ("labelwise.score", ("modAL.score", "skactiveml.score")),
            ("labelwise.select", ("modAL.select", "skactiveml.query")),
        )
        for other in others
    )
    return Case(
        name=method,
        title=f"{method} on N x C float32 probabilities",
        sizes={
            "full": {"n": 1_000_000, "classes": 10, "batch": 100},
            "quick": {"n": 2_000, "classes": 10, "batch": 10},
        },
        make_data=lambda p: {"proba": gen.make_proba(p["n"], p["classes"], SEED)},
        impls=impls,
        targets=targets,
        max_extra_bytes=lambda p: 32.0 * p["n"],
        memory_target_text="O(N): under 32 bytes per pool item (a float64 copy of the input is 80)",
    )


UNCERTAINTY_CASES = tuple(_uncertainty_case(m) for m in ("entropy", "margin", "least_confidence"))
