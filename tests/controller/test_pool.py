"""The lazy pool matrix: a slice read by one range of stored ids equals the source's rows, with
samples left out of the snapshot in the range and with rows not stored yet."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from labelwise.controller.features import HashedWordsFeatures
from labelwise.controller.pool import PoolFeatures
from labelwise.store import (
    SampleRecord,
    Store,
    create_project,
    init_store,
    list_samples,
    save_features,
)
from labelwise.store.adding import add_samples
from labelwise.store.samples import SampleSnapshot, sample_snapshot
from tests.store.databases import BACKENDS, fresh_database_url


class CountedHashedWords(HashedWordsFeatures):
    """Hashed words that count the calls that go through the source."""

    calls = 0

    def __call__(self, samples: Sequence[SampleRecord]) -> NDArray[np.float32]:
        self.calls += 1
        return super().__call__(samples)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty store on SQLite, and on PostgreSQL when its test URL is set (the range read
    takes the driver's rows as they come: bytes from one, whatever the other returns)."""
    for url in fresh_database_url(request.param, tmp_path):
        opened = init_store(url)
        yield opened
        opened.close()


def test_slices_read_by_range_equal_the_source(store: Store) -> None:
    create_project(store, "p", ["a", "b"], "text_classification")
    add_samples(store, "p", [{"id": f"s{i}", "text": f"text number {i}"} for i in range(40)])
    source = CountedHashedWords(store, "p")
    samples = list_samples(store, "p")
    ids = [s.id for s in samples]
    stored = np.random.default_rng(0).random((30, 1024), dtype=np.float32)
    save_features(store, "p", ids[:30], stored, source.name)  # the last 10 are computed
    snapshot = [s for k, s in enumerate(samples) if k % 3]  # gaps inside every range
    pool = PoolFeatures(source, snapshot)
    kept = [k for k in range(40) if k % 3]
    computed = source.compute([samples[k] for k in kept if k >= 30])  # not stored by compute
    expected = np.vstack([stored[[k for k in kept if k < 30]], computed])
    np.testing.assert_array_equal(pool[15:26], expected[15:26])  # missing rows: via the source
    assert source.calls == 1
    for a, b in [(0, 5), (3, 19), (0, 19), (15, 26), (0, len(snapshot))]:
        np.testing.assert_array_equal(pool[a:b], expected[a:b])
        assert pool[a:b].flags.writeable
    np.testing.assert_array_equal(np.asarray(pool), expected)
    assert source.calls == 1  # every slice since: one range read, not the source
    np.testing.assert_array_equal(pool[np.array([4, 0, 25])], expected[[4, 0, 25]])
    assert pool.shape == (26, 1024)


def test_a_snapshot_of_ids_gives_the_rows_of_its_records(store: Store) -> None:
    """Over a lean snapshot (ids and states only) the matrix equals the one over the records:
    slices by range, positions and rows not stored yet (read back as records for the source)."""
    create_project(store, "p", ["a", "b"], "text_classification")
    add_samples(store, "p", [{"id": f"s{i}", "text": f"text number {i}"} for i in range(50)])
    source = CountedHashedWords(store, "p")
    samples = list_samples(store, "p")
    rng = np.random.default_rng(2)
    stored = rng.random((35, 1024), dtype=np.float32)
    save_features(store, "p", [s.id for s in samples[:35]], stored, source.name)
    keep = np.sort(rng.choice(50, size=30, replace=False))
    snapshot = sample_snapshot(store, "p")
    snapshot = SampleSnapshot(store, snapshot.ids[keep], snapshot.states[keep])
    lean = PoolFeatures(source, snapshot)
    full = PoolFeatures(HashedWordsFeatures(store, "p"), [samples[k] for k in keep])
    assert lean.shape == full.shape == (30, 1024)
    np.testing.assert_array_equal(np.asarray(lean), np.asarray(full))
    for _ in range(10):
        a, b = sorted(rng.integers(0, 31, size=2).tolist())
        np.testing.assert_array_equal(lean[a:b], full[a:b])
        positions = rng.integers(0, 30, size=7)
        np.testing.assert_array_equal(lean[positions], full[positions])
    np.testing.assert_array_equal(lean[keep % 2 == 0], full[keep % 2 == 0])
