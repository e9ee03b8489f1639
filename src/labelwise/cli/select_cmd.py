"""``labelwise select``: choose a batch from a sharded pool, here or on a Dask cluster.

The same command runs in one process (``--workers 0``, the default), on a LocalCluster
(``--workers N``) or on any running Dask scheduler (``--scheduler tcp://host:8786``). The
chosen ids and scores are written to a Parquet file only once the whole selection is done;
with ``--project`` they are also queued in the store for the annotators (the shards' ``id``
column then holds the store's sample ids). numpy, pyarrow and the scale package are imported
when the command runs, not when the command line starts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import typer

from labelwise.cli import app
from labelwise.errors import InvalidInputError

if TYPE_CHECKING:
    import numpy as np
    from rich.console import Console

    from labelwise.scale import ScaleSelection

#: ``labelwise.scale.METHODS``, spelled here so that the help needs no numpy (tests/cli checks).
Method = Literal["exact", "subsample", "two_round", "neighbors"]


@app.command("select")
def select(
    pool: str = typer.Option(..., "--pool", help="Shards: a folder, a glob or an fsspec URL."),
    strategy: str = typer.Option("margin", "--strategy", help="Registered strategy name."),
    batch_size: int = typer.Option(..., "--batch-size", help="How many ids to choose."),
    out: Path = typer.Option(..., "--out", help="Parquet file for the chosen ids and scores."),
    model: Path | None = typer.Option(
        None, "--model", help="A fitted model saved with joblib (else the vectors are inputs)."
    ),
    method: Method | None = typer.Option(
        None, "--method", help="How the pool is searched (default: chosen by the strategy)."
    ),
    sample: int | None = typer.Option(None, "--sample", help="Subsample size for subsample."),
    seed: int = typer.Option(0, "--seed", help="Seed of the strategy's random choices."),
    exclude: Path | None = typer.Option(
        None, "--exclude", help="Parquet or text file of ids never to choose."
    ),
    labeled: Path | None = typer.Option(
        None, "--labeled", help="Parquet or text file of the labeled ids (core-set, neighbors)."
    ),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Dask scheduler address (needs the scale extra)."
    ),
    workers: int = typer.Option(
        0, "--workers", help="Start a LocalCluster of N processes (0: this process)."
    ),
    project: str | None = typer.Option(None, "--project", help="Queue the batch in this project."),
    store: str | None = typer.Option(
        None, "--store", envvar="LABELWISE_STORE", metavar="URL", help="Store URL."
    ),
) -> None:
    """Select a batch from a pool of Parquet shards and write it to the --out file."""
    import numpy as np
    from rich.console import Console

    from labelwise.scale import select_from_shards

    fitted = _load_model(model)
    exclude_ids = _read_ids(exclude)
    if project is not None:
        exclude_ids = np.union1d(exclude_ids, _store_exclusions(store, project))
    console = Console(stderr=True)
    with _dask_client(scheduler, workers) as client:
        if client is not None:
            console.print(f"Dask dashboard: {client.dashboard_link}", highlight=False)
        with _progress_bar(console) as progress:
            result = select_from_shards(
                pool,
                strategy,
                batch_size,
                model=fitted,
                client=client,
                exclude_ids=exclude_ids,
                method=method,
                sample=sample,
                seed=seed,
                labeled_ids=_read_ids(labeled),
                progress=progress,
            )
    _write_selection(result, out)
    summary = f"chose {len(result)} of {result.n_pool:,} items ({result.method}) -> {out}"
    if result.covering_radius is not None:
        summary += f"; covering radius {result.covering_radius:.4g}"
    if project is not None:
        _enqueue(store, project, result)
        summary += f"; queued in project {project!r}"
    typer.echo(summary)


def _load_model(path: Path | None) -> Any:
    if path is None:
        return None
    import joblib

    if not path.exists():
        raise InvalidInputError(f"model file {path} does not exist")
    return joblib.load(path)


def _read_ids(path: Path | None) -> np.ndarray:
    """Ids from a Parquet file (its ``id`` column) or a text file (one id per line)."""
    import numpy as np

    if path is None:
        return np.empty(0, dtype=np.int64)
    if not path.exists():
        raise InvalidInputError(f"id file {path} does not exist")
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path, columns=["id"]).column("id").to_numpy().astype(np.int64)
    return np.loadtxt(path, dtype=np.int64, ndmin=1)


@contextlib.contextmanager
def _dask_client(scheduler: str | None, workers: int) -> Iterator[Any]:
    if scheduler is None and workers <= 0:
        yield None
        return
    try:
        from distributed import Client
    except ImportError:
        raise InvalidInputError("Dask is not installed: pip install 'labelwise[scale]'") from None
    if scheduler is not None:
        with Client(scheduler) as client:
            yield client
        return
    from labelwise.scale.execution import local_cluster

    with local_cluster(workers) as cluster, Client(cluster) as client:
        yield client


@contextlib.contextmanager
def _progress_bar(console: Console) -> Iterator[Any]:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=False) as bar:
        tasks: dict[str, Any] = {}

        def advance(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(f"{stage} shards", total=total)
            bar.update(tasks[stage], completed=done)

        yield advance


def _write_selection(result: ScaleSelection, out: Path) -> None:
    """Write ids, rank and score; to a temporary name first, so no partial file is left."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {"id": result.ids, "rank": np.arange(len(result)), "score": result.scores}
    ).replace_schema_metadata({"labelwise.method": result.method})
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    pq.write_table(table, tmp)
    tmp.replace(out)


def _store_exclusions(url: str | None, project: str) -> np.ndarray:
    """Ids the store says must not be queued: anything not an unlabeled pool sample."""
    import numpy as np

    from labelwise.store import list_samples, open_store

    samples = list_samples(open_store(url), project)
    busy = [s.id for s in samples if s.split != "pool" or s.state != "unlabeled"]
    return np.asarray(busy, dtype=np.int64)


def _enqueue(url: str | None, project: str, result: ScaleSelection) -> None:
    from labelwise.store import enqueue, open_store

    enqueue(open_store(url), project, result.ids.tolist(), result.scores.tolist())
