"""Selection at scale (issue 9): streaming vs Dask vs load-everything, peak memory, k-center.

    python -m benchmarks.scale_bench --items 10000000 --shards 100 \\
        --kcenter-items 2000000 --centers 1000 --sample 200000     # the issue's sizes
    python -m benchmarks.scale_bench --items 1000000 --shards 10 --skip kcenter   # 1M items

Shards are generated into ``--cache`` (kept for the next run), or else into a fresh folder
under the system's temporary directory that is deleted at the end: probabilities (10 classes)
for entropy, 64 float32 features for margin through a LogisticRegression fitted on 2,000 rows.

Every measured path runs in a fresh process of its own (``--child``), after one untimed warm-up
round on two shards, so that no path inherits another's memory. Peak memory is the sum over
the processes of the path of each one's peak resident set (``VmHWM`` of ``/proc/<pid>/status``),
reset by writing ``5`` to ``/proc/self/clear_refs`` just before the measured round: the one
process of the stream and load-everything paths; for Dask the client process (which also runs
the scheduler and the nannies of a ``LocalCluster``) plus the two worker processes. CPU
seconds are the user + system time of those processes during the round; the per-shard cost
for "what 100M items would cost" is the Dask round's CPU seconds over the shards.

Results go to ``benchmarks/results/scale.json`` (``--out``) and a table to
``benchmarks/results/scale.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

N_CLASSES = 10
N_FEATURES = 64
TOP = 1_000
CHUNK = 250_000
PATHS = ("stream", "dask", "load_everything")


# ------------------------------------------------------------------------- peak memory


def reset_peak() -> bool:
    """Reset this process's peak resident set (VmHWM) to its current size; False if refused."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def peak_mb() -> float:
    """This process's peak resident set since start or the last :func:`reset_peak`, in MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def cpu_seconds() -> float:
    """User + system CPU seconds of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# ------------------------------------------------------------------------- the pools


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
    from labelwise.scale.shards import write_shards

    if not (folder / "DONE").exists():
        for old in folder.glob("*.parquet"):
            old.unlink()
        write_shards(make(), None, folder, rows_per_shard=rows)
        (folder / "DONE").write_text("ok")
    return folder


def fitted_model(path: Path) -> Path:
    """A LogisticRegression over the 64 features, pickled to ``path`` for the children."""
    from sklearn.linear_model import LogisticRegression

    from labelwise.models.sklearn import SklearnModel

    centres = feature_centres()
    train = next(feature_chunks(2_000, 3, centres))
    labels = np.argmin(((train[:, None] - centres[None]) ** 2).sum(-1), axis=1)
    model = SklearnModel(LogisticRegression(max_iter=300)).fit(train, labels)
    path.write_bytes(pickle.dumps(model))
    return path


def feature_centres() -> np.ndarray:
    return np.random.default_rng(0).normal(scale=2.0, size=(N_CLASSES, N_FEATURES))


# ------------------------------------------------------------------------- one measured path


def load_everything(shards: str | list[str], strategy: str, model: Any) -> np.ndarray:
    """The plain way: read every shard into one array, score it all, take the top."""
    from labelwise.scale import inspect_shards, read_shard, resolve_shards
    from labelwise.strategies import get_strategy, top_k

    paths = resolve_shards(shards)
    infos, layout = inspect_shards(paths)
    x = np.empty((sum(i.n_rows for i in infos), layout.width), dtype=np.float32)
    ids = np.empty(x.shape[0], dtype=np.int64)
    at = 0
    for path in paths:
        i, rows = read_shard(path, layout)
        x[at : at + len(i)], ids[at : at + len(i)] = rows, i
        at += len(i)
    proba = x if model is None else model.predict_proba(x)
    scores = get_strategy(strategy).score_fn(proba)  # type: ignore[attr-defined]
    return ids[top_k(scores, TOP)]


