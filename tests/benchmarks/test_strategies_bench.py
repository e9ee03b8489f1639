"""The speed benchmark harness runs on tiny sizes, and its references and estimators are right."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from benchmarks.data import make_proba, make_repeated_samples, make_samples
from benchmarks.measure import measure_call
from benchmarks.report import END, START, evaluate, update_readme
from benchmarks.run import main, run_in_subprocess
from benchmarks.strategies_bench import CASES

from benchmarks import references


def test_quick_run_of_ours_and_references_passes_every_check(tmp_path: Path) -> None:
    argv = ["--quick", "--in-process", "--roles", "ours,reference", "--repeat", "1"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "strategies.json").read_text())
    assert [c["case"] for c in report["cases"]] == list(CASES)
    for entry in report["cases"]:
        for name, result in entry["results"].items():
            assert result["status"] in ("ok", "unavailable"), (entry["case"], name, result)
            if result["status"] == "ok":
                assert result["best_s"] > 0
                assert result["extra_bytes"] is not None
    assert report["checks"], "no correctness check ran"
    assert all(c["ok"] for c in report["checks"] if c["required"])
    assert report["bandwidth"]["copy_gb_s"] > 0
    assert all(t["met"] is None for t in report["targets"])  # tiny sizes prove nothing


def test_saved_runs_of_one_machine_are_merged_and_rechecked(tmp_path: Path) -> None:
    for name, cases in (("a", "least_confidence"), ("b", "coreset")):
        argv = ["--quick", "--in-process", "--roles", "ours,reference", "--cases", cases]
        assert main([*argv, "--repeat", "1", "--out", str(tmp_path / name)]) == 0
    saved = [str(tmp_path / name / "strategies.json") for name in ("a", "b")]
    assert main(["--render", *saved, "--out", str(tmp_path / "merged")]) == 0
    merged = json.loads((tmp_path / "merged" / "strategies.json").read_text())
    assert [c["case"] for c in merged["cases"]] == ["least_confidence", "coreset"]
    assert any("textbook greedy k-center" in c["check"] for c in merged["checks"])


def test_a_worker_subprocess_reports_its_figures() -> None:
    result = run_in_subprocess("least_confidence", "textbook.score", "quick", 2, 1.0, 120)
    assert result["status"] == "ok", result
    assert result["checks"]["agrees"]
    assert 1 <= len(result["times_s"]) <= 2


def test_a_missing_peer_is_reported_unavailable_not_fatal() -> None:
    from benchmarks.run import work

    case = CASES["entropy"]
    missing = type(case.impls[0])("ghost", "peer", _raise_unavailable)
    CASES["entropy"] = type(case)(**{**case.__dict__, "impls": (*case.impls, missing)})
    try:
        assert work("entropy", "ghost", "quick", 1, 1.0)["status"] == "unavailable"
    finally:
        CASES["entropy"] = case


def _raise_unavailable(data: object, params: object) -> None:
    from benchmarks.case import Unavailable

    raise Unavailable("ghost is not installed")


def test_extra_memory_sees_a_known_allocation() -> None:
    m = measure_call(lambda: np.ones(50_000_000 // 8).sum(), repeat=1)
    assert m.extra_bytes is not None
    assert 45e6 <= m.extra_bytes <= 80e6


def test_missed_target_and_failed_check_are_flagged() -> None:
    ok = {"status": "ok", "checks": {}, "extra_bytes": 0}
    report = {
        "size": "full",
        "cases": [
            {
                "case": "coreset",
                "params": CASES["coreset"].sizes["quick"],
                "results": {
                    "labelwise": ok | {"role": "ours", "best_s": 1.0, "checks": {"picks": [1, 2]}},
                    "skactiveml": ok | {"role": "peer", "best_s": 2.0, "checks": {"picks": [1]}},
                    "textbook": ok | {"role": "reference", "best_s": 1.0, "checks": {"picks": [2]}},
                },
            }
        ],
    }
    evaluate(report, CASES)
    assert report["targets"][0]["ratio"] == pytest.approx(2.0)
    assert report["missed_targets"] == ["coreset: labelwise vs skactiveml"]
    assert any("labelwise picks" in f for f in report["failed_required"])


def test_readme_block_is_replaced_and_the_rest_kept(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\ntext\n\n{START}\nold\n{END}\nafter\n")
    update_readme(readme, "new figures\n")
    text = readme.read_text()
    assert "old" not in text
    assert text.startswith("# Title\n\ntext\n")
    assert f"{START}\nnew figures\n{END}\nafter\n" in text


# -- the references against slower, literal loops --------------------------------------------
def test_textbook_scores_match_loops() -> None:
    proba = make_proba(50, 4, seed=3).astype(np.float64)
    for i, row in enumerate(proba):
        s = sorted(row)
        assert references.textbook_entropy(proba)[i] == pytest.approx(
            -sum(p * np.log(p) for p in row)
        )
        assert references.textbook_margin(proba)[i] == pytest.approx(s[-2] - s[-1])
        assert references.textbook_least_confidence(proba)[i] == pytest.approx(1 - s[-1])


def test_greedy_k_center_matches_a_loop_over_points() -> None:
    rng = np.random.default_rng(1)
    pool, labeled = rng.normal(size=(40, 3)), rng.normal(size=(4, 3))
    centers, expected = list(labeled), []
    for _ in range(6):
        dist = [min(np.linalg.norm(x - c) for c in centers) for x in pool]
        best = int(np.argmax(dist))
        expected.append(best)
        centers.append(pool[best])
    assert references.greedy_k_center(pool, labeled, 6).tolist() == expected


def test_kmeanspp_potential_matches_explicit_gradient_embeddings() -> None:
    rng = np.random.default_rng(2)
    emb = rng.normal(size=(30, 5))
    proba = make_proba(30, 3, seed=4).astype(np.float64)
    g = references.badge_gradient_embeddings(proba, emb)
    chosen = [0, 7, 12]
    expected = sum(min(np.sum((g[i] - g[j]) ** 2) for j in chosen) for i in range(30))
    assert references.kmeanspp_potential(proba, emb, chosen) == pytest.approx(expected)


def test_badge_reference_returns_distinct_indices_starting_at_the_largest_gradient() -> None:
    rng = np.random.default_rng(5)
    emb, proba = rng.normal(size=(60, 4)), make_proba(60, 3, seed=6)
    picks = references.badge_reference(proba, emb, 8, seed=0)
    g = references.badge_gradient_embeddings(proba, emb)
    assert len(set(picks)) == 8
    assert picks[0] == int(np.argmax(np.linalg.norm(g, axis=1)))


def test_plain_bald_matches_a_loop() -> None:
    samples = make_samples(5, 7, 3, seed=1).astype(np.float64)
    for i in range(7):
        p = samples[:, i, :]
        mean = p.mean(axis=0)
        h_mean = -sum(q * np.log(q) for q in mean)
        mean_h = np.mean([-sum(q * np.log(q) for q in row) for row in p])
        assert references.plain_numpy_bald(samples)[i] == pytest.approx(h_mean - mean_h, abs=1e-9)


def _joint_mi_by_enumeration(samples: np.ndarray, batch: list[int]) -> float:
    k_models, _, n_classes = samples.shape
    joint_entropy = 0.0
    for ys in itertools.product(range(n_classes), repeat=len(batch)):
        pairs = list(zip(batch, ys, strict=True))
        p = np.mean([np.prod([samples[k, i, y] for i, y in pairs]) for k in range(k_models)])
        joint_entropy -= p * np.log(p)
    conditional = sum(
        -np.mean([np.sum(samples[k, i] * np.log(samples[k, i])) for k in range(k_models)])
        for i in batch
    )
    return float(joint_entropy - conditional)


def test_joint_mutual_information_exact_path_matches_enumeration() -> None:
    samples = make_samples(4, 10, 3, seed=7).astype(np.float64)
    value, se = references.joint_mutual_information(samples, [1, 4, 8])
    assert se == 0.0
    assert value == pytest.approx(_joint_mi_by_enumeration(samples, [1, 4, 8]), abs=1e-10)


def test_joint_mutual_information_monte_carlo_is_within_its_standard_error() -> None:
    samples = make_samples(4, 10, 3, seed=8).astype(np.float64)
    exact = _joint_mi_by_enumeration(samples, [0, 2, 5, 9])
    value, se = references.joint_mutual_information(samples, [0, 2, 5, 9], 40_000, exact_limit=1)
    assert se > 0
    assert abs(value - exact) <= 4 * se


def test_a_copy_adds_less_information_than_its_original_had() -> None:
    samples = make_repeated_samples(4, 8, 3, repeats=2, seed=9).astype(np.float64)
    alone, _ = references.joint_mutual_information(samples, [1])
    twice, _ = references.joint_mutual_information(samples, [1, 5])  # item 5 is a copy of 1
    assert alone < twice < 2 * alone
