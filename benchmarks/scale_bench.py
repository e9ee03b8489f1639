"""Selection at scale (issue 9): streaming vs Dask vs load-everything, peak memory, k-center.

    python -m benchmarks.scale_bench                       # 10M items, 100 shards, 2M k-center
    python -m benchmarks.scale_bench --items 1000000 --kcenter-items 200000   # a quick check

Shards are generated once into ``--cache`` (default ``~/.cache/labelwise-scale-bench``):
probabilities (10 classes) for entropy, 64 float32 features for margin through a
LogisticRegression fitted on 2,000 rows. Each figure is one run; peak memory is the largest sum
of the RSS of this process and all its children (Dask workers included), sampled every 20 ms.
Results go to ``benchmarks/results/scale.json`` (``--out``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psutil
from sklearn.linear_model import LogisticRegression

from labelwise.models.sklearn import SklearnModel
from labelwise.scale import inspect_shards, read_shard, resolve_shards, select_from_shards
from labelwise.scale.kcenter import min_sq_distances
from labelwise.scale.shards import write_shards
from labelwise.strategies import coreset, entropy, margin, top_k

N_CLASSES = 10
N_FEATURES = 64
TOP = 1_000
CHUNK = 250_000


class PeakRSS:
    """Largest total RSS of this process tree while the block runs (sampled)."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval, self.peak, self._stop = interval, 0, threading.Event()

    def _total(self) -> int:
        me = psutil.Process()
        total = 0
        for proc in [me, *me.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._total())
            time.sleep(self.interval)

    def __enter__(self) -> PeakRSS:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._total())


def measure(fn: Callable[[], Any]) -> dict[str, Any]:
    with PeakRSS() as rss:
        start = time.perf_counter()
        out = fn()
        seconds = time.perf_counter() - start
    return {"seconds": round(seconds, 3), "peak_rss_mb": round(rss.peak / 2**20, 1), "out": out}


def proba_chunks(n: int, seed: int) -> Iterator[np.ndarray]:
    rng = np.random.default_rng(seed)
    for start in range(0, n, CHUNK):
        m = min(CHUNK, n - start)
        yield rng.dirichlet(np.full(N_CLASSES, 0.3), size=m).astype(np.float32)


def feature_chunks(n: int, seed: int, centres: np.ndarray) -> Iterator[np.ndarray]:
    rng = np.random.default_rng(seed)
    for start in range(0, n, CHUNK):
        m = min(CHUNK, n - start)
        labels = rng.integers(len(centres), size=m)
        yield (centres[labels] + rng.normal(size=(m, N_FEATURES))).astype(np.float32)


def ensure_shards(folder: Path, make: Callable[[], Iterator[np.ndarray]], rows: int) -> Path:
    if not (folder / "DONE").exists():
        for old in folder.glob("*.parquet"):
            old.unlink()
        write_shards(make(), None, folder, rows_per_shard=rows)
        (folder / "DONE").write_text("ok")
    return folder