def run_child(argv: list[str]) -> None:
    """Measure one path in this fresh process; write its figures as JSON to ``--result``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--path", choices=PATHS, required=True)
    parser.add_argument("--folder", required=True)
    parser.add_argument("--strategy", required=True)
    parser.add_argument("--model")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--result", type=Path, required=True)
    args = parser.parse_args(argv)

    from labelwise.scale import resolve_shards, select_from_shards

    model = None if args.model is None else pickle.loads(Path(args.model).read_bytes())
    warm_up = resolve_shards(args.folder)[:2]

    def select(where: str | list[str], client: Any = None) -> np.ndarray:
        if args.path == "load_everything":
            return load_everything(where, args.strategy, model)
        return select_from_shards(where, args.strategy, TOP, model=model, client=client).ids

    if args.path != "dask":
        select(warm_up)
        out = _timed(lambda: select(args.folder))
    else:
        import cloudpickle
        from distributed import Client

        from labelwise.scale.execution import local_cluster

        cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers need not import it
        with (
            local_cluster(args.workers, dashboard_address=None) as cluster,
            Client(cluster) as client,
        ):
            client.run(__import__, "labelwise.scale.tasks")
            select(warm_up, client)
            out = _timed(lambda: select(args.folder, client), client)
    np.save(args.result.with_suffix(".npy"), out.pop("ids"))
    args.result.write_text(json.dumps(out))


def _timed(fn: Callable[[], np.ndarray], client: Any = None) -> dict[str, Any]:
    """Run ``fn`` once: seconds, CPU seconds and peak memory of this process and the workers."""

    def everywhere(probe: Callable[[], Any]) -> list[Any]:
        return [probe(), *(client.run(probe).values() if client is not None else ())]

    resets = everywhere(reset_peak)
    cpu_before = everywhere(cpu_seconds)
    start = time.perf_counter()
    ids = fn()
    seconds = time.perf_counter() - start
    cpu_after = everywhere(cpu_seconds)
    peaks = everywhere(peak_mb)
    return {
        "ids": ids,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(sum(cpu_after) - sum(cpu_before), 3),
        "peak_mb": round(sum(peaks), 1),
        "peak_mb_per_process": [round(p, 1) for p in peaks],
        "peak_reset": all(resets),
    }


def measure_in_child(path: str, folder: Path, strategy: str, model: Path | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="labelwise-scale-child-") as tmp:
        result = Path(tmp) / "result.json"
        command = [
            sys.executable,
            "-c",
            "import sys; from benchmarks.scale_bench import run_child; run_child(sys.argv[1:])",
            *("--path", path, "--folder", str(folder), "--strategy", strategy),
            *("--result", str(result)),
            *(() if model is None else ("--model", str(model))),
        ]
        subprocess.run(command, check=True, cwd=Path(__file__).resolve().parent.parent)
        out = json.loads(result.read_text())
        out["ids"] = np.load(result.with_suffix(".npy"))
    return out


# ------------------------------------------------------------------------- the cases


def scoring_cases(args: argparse.Namespace, cache: Path) -> dict[str, Any]:
    rows = max(1, args.items // args.shards)
    start = time.perf_counter()
    proba_dir = ensure_shards(
        cache / f"proba-{args.items}-{args.shards}", lambda: proba_chunks(args.items, 1), rows
    )
    feat_dir = ensure_shards(
        cache / f"features-{args.items}-{args.shards}",
        lambda: feature_chunks(args.items, 2, feature_centres()),
        rows,
    )
    results: dict[str, Any] = {"shards_ready_seconds": round(time.perf_counter() - start, 1)}
    model = fitted_model(cache / "model.pkl")
    for case, folder, mdl in [("entropy", proba_dir, None), ("margin", feat_dir, model)]:
        if case in args.skip:
            continue
        runs: dict[str, list[dict[str, Any]]] = {path: [] for path in PATHS}
        for _ in range(args.repeats):
            for path in PATHS:
                runs[path].append(measure_in_child(path, folder, case, mdl))
        best = {path: min(runs[path], key=lambda r: r["seconds"]) for path in PATHS}
        reference = best["load_everything"]["ids"]
        summary: dict[str, Any] = {}
        for path in PATHS:
            summary[path] = {
                "seconds": best[path]["seconds"],
                "all_seconds": [r["seconds"] for r in runs[path]],
                "cpu_seconds": best[path]["cpu_seconds"],
                "peak_mb": max(r["peak_mb"] for r in runs[path]),
                "peak_mb_per_process": best[path]["peak_mb_per_process"],
                "peak_reset": all(r["peak_reset"] for r in runs[path]),
            }
        summary["dask_over_stream"] = round(best["dask"]["seconds"] / best["stream"]["seconds"], 3)
        summary["stream_over_load_everything"] = round(
            best["stream"]["seconds"] / best["load_everything"]["seconds"], 3
        )
        summary["dask_equals_stream"] = bool(
            np.array_equal(best["dask"]["ids"], best["stream"]["ids"])
        )
        summary["stream_equals_load_everything"] = bool(
            np.array_equal(np.sort(best["stream"]["ids"]), np.sort(reference))
        )
        summary["cpu_seconds_per_shard"] = round(best["dask"]["cpu_seconds"] / args.shards, 4)
        results[case] = summary
        print(case, json.dumps(summary), flush=True)
    return results


def kcenter_cases(args: argparse.Namespace, cache: Path) -> dict[str, Any]:
    from labelwise.scale import inspect_shards, read_shard, resolve_shards, select_from_shards
    from labelwise.scale.kcenter import min_sq_distances
    from labelwise.strategies import coreset

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

    out: dict[str, Any] = {"items": n, "centers": k, "shards": len(paths)}
    start = time.perf_counter()
    radius = full()
    out["full_greedy"] = {"seconds": round(time.perf_counter() - start, 3), "radius": radius}
    del held["x"]
    for method in ("subsample", "two_round"):
        start = time.perf_counter()
        sel = select_from_shards(
            folder, "coreset", k, labeled_ids=labeled_ids, method=method, sample=args.sample
        )
        assert sel.covering_radius is not None
        out[method] = {
            "seconds": round(time.perf_counter() - start, 3),
            "radius": sel.covering_radius,
            "radius_over_full": round(sel.covering_radius / radius, 3),
            "considered": sel.n_considered,
        }
    print("kcenter", json.dumps(out), flush=True)
    return out


# ------------------------------------------------------------------------- report


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"Items: {report['items']:,} in {report['shards']} shards; top {TOP:,}. "
        f"Machine: {report['machine']['cpus']} CPUs, load average "
        f"{report['load_before']} before, {report['load_after']} after.",
        "",
        "| case | path | seconds (best) | all runs | CPU s | peak MB, all processes |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for case in ("entropy", "margin"):
        res = report.get("scoring", {}).get(case)
        if res is None:
            continue
        for path in PATHS:
            r = res[path]
            per = " + ".join(f"{p:.0f}" for p in r["peak_mb_per_process"])
            lines.append(
                f"| {case} | {path} | {r['seconds']:.2f} | "
                f"{', '.join(f'{s:.2f}' for s in r['all_seconds'])} | {r['cpu_seconds']:.2f} | "
                f"{r['peak_mb']:.0f} ({per}) |"
            )
        lines.append(
            f"| {case} | Dask / stream | **{res['dask_over_stream']:.2f}x** | stream / whole "
            f"**{res['stream_over_load_everything']:.2f}x** | same ids: "
            f"{res['dask_equals_stream']} / {res['stream_equals_load_everything']} | "
            f"CPU s per shard {res['cpu_seconds_per_shard']:.4f} |"
        )
    kc = report.get("kcenter")
    if kc is not None:
        lines += [
            "",
            f"k-center, {kc['items']:,} x {N_FEATURES} in {kc['shards']} shards, "
            f"{kc['centers']:,} centres, 100 labeled:",
            "",
            "| method | seconds | covering radius | / full greedy | rows considered |",
            "| --- | --- | --- | --- | --- |",
            f"| full greedy | {kc['full_greedy']['seconds']:.1f} | "
            f"{kc['full_greedy']['radius']:.3f} | 1.000 | {kc['items'] - 100:,} |",
        ]
        for method in ("subsample", "two_round"):
            m = kc[method]
            lines.append(
                f"| {method} | {m['seconds']:.1f} | {m['radius']:.3f} | "
                f"{m['radius_over_full']:.3f} | {m['considered']:,} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--items", type=int, default=10_000_000)
    parser.add_argument("--shards", type=int, default=100)
    parser.add_argument("--kcenter-items", type=int, default=2_000_000)
    parser.add_argument("--centers", type=int, default=1_000)
    parser.add_argument("--sample", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=1, help="runs of each path, best kept")
    parser.add_argument(
        "--skip", choices=["scoring", "entropy", "margin", "kcenter"], action="append", default=[]
    )
    parser.add_argument("--cache", type=Path, help="keep the shards here (default: temporary)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/scale.json"))
    args = parser.parse_args()
    cache = args.cache or Path(tempfile.mkdtemp(prefix="labelwise-scale-bench-"))
    cache.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "command": " ".join(["python -m benchmarks.scale_bench", *sys.argv[1:]]),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "items": args.items,
        "shards": args.shards,
        "load_before": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        if "scoring" not in args.skip:
            report["scoring"] = scoring_cases(args, cache)
        if "kcenter" not in args.skip:
            report["kcenter"] = kcenter_cases(args, cache)
    finally:
        if args.cache is None:
            shutil.rmtree(cache, ignore_errors=True)
    report["load_after"] = [round(x, 2) for x in os.getloadavg()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    table = markdown(report)
    args.out.with_suffix(".md").write_text(table)
    print(table)
    print(f"wrote {args.out} and {args.out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
