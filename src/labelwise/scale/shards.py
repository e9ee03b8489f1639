"""A pool as Parquet shards: write them, find them, check their footers, read one.

A shard holds an integer ``id`` column and the pool's vectors: either one fixed-size list column
of float32 (``vector`` by default: features, embeddings, probabilities or flattened MC samples)
or plain numeric columns (one feature each). Floats are written without dictionary encoding
(dictionaries of distinct floats only cost time). Every shard of a pool has the same schema;
:func:`inspect_shards` proves it from the Parquet footers alone, before any score is computed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import ArrayLike, NDArray

from labelwise.errors import InvalidInputError

ID_COLUMN = "id"
VECTOR_COLUMN = "vector"
#: Schema metadata key: the shape of one row's vector when it is more than a flat vector
#: (``[K, C]`` for MC samples stored pool axis first).
SHAPE_KEY = b"labelwise.row_shape"
_GLOB_CHARS = "*?["


class ShardError(InvalidInputError):
    """A shard that cannot be read or does not match the pool's schema; the message names it."""


@dataclass(frozen=True)
class ShardInfo:
    """What a shard's footer says: where it is, how many rows, and the range of its ids."""

    path: str
    n_rows: int
    id_min: int | None
    id_max: int | None


@dataclass(frozen=True)
class VectorLayout:
    """How a pool's rows become a float32 matrix: one list column, or numeric columns."""

    columns: tuple[str, ...]
    width: int
    row_shape: tuple[int, ...]
    is_list: bool


# ---------------------------------------------------------------------------------- writing


def write_shards(
    X: ArrayLike | Iterable[ArrayLike],
    ids: ArrayLike | Iterable[ArrayLike] | None,
    out_dir: str | os.PathLike[str],
    rows_per_shard: int = 100_000,
    *,
    column: str = VECTOR_COLUMN,
    prefix: str = "shard",
) -> list[str]:
    """Write a pool as Parquet shards of ``rows_per_shard`` rows, chunk by chunk.

    Parameters
    ----------
    X : (N, ...) array, or an iterable of such chunks (e.g. a model's ``embed`` over batches)
        Row vectors; rows with more than one axis (MC samples ``(N, K, C)``) are flattened and
        their shape is kept in the schema metadata.
    ids : (N,) integer ids, an iterable of id chunks matching ``X``'s, or None for 0..N-1.
    out_dir : folder to write ``{prefix}-00000.parquet``... into (created if missing).
    rows_per_shard : rows per shard (50k-250k suits a cluster).
    column : name of the fixed-size list<float32> column.

    Returns
    -------
    The paths written, in order. Memory holds at most one shard plus one chunk.

    Examples
    --------
    >>> import tempfile
    >>> paths = write_shards(np.eye(3), None, tempfile.mkdtemp(), rows_per_shard=2)
    >>> len(paths)
    2
    """
    if rows_per_shard < 1:
        raise InvalidInputError(f"rows_per_shard must be at least 1, got {rows_per_shard}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    pending_x: list[NDArray[np.float32]] = []
    pending_ids: list[NDArray[np.int64]] = []
    n_pending = 0
    row_shape: tuple[int, ...] | None = None
    for x_chunk, id_chunk in _paired_chunks(X, ids):
        if row_shape is None:
            row_shape = x_chunk.shape[1:]
        elif x_chunk.shape[1:] != row_shape:
            raise InvalidInputError(f"chunk rows of shape {x_chunk.shape[1:]}, not {row_shape}")
        pending_x.append(x_chunk.reshape(len(x_chunk), -1))
        pending_ids.append(id_chunk)
        n_pending += len(x_chunk)
        while n_pending >= rows_per_shard:
            xs, idx = np.concatenate(pending_x), np.concatenate(pending_ids)
            path = out / f"{prefix}-{len(written):05d}.parquet"
            _write_one(path, xs[:rows_per_shard], idx[:rows_per_shard], column, row_shape)
            written.append(str(path))
            pending_x, pending_ids = [xs[rows_per_shard:]], [idx[rows_per_shard:]]
            n_pending -= rows_per_shard
    if n_pending:
        path = out / f"{prefix}-{len(written):05d}.parquet"
        _write_one(
            path, np.concatenate(pending_x), np.concatenate(pending_ids), column, row_shape or ()
        )
        written.append(str(path))
    return written


def _paired_chunks(
    X: ArrayLike | Iterable[ArrayLike], ids: ArrayLike | Iterable[ArrayLike] | None
) -> Iterator[tuple[NDArray[np.float32], NDArray[np.int64]]]:
    """Pair each chunk of ``X`` with its ids: sliced from one id array, or chunk for chunk."""
    in_memory = (np.ndarray, list, tuple)
    chunks: Iterable[Any] = [X] if isinstance(X, in_memory) else X  # type: ignore[assignment]
    whole = np.asarray(ids) if isinstance(ids, in_memory) else None
    id_chunks: Iterator[Any] | None = None
    if ids is not None and whole is None:
        id_chunks = iter(ids)  # type: ignore[arg-type]
    start = 0
    for raw in chunks:
        x = np.asarray(raw)
        if x.ndim < 2 or x.dtype.kind not in "fiu":
            raise InvalidInputError(f"X chunks must be numeric (n, ...) arrays, got {x.shape}")
        n = len(x)
        if ids is None:
            chunk_ids = np.arange(start, start + n, dtype=np.int64)
        elif whole is not None:
            chunk_ids = whole[start : start + n]
        else:
            assert id_chunks is not None
            chunk_ids = np.asarray(next(id_chunks, np.empty(0, dtype=np.int64)))
        if chunk_ids.shape != (n,) or chunk_ids.dtype.kind not in "iu":
            raise InvalidInputError(f"ids must be {n} integers for a chunk of {n} rows")
        start += n
        yield np.ascontiguousarray(x, dtype=np.float32), chunk_ids.astype(np.int64, copy=False)
    if whole is not None and start != whole.size:
        raise InvalidInputError(f"{whole.size} ids for {start} rows")


def _write_one(
    path: Path,
    x: NDArray[np.float32],
    ids: NDArray[np.int64],
    column: str,
    row_shape: tuple[int, ...],
) -> None:
    width = x.shape[1]
    values = pa.array(np.ascontiguousarray(x).reshape(-1), type=pa.float32())
    vectors = pa.FixedSizeListArray.from_arrays(values, width)
    metadata = {SHAPE_KEY: json.dumps(list(row_shape)).encode()} if len(row_shape) > 1 else None
    table = pa.Table.from_arrays(
        [pa.array(ids, type=pa.int64()), vectors], names=[ID_COLUMN, column]
    ).replace_schema_metadata(metadata)
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp, use_dictionary=False, compression="snappy", write_statistics=True)
    tmp.replace(path)