def load_everything(folder: Path, score: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """The plain way: read every shard into one array, score it, take the top."""
    paths = resolve_shards(folder)
    infos, layout = inspect_shards(paths)
    x = np.empty((sum(i.n_rows for i in infos), layout.width), dtype=np.float32)
    ids = np.empty(x.shape[0], dtype=np.int64)
    at = 0
    for path in paths:
        i, rows = read_shard(path, layout)
        x[at : at + len(i)], ids[at : at + len(i)] = rows, i
        at += len(i)
    return ids[top_k(score(x), TOP)]


def scoring_cases(args: argparse.Namespace, cache: Path) -> dict[str, Any]:
    rows = max(1, args.items // args.shards)
    proba_dir = ensure_shards(
        cache / f"proba-{args.items}-{args.shards}", lambda: proba_chunks(args.items, 1), rows
    )
    centres = np.random.default_rng(0).normal(scale=2.0, size=(N_CLASSES, N_FEATURES))
    feat_dir = ensure_shards(
        cache / f"features-{args.items}-{args.shards}",
        lambda: feature_chunks(args.items, 2, centres),
        rows,
    )
    train = next(feature_chunks(2_000, 3, centres))
    labels = np.argmin(((train[:, None] - centres[None]) ** 2).sum(-1), axis=1)
    model = SklearnModel(LogisticRegression(max_iter=300)).fit(train, labels)

    results: dict[str, Any] = {}
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster,
        Client(cluster) as client,
    ):
        client.run(__import__, "labelwise.scale.tasks")
        for case, folder, mdl, score in [
            ("entropy", proba_dir, None, entropy),
            ("margin", feat_dir, model, lambda x: margin(model.predict_proba(x))),
        ]:
            stream = measure(lambda f=folder, c=case, m=mdl: select_from_shards(f, c, TOP, model=m))
            dask = measure(
                lambda f=folder, c=case, m=mdl: select_from_shards(
                    f, c, TOP, model=m, client=client
                )
            )
            whole = measure(lambda f=folder, s=score: load_everything(f, s))
            same = bool(np.array_equal(stream["out"].ids, dask["out"].ids))
            same_whole = bool(np.array_equal(np.sort(stream["out"].ids), np.sort(whole["out"])))
            for m in (stream, dask, whole):
                m.pop("out")
            results[case] = {
                "stream": stream,
                "dask_2_workers": dask,
                "load_everything": whole,
                "dask_over_stream": round(dask["seconds"] / stream["seconds"], 3),
                "stream_over_load_everything": round(stream["seconds"] / whole["seconds"], 3),
                "dask_equals_stream": same,
                "stream_equals_load_everything": same_whole,
                "per_shard_seconds_one_core": round(stream["seconds"] * 2 / args.shards, 4),
            }
            print(case, json.dumps(results[case]), flush=True)
    return results


def kcenter_cases(args: argparse.Namespace, cache: Path) -> dict[str, Any]:
    n, k = args.kcenter_items, args.centers
    centres = np.random.default_rng(5).normal(scale=3.0, size=(50, N_FEATURES))
    folder = ensure_shards(
        cache / f"kcenter-{n}", lambda: feature_chunks(n, 6, centres), max(1, n // 20)
    )
    paths = resolve_shards(folder)
    _, layout = inspect_shards(paths)
    held = {"x": np.concatenate([read_shard(p, layout)[1] for p in paths])}
    labeled_ids = np.arange(100)  # the first 100 rows play the labeled set

    def full() -> float:
        x = held["x"]
        picks = coreset(x[100:], x[:100], k)
        centers = np.concatenate([x[:100], x[100:][picks]])
        return float(np.sqrt(min_sq_distances(x[100:], centers).max()))

    out: dict[str, Any] = {"items": n, "centers": k}
    timed = measure(full)
    out["full_greedy"] = {"seconds": timed["seconds"], "radius": timed["out"]}
    del held["x"]
    for method in ("subsample", "two_round"):
        timed = measure(
            lambda m=method: select_from_shards(
                folder, "coreset", k, labeled_ids=labeled_ids, method=m, sample=args.sample
            )
        )
        sel = timed["out"]
        out[method] = {
            "seconds": timed["seconds"],
            "radius": sel.covering_radius,
            "radius_over_full": round(sel.covering_radius / out["full_greedy"]["radius"], 3),
            "considered": sel.n_considered,
        }
    print("kcenter", json.dumps(out), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=10_000_000)
    parser.add_argument("--shards", type=int, default=100)
    parser.add_argument("--kcenter-items", type=int, default=2_000_000)
    parser.add_argument("--centers", type=int, default=1_000)
    parser.add_argument("--sample", type=int, default=200_000)
    parser.add_argument("--skip", choices=["scoring", "kcenter"], action="append", default=[])
    parser.add_argument(
        "--cache", type=Path, default=Path.home() / ".cache" / "labelwise-scale-bench"
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/scale.json"))
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "items": args.items,
        "shards": args.shards,
    }
    if "scoring" not in args.skip:
        report["scoring"] = scoring_cases(args, args.cache)
    if "kcenter" not in args.skip:
        report["kcenter"] = kcenter_cases(args, args.cache)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
