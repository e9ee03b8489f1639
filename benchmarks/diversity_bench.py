"""Diversity cases: core-set (greedy k-center) and BADGE (k-means++ over gradient embeddings)."""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks import data as gen
from benchmarks import peers, references
from benchmarks.case import Case, Data, Impl, Params, Target
from benchmarks.ours import MB, SEED, ours_select, picks_check


# -- core-set ----------------------------------------------------------------------------------
def _coreset_compare(params: Params, checks: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    ref = checks.get("textbook", {}).get("picks")
    out = []
    for name in ("labelwise", "skactiveml"):
        picks = checks.get(name, {}).get("picks")
        if ref is None or picks is None:
            continue
        same = picks == ref
        first = next((i for i, (a, b) in enumerate(zip(picks, ref, strict=False)) if a != b), None)
        out.append(
            {
                "check": f"{name} picks == textbook greedy k-center picks (in order)",
                "ok": same,
                "detail": "identical" if same else f"first difference at step {first}",
                "required": name == "labelwise",
            }
        )
    return out


def _coreset_data(p: Params) -> Data:
    pool, labeled = gen.make_pool_and_labeled(p["n"], p["labeled"], p["dim"], SEED)
    return {"pool": pool, "labeled": labeled}


CORESET = Case(
    name="coreset",
    title="core-set (greedy k-center) over N x d embeddings, L labeled",
    sizes={
        "full": {"n": 100_000, "labeled": 1_000, "dim": 128, "batch": 1_000},
        "quick": {"n": 600, "labeled": 20, "dim": 8, "batch": 10},
    },
    make_data=_coreset_data,
    impls=(
        Impl(
            "labelwise",
            "ours",
            ours_select("coreset", embeddings="pool", labeled_embeddings="labeled"),
            picks_check,
            "get_strategy('coreset').select(...)",
        ),
        Impl("skactiveml", "peer", peers.skactiveml_coreset, picks_check, "CoreSet().query"),
        Impl(
            "textbook",
            "reference",
            lambda d, p: lambda: references.greedy_k_center(d["pool"], d["labeled"], p["batch"]),
            picks_check,
            "Sener & Savarese 2018, Alg. 1, float64",
        ),
    ),
    targets=(Target("labelwise", "skactiveml", 20.0),),
    compare=_coreset_compare,
)


# -- BADGE --------------------------------------------------------------------------------------
def _badge_data(p: Params) -> Data:
    emb, proba = gen.make_badge_inputs(p["n"], p["classes"], p["dim"], SEED)
    return {"embeddings": emb, "proba": proba}


def badge_check(data: Data, params: Params, output: Any) -> dict[str, Any]:
    picks = np.asarray(output, dtype=np.intp).ravel()
    valid = len(set(picks.tolist())) == params["batch"] and bool(
        ((picks >= 0) & (picks < params["n"])).all()
    )
    potential = references.kmeanspp_potential(data["proba"], data["embeddings"], picks)
    return {"valid_batch": valid, "kmeanspp_potential": potential}


def _badge_compare(params: Params, checks: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    ref = checks.get("reference", {}).get("kmeanspp_potential")
    out = []
    for name, facts in checks.items():
        if "valid_batch" in facts:
            out.append(
                {
                    "check": f"{name}: batch of distinct pool indices",
                    "ok": facts["valid_batch"],
                    "detail": "",
                    "required": name == "labelwise",
                }
            )
        if ref and "kmeanspp_potential" in facts and name != "reference":
            ratio = facts["kmeanspp_potential"] / ref
            out.append(
                {
                    "check": f"{name}: k-means++ potential / reference's",
                    "ok": True,
                    "detail": f"{ratio:.3f} (lower covers the pool better; seeds differ)",
                    "required": False,
                }
            )
    return out


BADGE = Case(
    name="badge",
    title="BADGE (k-means++ over gradient embeddings), N pool, C classes, d-dim embeddings",
    sizes={
        "full": {"n": 20_000, "classes": 10, "dim": 256, "batch": 100},
        "quick": {"n": 300, "classes": 4, "dim": 8, "batch": 5},
    },
    make_data=_badge_data,
    impls=(
        Impl(
            "labelwise",
            "ours",
            ours_select("badge", proba="proba", embeddings="embeddings"),
            badge_check,
            "get_strategy('badge').select(...)",
        ),
        Impl(
            "skactiveml",
            "peer",
            peers.skactiveml_badge,
            badge_check,
            "Badge().query(fit_clf=False)",
        ),
        Impl(
            "reference",
            "reference",
            lambda d, p: (
                lambda: references.badge_reference(d["proba"], d["embeddings"], p["batch"])
            ),
            badge_check,
            "the paper's init_centers over explicit (N, C*d) embeddings",
        ),
    ),
    targets=(Target("labelwise", "skactiveml", 100.0), Target("labelwise", "reference", 100.0)),
    max_extra_bytes=lambda p: 10 * MB,
    memory_target_text="at most 10 MB",
    compare=_badge_compare,
)