# ---------------------------------------------------------------------------------- finding


def resolve_shards(shards: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[str]:
    """The shard files of a pool: a folder (its ``*.parquet``), a glob, a list, or fsspec URLs.

    The result is sorted, so every process sees the shards in the same order.
    """
    if isinstance(shards, str | os.PathLike):
        spec = os.fspath(shards)
        if "://" in spec and not spec.startswith("file://"):
            return _resolve_url(spec)
        spec = spec.removeprefix("file://")
        if any(ch in spec for ch in _GLOB_CHARS):
            import glob

            found = sorted(glob.glob(spec))
        elif os.path.isdir(spec):
            found = sorted(str(p) for p in Path(spec).glob("*.parquet"))
        else:
            found = [spec]
    else:
        found = sorted(os.fspath(s) for s in shards)
    if not found:
        raise InvalidInputError(f"no Parquet shards found at {shards!r}")
    return found


def _resolve_url(spec: str) -> list[str]:
    import fsspec

    fs, path = fsspec.core.url_to_fs(spec)
    protocol = spec.split("://", 1)[0]
    if any(ch in path for ch in _GLOB_CHARS):
        paths = fs.glob(path)
    elif fs.isdir(path):
        paths = [p for p in fs.ls(path, detail=False) if str(p).endswith(".parquet")]
    else:
        paths = [path]
    found = sorted(f"{protocol}://{p}" if "://" not in str(p) else str(p) for p in paths)
    if not found:
        raise InvalidInputError(f"no Parquet shards found at {spec!r}")
    return found


def _open(path: str) -> tuple[Any, Any]:
    """(source, filesystem) for pyarrow: local paths directly, URLs through fsspec."""
    if "://" in path and not path.startswith("file://"):
        import fsspec

        fs, inner = fsspec.core.url_to_fs(path)
        return inner, fs
    return path.removeprefix("file://"), None


# ---------------------------------------------------------------------------------- checking


def inspect_shards(
    paths: Sequence[str], column: str = VECTOR_COLUMN
) -> tuple[list[ShardInfo], VectorLayout]:
    """Read every shard's footer; refuse, by name, one that is unreadable or differs in schema.

    Only footers are read (a few KB per shard). With ``column`` absent from the schema, every
    numeric column other than ``id`` is a feature.
    """
    infos: list[ShardInfo] = []
    layout: VectorLayout | None = None
    first_schema: pa.Schema | None = None
    for path in paths:
        try:
            source, fs = _open(path)
            meta = pq.ParquetFile(source, filesystem=fs).metadata
            schema = meta.schema.to_arrow_schema()
        except Exception as exc:
            raise ShardError(f"shard {path} cannot be read as Parquet: {exc}") from exc
        if first_schema is None:
            first_schema = schema
            layout = _layout_of(schema, column, path)
        elif not _same_fields(schema, first_schema):
            raise ShardError(
                f"shard {path} has schema {_describe(schema)} but the pool's first shard "
                f"{paths[0]} has {_describe(first_schema)}"
            )
        infos.append(_info_of(path, meta, schema))
    assert layout is not None
    return infos, layout


def _same_fields(a: pa.Schema, b: pa.Schema) -> bool:
    return [(f.name, f.type) for f in a] == [(f.name, f.type) for f in b]


def _describe(schema: pa.Schema) -> str:
    return "(" + ", ".join(f"{f.name}: {f.type}" for f in schema) + ")"


def _layout_of(schema: pa.Schema, column: str, path: str) -> VectorLayout:
    names = schema.names
    if ID_COLUMN not in names or not pa.types.is_integer(schema.field(ID_COLUMN).type):
        raise ShardError(f"shard {path} needs an integer {ID_COLUMN!r} column, has {names}")
    if column in names:
        kind = schema.field(column).type
        if not (pa.types.is_fixed_size_list(kind) and pa.types.is_floating(kind.value_type)):
            raise ShardError(
                f"shard {path}: column {column!r} must be fixed_size_list<float>, is {kind}"
            )
        width = int(kind.list_size)
        raw = (schema.metadata or {}).get(SHAPE_KEY)
        row_shape = tuple(json.loads(raw)) if raw else (width,)
        return VectorLayout((column,), width, row_shape, True)
    features = tuple(
        f.name
        for f in schema
        if f.name != ID_COLUMN and (pa.types.is_floating(f.type) or pa.types.is_integer(f.type))
    )
    if not features:
        raise ShardError(f"shard {path} has no {column!r} column and no numeric feature columns")
    return VectorLayout(features, len(features), (len(features),), False)


def _info_of(path: str, meta: Any, schema: pa.Schema) -> ShardInfo:
    col = schema.get_field_index(ID_COLUMN)
    lo: int | None = None
    hi: int | None = None
    for g in range(meta.num_row_groups):
        stats = meta.row_group(g).column(col).statistics
        if stats is None or not stats.has_min_max:
            return ShardInfo(path, int(meta.num_rows), None, None)
        lo = int(stats.min) if lo is None else min(lo, int(stats.min))
        hi = int(stats.max) if hi is None else max(hi, int(stats.max))
    return ShardInfo(path, int(meta.num_rows), lo, hi)


# ---------------------------------------------------------------------------------- reading


def read_shard(
    path: str, layout: VectorLayout, *, use_threads: bool = True
) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """The ids and the (n, width) float32 matrix of one shard, reading only those columns.

    Local files are memory-mapped. ``use_threads=False`` decodes on the calling thread only:
    the right choice when shards are already read in parallel (a thread or a Dask worker per
    shard), where pyarrow's own pool would only compete for the same cores.
    """
    try:
        source, fs = _open(path)
        table = pq.read_table(
            source,
            columns=[ID_COLUMN, *layout.columns],
            filesystem=fs,
            memory_map=fs is None,
            use_threads=use_threads,
        )
    except Exception as exc:
        raise ShardError(f"shard {path} cannot be read: {exc}") from exc
    ids = table.column(ID_COLUMN).to_numpy().astype(np.int64, copy=False)
    if layout.is_list:
        vectors = table.column(layout.columns[0]).combine_chunks()
        flat = vectors.flatten().to_numpy(zero_copy_only=False)
        x = flat.astype(np.float32, copy=False).reshape(len(ids), layout.width)
    else:
        x = np.empty((len(ids), layout.width), dtype=np.float32)
        for j, name in enumerate(layout.columns):
            x[:, j] = table.column(name).to_numpy(zero_copy_only=False)
    if len(ids) and not np.isfinite(x).all():
        raise ShardError(f"shard {path} holds NaN or infinite values in {layout.columns}")
    return ids, x
