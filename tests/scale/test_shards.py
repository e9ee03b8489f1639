"""Writing, finding, checking and reading Parquet shards."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from labelwise.errors import InvalidInputError
from labelwise.scale import ShardError, inspect_shards, read_shard, resolve_shards, write_shards


def test_write_then_read_round_trips_ids_and_vectors(tmp_path: Path) -> None:
    x = np.arange(70, dtype=np.float32).reshape(35, 2)
    ids = np.arange(35) * 10
    paths = write_shards(x, ids, tmp_path, rows_per_shard=10)
    assert len(paths) == 4
    infos, layout = inspect_shards(paths)
    assert [i.n_rows for i in infos] == [10, 10, 10, 5]
    assert (infos[1].id_min, infos[1].id_max) == (100, 190)
    back = [read_shard(p, layout) for p in paths]
    np.testing.assert_array_equal(np.concatenate([b[0] for b in back]), ids)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in back]), x)


def test_chunks_from_an_iterator_are_regrouped_into_full_shards(tmp_path: Path) -> None:
    chunks = (np.full((7, 3), i, dtype=np.float64) for i in range(5))  # 35 rows, chunks of 7
    paths = write_shards(chunks, None, tmp_path, rows_per_shard=10)
    infos, layout = inspect_shards(paths)
    assert [i.n_rows for i in infos] == [10, 10, 10, 5]
    ids, x = read_shard(paths[1], layout)
    np.testing.assert_array_equal(ids, np.arange(10, 20))
    assert x.dtype == np.float32 and x[0, 0] == 1.0 and x[-1, 0] == 2.0


def test_floats_are_written_without_dictionary_encoding(tmp_path: Path) -> None:
    (path,) = write_shards(np.random.default_rng(0).random((50, 4)), None, tmp_path)
    column = pq.ParquetFile(path).metadata.row_group(0).column(1)
    assert "PLAIN_DICTIONARY" not in column.encodings and "RLE_DICTIONARY" not in column.encodings
    assert pq.read_schema(path).field("vector").type == pa.list_(pa.float32(), 4)


def test_rows_of_samples_keep_their_shape(tmp_path: Path) -> None:
    samples = np.random.default_rng(0).dirichlet(np.ones(3), size=(6, 4))  # (N, K, C)
    paths = write_shards(samples, None, tmp_path)
    _, layout = inspect_shards(paths)
    assert layout.row_shape == (4, 3) and layout.width == 12


def test_numeric_columns_are_features_when_there_is_no_vector_column(tmp_path: Path) -> None:
    table = pa.table({"id": [3, 4], "a": [1.0, 2.0], "b": [5, 6]})
    pq.write_table(table, tmp_path / "p.parquet")
    infos, layout = inspect_shards([str(tmp_path / "p.parquet")])
    _ids, x = read_shard(infos[0].path, layout)
    assert layout.columns == ("a", "b")
    np.testing.assert_array_equal(x, [[1, 5], [2, 6]])


def test_a_folder_and_a_glob_resolve_to_sorted_shards(tmp_path: Path) -> None:
    paths = write_shards(np.ones((30, 2)), None, tmp_path, rows_per_shard=10)
    assert resolve_shards(tmp_path) == paths
    assert resolve_shards(str(tmp_path / "shard-*.parquet")) == paths
    assert resolve_shards(f"file://{tmp_path}") == paths
    with pytest.raises(InvalidInputError, match="no Parquet shards"):
        resolve_shards(str(tmp_path / "nothing-*.parquet"))


def test_a_corrupt_shard_is_named(tmp_path: Path) -> None:
    paths = write_shards(np.ones((30, 2)), None, tmp_path, rows_per_shard=10)
    Path(paths[1]).write_bytes(b"not parquet at all")
    with pytest.raises(ShardError, match=r"shard-00001\.parquet"):
        inspect_shards(paths)


def test_a_shard_of_another_schema_is_named(tmp_path: Path) -> None:
    paths = write_shards(np.ones((20, 2)), None, tmp_path, rows_per_shard=10)
    paths += write_shards(np.ones((10, 3)), None, tmp_path, prefix="other")
    with pytest.raises(ShardError, match=r"other-00000.parquet has schema .*list<.*3\]"):
        inspect_shards(paths)


def test_a_shard_without_ids_is_refused(tmp_path: Path) -> None:
    pq.write_table(pa.table({"x": [1.0]}), tmp_path / "a.parquet")
    with pytest.raises(ShardError, match="integer 'id' column"):
        inspect_shards([str(tmp_path / "a.parquet")])


def test_nan_in_a_shard_is_named_when_read(tmp_path: Path) -> None:
    x = np.ones((5, 2))
    x[2, 1] = np.nan
    (path,) = write_shards(x, None, tmp_path)
    _, layout = inspect_shards([path])
    with pytest.raises(ShardError, match="NaN"):
        read_shard(path, layout)


def test_ids_must_match_the_rows(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="ids"):
        write_shards(np.ones((5, 2)), np.arange(4), tmp_path)


def test_reading_on_the_calling_thread_only_gives_the_same_rows(tmp_path: Path) -> None:
    x = np.random.default_rng(2).random((500, 3)).astype(np.float32)
    (path,) = write_shards(x, np.arange(500) * 2, tmp_path, rows_per_shard=500)
    _, layout = inspect_shards([path])
    ids, rows = read_shard(path, layout, use_threads=False)
    np.testing.assert_array_equal(ids, np.arange(500) * 2)
    np.testing.assert_array_equal(rows, x)
