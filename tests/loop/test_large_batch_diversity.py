"""Large batches of a pure uncertainty strategy are spread over the pool by default: top-k
filtered by k-means over the most uncertain items, with ``diversity="off"`` for plain top-k."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from labelwise.errors import InvalidInputError
from labelwise.loop import RoundEngine
from labelwise.loop.diversity import DIVERSE_MIN_BATCH, diverse_top_k, diversifies
from labelwise.models import SklearnModel
from labelwise.strategies import get_strategy


def _duplicated_pool() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two classes; the decision boundary's most uncertain region is one point copied 80
    times, so plain top-k fills a batch with copies of it."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 2)) * 2.0
    X[:80] = [0.0, 0.01]  # 80 copies of one point on the boundary x0 = 0
    y = (X[:, 0] > 0).astype(int)
    labeled = np.r_[np.flatnonzero(y == 0)[-10:], np.flatnonzero(y == 1)[-10:]]
    return X, y, labeled


def _engine(diversity: str) -> RoundEngine:
    model = SklearnModel(LogisticRegression(), classes=[0, 1])
    return RoundEngine(model, "entropy", diversity=diversity)  # type: ignore[arg-type]


def _picks(diversity: str, batch_size: int) -> np.ndarray:
    X, y, labeled = _duplicated_pool()
    engine = _engine(diversity)
    engine.fit(X[labeled], y[labeled])
    return engine.select(X, batch_size, 0, exclude=labeled).indices


def test_a_large_uncertainty_batch_is_spread_by_default_and_plain_when_turned_off() -> None:
    plain = _picks("off", DIVERSE_MIN_BATCH)
    spread = _picks("auto", DIVERSE_MIN_BATCH)
    assert np.sum(plain < 80) >= 0.6 * DIVERSE_MIN_BATCH  # top-k: mostly copies of one point
    assert np.sum(spread < 80) <= 2  # one cluster holds the copies; one pick from it
    assert len(set(spread)) == DIVERSE_MIN_BATCH
    _, _, labeled = _duplicated_pool()
    assert not set(spread) & set(labeled)


def test_small_batches_keep_plain_top_k_unless_diversity_is_on() -> None:
    assert np.array_equal(_picks("auto", 10), _picks("off", 10))
    assert np.sum(_picks("on", 10) < 80) <= 2


def test_the_same_seed_gives_the_same_diverse_batch() -> None:
    assert np.array_equal(_picks("auto", 60), _picks("auto", 60))


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [("entropy", True), ("margin", True), ("bald", True), ("batchbald", False), ("badge", False)],
)
def test_only_pure_uncertainty_scores_are_diversified(strategy: str, expected: bool) -> None:
    chosen = get_strategy(strategy)
    assert diversifies(chosen, 50, "auto", can_embed=True) is expected
    assert diversifies(chosen, 50, "auto", can_embed=False) is False
    assert diversifies(chosen, 50, "off", can_embed=True) is False


def test_diverse_top_k_returns_the_shortlist_when_it_is_no_larger_than_the_batch() -> None:
    scores = np.arange(6, dtype=float)
    exclude = np.array([False, False, False, True, True, True])
    rng = np.random.default_rng(0)
    picked = diverse_top_k(scores, lambda rows: np.zeros((len(rows), 2)), 3, exclude, rng)
    assert sorted(picked.tolist()) == [0, 1, 2]


def test_an_unknown_diversity_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="diversity"):
        _engine("sometimes")
