"""How a call is measured: wall time, peak resident memory added by the call, the machine.

Extra memory is the peak RSS during the call minus the RSS just before it, read from Linux's
``VmHWM`` after resetting it (``/proc/self/clear_refs``), in a process that holds only the inputs.
Freed heap memory is first handed back to the OS (``malloc_trim``) so that the call cannot hide
its allocations in pages the process already owns. Where the reset is not allowed, a thread
samples the RSS with psutil every millisecond instead (the figure is then a lower bound).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import platform
import re
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

_STATUS = "/proc/self/status"


@dataclass
class Measurement:
    """Times (seconds, every run) and the extra peak memory (bytes) of the first run."""

    times: list[float]
    extra_bytes: int | None
    memory_method: str
    output: Any = field(repr=False, default=None)

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def _status_kib(key: str) -> int | None:
    try:
        with open(_STATUS) as fh:
            match = re.search(rf"^{key}:\s+(\d+) kB", fh.read(), re.MULTILINE)
    except OSError:
        return None
    return int(match.group(1)) if match else None


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def _trim_heap(collect: bool) -> None:
    if collect:
        gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class _RssSampler:
    """Fallback: the highest RSS seen by a thread polling every millisecond."""

    def __init__(self) -> None:
        import psutil

        self._proc = psutil.Process()
        self.peak = self._proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._proc.memory_info().rss)
            time.sleep(0.001)

    def __enter__(self) -> _RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)


def measure_call(
    fn: Callable[[], Any], repeat: int = 5, time_budget: float = 3.0, collect: bool = True
) -> Measurement:
    """Run ``fn`` up to ``repeat`` times (fewer once ``time_budget`` seconds are spent).

    The first run also gives the extra peak memory; ``output`` is the first run's result.
    ``collect=False`` skips the garbage collection before it (slow in a long-lived process).
    """
    _trim_heap(collect)
    rss_kib = _status_kib("VmRSS")
    if rss_kib is not None and _reset_peak():
        method = "peak RSS delta (VmHWM reset)"
        start = time.perf_counter()
        output = fn()
        elapsed = time.perf_counter() - start
        peak = _status_kib("VmHWM")
        extra = None if peak is None else max(0, (peak - rss_kib) * 1024)
    else:
        method = "peak RSS delta (psutil sampling, 1 ms)"
        import psutil

        before = psutil.Process().memory_info().rss
        with _RssSampler() as sampler:
            start = time.perf_counter()
            output = fn()
            elapsed = time.perf_counter() - start
        extra = max(0, sampler.peak - before)
    times = [elapsed]
    spent = elapsed
    while len(times) < repeat and spent < time_budget:
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
        spent += times[-1]
    return Measurement(times, extra, method, output)


def memory_bandwidth(n_bytes: int = 256 * 2**20, repeat: int = 5) -> dict[str, float]:
    """Single-thread ``np.copyto`` of ``n_bytes`` (best of ``repeat``): the machine's memory speed.

    ``copy_gb_s`` counts the bytes copied per second; the memory traffic is twice that (one read,
    one write).
    """
    src = np.ones(n_bytes // 8)
    dst = np.empty_like(src)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - start)
    return {"bytes": float(n_bytes), "seconds": best, "copy_gb_s": n_bytes / best / 1e9}


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(module: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module)
    except PackageNotFoundError:
        return None


PACKAGES = (
    "labelwise",
    "numpy",
    "scipy",
    "scikit-learn",
    "torch",
    "modAL-python",
    "scikit-activeml",
    "batchbald-redux",
    "baal",
)


def _commit() -> str | None:
    """The checkout's commit (with ``+dirty`` when files changed), or None outside git."""
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "")


def machine_info() -> dict[str, Any]:
    """CPU, cores, memory, BLAS as threadpoolctl sees it, package versions, OpenBLAS variables."""
    import scipy.linalg  # noqa: F401  (load scipy's BLAS so threadpoolctl lists it)

    info: dict[str, Any] = {
        "cpu": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "versions": {name: _version(name) for name in PACKAGES},
        "labelwise_commit": _commit(),
        "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")},
    }
    try:
        import psutil

        info["memory_gib"] = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        info["memory_gib"] = None
    try:
        import torch  # its OpenMP pool and thread count, where the peers use it

        info["torch_threads"] = torch.get_num_threads()
    except ImportError:
        info["torch_threads"] = None
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = [
            {
                key: pool.get(key)
                for key in ("user_api", "internal_api", "version", "architecture", "num_threads")
            }
            | {"library": os.path.basename(str(pool.get("filepath", "")))}
            for pool in threadpool_info()
        ]
    except ImportError:
        info["blas"] = "threadpoolctl not installed"
    return info
