"""select_from_shards in one process: exact top-k, exclusion, models, k-center methods."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from labelwise.errors import BatchSizeError, InvalidInputError
from labelwise.models.sklearn import SklearnModel
from labelwise.scale import ShardError, select_from_shards, write_shards
from labelwise.strategies import bald, coreset, entropy, get_strategy, margin, top_k
from labelwise.strategies.coreset import k_center_greedy

SCORING = ["entropy", "margin", "least_confidence", "ratio"]


def reference(ids: np.ndarray, scores: np.ndarray, k: int, excluded=()) -> list[int]:
    """Sort (score desc, id asc) over every non-excluded item, the whole pool at once."""
    keep = ~np.isin(ids, np.array(sorted(excluded), dtype=np.int64))
    order = np.lexsort((ids[keep], -np.asarray(scores, dtype=np.float64)[keep]))
    return ids[keep][order[:k]].tolist()


@pytest.mark.parametrize("name", SCORING)
def test_streamed_top_k_equals_sorting_the_whole_pool(proba_pool, name: str) -> None:
    folder, ids, proba = proba_pool
    got = select_from_shards(folder, name, 100, n_threads=2)
    scores = get_strategy(name).score_fn(proba)  # type: ignore[attr-defined]
    assert got.ids.tolist() == reference(ids, scores, 100)
    assert got.method == "exact" and got.n_pool == len(ids) and got.n_considered == len(ids)
    np.testing.assert_allclose(got.scores, np.sort(scores)[::-1][:100])


def test_ties_are_broken_by_id_across_shards(proba_pool) -> None:
    folder, ids, proba = proba_pool
    got = select_from_shards(folder, "entropy", 100)
    uniform = np.isclose(proba, 0.2).all(axis=1)
    assert got.ids.tolist() == np.sort(ids[uniform])[:100].tolist()


def test_excluded_and_labeled_ids_are_never_chosen(proba_pool) -> None:
    folder, ids, proba = proba_pool
    first = select_from_shards(folder, "margin", 50)
    excluded = set(first.ids[:25].tolist()) | {int(ids[0])}
    got = select_from_shards(
        folder, "margin", 50, exclude_ids=np.array(sorted(excluded)), labeled_ids=first.ids[25:30]
    )
    assert not set(got.ids.tolist()) & (excluded | set(first.ids[25:30].tolist()))
    expected = reference(ids, margin(proba), 50, excluded | set(first.ids[25:30].tolist()))
    assert got.ids.tolist() == expected


def test_a_model_scores_the_features(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6000, 6)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int) + (x[:, 2] > 1).astype(int)
    model = SklearnModel(LogisticRegression(max_iter=500)).fit(x[:500], y[:500])
    write_shards(x, None, tmp_path, rows_per_shard=1000)
    got = select_from_shards(tmp_path, "margin", 40, model=model)
    assert got.ids.tolist() == top_k(margin(model.predict_proba(x)), 40).tolist()


def test_bald_reads_stored_samples(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    samples = rng.dirichlet(np.ones(4), size=(8, 3000)).astype(np.float32)  # (K, N, C)
    write_shards(samples.transpose(1, 0, 2), None, tmp_path, rows_per_shard=700)
    got = select_from_shards(tmp_path, "bald", 30)
    assert got.ids.tolist() == top_k(bald(samples), 30).tolist()


def test_a_batch_larger_than_the_pool_is_refused(tmp_path: Path) -> None:
    write_shards(np.full((10, 2), 0.5), None, tmp_path)
    with pytest.raises(BatchSizeError):
        select_from_shards(tmp_path, "entropy", 8, exclude_ids=np.arange(5))


def test_a_bad_shard_is_refused_by_name_before_any_work(tmp_path: Path) -> None:
    write_shards(np.full((30, 2), 0.5), None, tmp_path, rows_per_shard=10)
    (tmp_path / "shard-00002.parquet").write_bytes(b"\x00" * 64)
    with pytest.raises(ShardError, match=r"shard-00002\.parquet"):
        select_from_shards(tmp_path, "entropy", 5)


def test_an_unknown_method_or_a_two_round_scoring_strategy_is_refused(proba_pool) -> None:
    folder, _, _ = proba_pool
    with pytest.raises(InvalidInputError, match="method must be"):
        select_from_shards(folder, "entropy", 5, method="fast")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="needs strategy 'coreset'"):
        select_from_shards(folder, "entropy", 5, method="two_round")


def brute_radius(x: np.ndarray, centers: np.ndarray) -> float:
    d2 = ((x[:, None, :].astype(np.float64) - centers[None]) ** 2).sum(-1)
    return float(np.sqrt(d2.min(axis=1).max()))


def test_exact_coreset_equals_the_in_memory_coreset_and_reports_the_radius(embedding_pool):
    folder, ids, x = embedding_pool
    labeled = ids[:20]
    got = select_from_shards(folder, "coreset", 30, labeled_ids=labeled, method="exact")
    rest = ~np.isin(ids, labeled)
    expected = coreset(x[rest], x[:20], 30)
    assert got.ids.tolist() == ids[rest][expected].tolist()
    centers = np.concatenate([x[:20], x[rest][expected]]).astype(np.float64)
    assert got.covering_radius == pytest.approx(brute_radius(x[rest], centers), rel=1e-6)


#: Greedy is a 2-approximation and two-round a 4-approximation of the optimal radius, so
#: two-round is within 4x of full greedy's radius (greedy >= optimal); the subsample has no
#: guarantee over the full pool, so we hold it to the same stated factor on this clustered pool.
RADIUS_FACTOR = 4.0


@pytest.mark.parametrize("method", ["subsample", "two_round", "neighbors"])
def test_scalable_k_center_radius_is_within_a_factor_of_full_greedy(embedding_pool, method):
    folder, ids, _x = embedding_pool
    labeled = ids[:20]
    full = select_from_shards(folder, "coreset", 50, labeled_ids=labeled, method="exact")
    got = select_from_shards(
        folder,
        "coreset",
        50,
        labeled_ids=labeled,
        method=method,
        sample=4000,
        n_neighbors=200,
        knn_index="exact",
    )
    assert len(set(got.ids.tolist())) == 50 and not set(got.ids.tolist()) & set(labeled.tolist())
    assert got.covering_radius is not None and full.covering_radius is not None
    assert got.covering_radius <= RADIUS_FACTOR * full.covering_radius
    assert got.covering_radius >= full.covering_radius / 2.0 - 1e-9  # no method beats OPT
    if method == "subsample":
        assert got.n_considered <= 4000 and got.sample_radius is not None
        assert got.sample_radius <= got.covering_radius + 1e-9


def test_two_round_equals_a_literal_two_round_loop(embedding_pool) -> None:
    folder, ids, x = embedding_pool
    got = select_from_shards(folder, "coreset", 10, labeled_ids=ids[:5], method="two_round")
    union = []
    for s in range(8):
        rows = np.arange(s * 2500, (s + 1) * 2500)
        rows = rows[~np.isin(ids[rows], ids[:5])]
        rng = np.random.default_rng([0, s])
        picks, _ = k_center_greedy(x[rows], x[:5], 10, rng, np.zeros(rows.size, dtype=bool))
        union.extend(rows[picks].tolist())
    union = np.array(sorted(union, key=lambda r: ids[r]))
    picks, _ = k_center_greedy(
        x[union], x[:5], 10, np.random.default_rng([0, 1]), np.zeros(union.size, dtype=bool)
    )
    assert got.ids.tolist() == ids[union[picks]].tolist()


def test_neighbors_scores_only_the_labeled_sets_neighbours(proba_pool) -> None:
    folder, ids, proba = proba_pool
    labeled = ids[:3]
    got = select_from_shards(
        folder,
        "entropy",
        10,
        labeled_ids=labeled,
        method="neighbors",
        n_neighbors=50,
        knn_index="exact",
    )
    rest = ~np.isin(ids, labeled)
    d2 = ((proba[rest][:, None, :] - proba[:3][None]) ** 2).sum(-1)
    cand = set()
    for j in range(3):
        order = np.lexsort((ids[rest], d2[:, j]))[:50]
        cand |= set(ids[rest][order].tolist())
    mask = np.isin(ids, list(cand))
    assert got.ids.tolist() == reference(ids[mask], entropy(proba[mask]), 10)
    assert got.n_considered == len(cand) and got.knn_index == "exact"
