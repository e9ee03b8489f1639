"""The engine tells a learning strategy which of its picks came back labeled, and how."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression

from labelwise.loop import RoundEngine
from labelwise.models import SklearnModel
from labelwise.strategies import PoolInputs, Selection, Strategy
from labelwise.strategies.auto import LearnsFromLabels


class Recorder(Strategy):
    """Picks the first open items and records every ``update`` (not registered)."""

    name: ClassVar[str] = "recorder"
    needs = frozenset({"proba"})

    def __init__(self) -> None:
        self.calls: list[tuple[list[int], list[int]]] = []
        self.last_choice: str | None = "first"

    def _select(
        self,
        inputs: PoolInputs,
        batch_size: int,
        rng: np.random.Generator,
        exclude: NDArray[np.bool_],
    ) -> Selection:
        idx = np.flatnonzero(~exclude)[:batch_size]
        return Selection(idx.astype(np.intp), np.zeros(idx.size))

    def update(self, returned: NDArray[np.intp], label_columns: NDArray[np.intp]) -> None:
        self.calls.append((returned.tolist(), label_columns.tolist()))


def test_update_names_the_returned_picks_and_their_label_columns() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    y = np.array(["a", "b"] * 15)
    strategy = Recorder()
    assert isinstance(strategy, LearnsFromLabels)
    engine = RoundEngine(SklearnModel(LogisticRegression()), strategy)
    engine.fit(X[:6], y[:6])
    pool = X[6:]
    result = engine.select(pool, 4, rng)
    assert result.strategy == "recorder:first"
    picked = 6 + result.indices  # rows 6..9 of X
    # two of the four come back (in another order), one with a class the model never saw,
    # and a row that was never picked is labeled too
    X_new = np.vstack([X[:6], X[[picked[2], 20, picked[0]]]])
    y_new = np.concatenate([y[:6], ["c", "a", "b"]])
    engine.fit(X_new, y_new)
    assert strategy.calls == [([0, 2], [1, -1])]  # "b" is column 1 of ["a", "b"]; "c" unknown
    engine.fit(X_new, y_new)  # nothing picked since: no second call
    assert len(strategy.calls) == 1


def test_plain_strategies_are_not_tracked() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20, 2))
    y = np.arange(20) % 2
    engine = RoundEngine(SklearnModel(LogisticRegression()), "margin")
    engine.fit(X[:4], y[:4])
    result = engine.select(X[4:], 3, rng)
    assert result.strategy == "margin"
    assert engine._picked is None


def test_sparse_rows_are_recognised_by_their_stored_entries() -> None:
    import scipy.sparse as sp

    # a million columns (densified, 8 MB a row): keys come from the stored entries
    X = sp.random(30, 10**6, density=2e-5, format="csr", random_state=1) + sp.eye(
        30, 10**6, format="csr"
    )
    y = np.array(["a", "b"] * 15)
    strategy = Recorder()
    engine = RoundEngine(SklearnModel(LogisticRegression()), strategy)
    engine.fit(X[:6], y[:6])
    result = engine.select(X[6:], 3, 0)
    picked = 6 + result.indices
    rows = [picked[1], 25]  # one pick, and a row never picked
    engine.fit(sp.vstack([X[:6], X[rows].tocoo()]).tocsr(), np.concatenate([y[:6], ["a", "b"]]))
    assert strategy.calls == [([1], [0])]
