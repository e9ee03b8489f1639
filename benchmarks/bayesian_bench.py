"""Bayesian cases: BALD scores and BatchBALD batches from MC-dropout samples."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks import data as gen
from benchmarks import peers, references
from benchmarks.case import Case, Data, Impl, Params, Target
from benchmarks.ours import MB, SEED, ours_score, ours_select, picks_check


def bald_check(data: Data, params: Params, output: Any) -> dict[str, Any]:
    ref = references.plain_numpy_bald(data["samples"].astype(np.float64))
    diff = float(np.max(np.abs(np.asarray(output, np.float64) - ref)))
    return {"max_abs_diff_vs_numpy_float64": diff, "agrees": bool(diff <= 1e-4)}


# -- BALD ---------------------------------------------------------------------------------------
def _samples_data(p: Params) -> Data:
    return {"samples": gen.make_samples(p["k"], p["n"], p["classes"], SEED)}


BALD = Case(
    name="bald",
    title="BALD scores over K x N x C MC-dropout samples",
    sizes={
        "full": {"k": 20, "n": 100_000, "classes": 10, "batch": 100},
        "quick": {"k": 4, "n": 500, "classes": 3, "batch": 5},
    },
    make_data=_samples_data,
    impls=(
        Impl(
            "labelwise",
            "ours",
            ours_score("bald", key="samples"),
            bald_check,
            "labelwise.strategies.bald(samples)",
        ),
        Impl(
            "numpy",
            "reference",
            lambda d, p: lambda: references.plain_numpy_bald(d["samples"]),
            bald_check,
            "H[mean p] - mean H[p], plain numpy on the float32 samples",
        ),
        Impl(
            "baal", "peer", peers.baal_bald, bald_check, "baal BALD().get_uncertainties, (N, C, K)"
        ),
        Impl(
            "batchbald-redux",
            "peer",
            peers.batchbald_redux_bald,
            None,
            "get_bald_batch (scores and top-k), float64 log-probs (N, K, C)",
        ),
    ),
    targets=(Target("labelwise", "numpy", 2.5),),
)


# -- BatchBALD ----------------------------------------------------------------------------------
def _repeated_samples_data(p: Params) -> Data:
    return {"samples": gen.make_repeated_samples(p["k"], p["n"], p["classes"], p["repeats"], SEED)}


#: Greedy prefixes whose joint MI is computed exactly (C^b configurations, b at most this).
EXACT_PREFIX = 5


def _batchbald_compare(params: Params, checks: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Joint MI of each batch (same estimator for all), and of its greedy prefixes, exactly.

    With K parameter samples the joint MI is at most ``log K`` (the labels can at best tell which
    sample is the true one), so at batch 10 with K = 20 good batches crowd under that ceiling; the
    exact MI of the first 2..5 picks shows the differences the full batch hides.
    """
    samples = _repeated_samples_data(params)["samples"]
    picks = {name: facts["picks"] for name, facts in checks.items() if "picks" in facts}
    ceiling = float(np.log(params["k"]))
    out = []
    mi: dict[str, tuple[float, float]] = {}
    for name, batch in picks.items():
        mi[name] = references.joint_mutual_information(samples, batch, params["mi_draws"], SEED)
        value, se = mi[name]
        prefixes = [
            references.joint_mutual_information(samples, batch[:b])[0]
            for b in range(2, min(EXACT_PREFIX, len(batch) - 1) + 1)
        ]
        shown = ", ".join(f"{v:.4f}" for v in prefixes)
        out.append(
            {
                "check": f"{name}: joint MI of the batch (nats; ceiling log K = {ceiling:.4f})",
                "ok": True,
                "detail": f"{value:.4f} +- {se:.4f}; first 2..{len(prefixes) + 1} picks, exact: "
                f"{shown}",
                "required": False,
                "value": value,
                "se": se,
                "prefixes": prefixes,
            }
        )
    if "labelwise" in mi and "batchbald-redux" in mi:
        (ours, se_o), (peer, se_p) = mi["labelwise"], mi["batchbald-redux"]
        tol = 2.0 * float(np.hypot(se_o, se_p))
        out.append(
            {
                "check": "labelwise joint MI >= batchbald-redux's (within 2 standard errors)",
                "ok": ours >= peer - tol,
                "detail": f"{ours:.4f} vs {peer:.4f} (tol {tol:.4f})",
                "required": True,
            }
        )
    return out


def _bald_topk(data: Data, params: Params) -> Callable[[], Any]:
    samples, b = data["samples"], params["batch"]
    return lambda: references.textbook_top_k(references.plain_numpy_bald(samples), b)


BATCHBALD = Case(
    name="batchbald",
    title="BatchBALD batch from K x N x C samples (pool: N/4 distinct items, each 4 times)",
    sizes={
        "full": {
            "k": 20,
            "n": 10_000,
            "classes": 10,
            "batch": 10,
            "repeats": 4,
            "redux_num_samples": 10_000,
            "mi_draws": 200_000,
        },
        "quick": {
            "k": 6,
            "n": 200,
            "classes": 3,
            "batch": 3,
            "repeats": 4,
            "redux_num_samples": 1_000,
            "mi_draws": 20_000,
        },
    },
    make_data=_repeated_samples_data,
    impls=(
        Impl(
            "labelwise",
            "ours",
            ours_select("batchbald", samples="samples"),
            picks_check,
            "get_strategy('batchbald').select(...)",
        ),
        Impl(
            "batchbald-redux",
            "peer",
            peers.batchbald_redux_batchbald,
            picks_check,
            "get_batchbald_batch(num_samples=10,000 full / 1,000 quick, float64)",
        ),
        Impl(
            "bald-top-k",
            "reference",
            _bald_topk,
            picks_check,
            "top-k BALD (plain numpy): the batch-blind baseline, for its joint MI",
        ),
    ),
    targets=(Target("labelwise", "batchbald-redux", 5.0),),
    max_extra_bytes=lambda p: 500 * MB,
    memory_target_text="under 500 MB",
    compare=_batchbald_compare,
)
