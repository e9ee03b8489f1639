"""Entry point: ``python -m benchmarks.run [--quick] [--cases a,b] [--roles ours,peer,reference]``.

Each (case, implementation) runs in a fresh Python subprocess that builds the seeded inputs,
warms the implementation up on the quick size, then measures the call (see
:mod:`benchmarks.measure`). The parent gathers the figures, checks targets and cross-implementation
facts, prints a markdown report and (for the full sizes) writes ``benchmarks/results/
strategies.json`` and the results block of ``benchmarks/README.md``.

Exit status 1 when a required correctness check fails or one of labelwise's implementations
errors; a missed speed target is reported, not fatal, unless ``--strict``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from benchmarks.case import Case, Unavailable
from benchmarks.measure import machine_info, measure_call, memory_bandwidth
from benchmarks.report import evaluate, render_markdown, update_readme
from benchmarks.strategies_bench import CASES

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "strategies.json"
README = ROOT / "benchmarks" / "README.md"
MARK = "BENCH_RESULT "


def work(
    case_name: str,
    impl_name: str,
    size: str,
    repeat: int,
    budget: float,
    collect: bool = True,
) -> dict[str, Any]:
    """Measure one implementation of one case in this process; never raises."""
    case = CASES[case_name]
    impl = case.impl(impl_name)
    params = case.sizes[size]
    try:
        quick = case.sizes["quick"]
        impl.prepare(case.make_data(quick), quick)()  # imports, lazy initialisation
        data = case.make_data(params)
        fn = impl.prepare(data, params)
    except Unavailable as exc:
        return {"status": "unavailable", "reason": str(exc)}
    except Exception:
        return {"status": "error", "reason": traceback.format_exc(limit=4)[-2000:]}
    try:
        m = measure_call(fn, repeat=repeat, time_budget=budget, collect=collect)
        checks = impl.check(data, params, m.output) if impl.check else {}
    except Exception:
        return {"status": "error", "reason": traceback.format_exc(limit=4)[-2000:]}
    return {
        "status": "ok",
        "times_s": m.times,
        "best_s": m.best,
        "median_s": m.median,
        "extra_bytes": m.extra_bytes,
        "memory_method": m.memory_method,
        "input_bytes": int(sum(getattr(v, "nbytes", 0) for v in data.values())),
        "checks": checks,
    }


def run_in_subprocess(
    case: str, impl: str, size: str, repeat: int, budget: float, timeout: float
) -> dict[str, Any]:
    """:func:`work` in a fresh interpreter, so each figure starts from the same clean process."""
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.run",
        "--worker",
        case,
        impl,
        "--size",
        size,
        "--repeat",
        str(repeat),
        "--budget",
        str(budget),
    ]
    env = dict(os.environ, TQDM_DISABLE="1", PYTHONWARNINGS="ignore")
    try:
        proc = subprocess.run(
            cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"status": "error", "reason": f"timed out after {timeout:.0f} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARK):
            result: dict[str, Any] = json.loads(line[len(MARK) :])
            return result
    return {"status": "error", "reason": f"exit {proc.returncode}: {proc.stderr[-2000:]}"}


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    p.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes (seconds); writes nothing unless --out is given",
    )
    p.add_argument("--cases", default=",".join(CASES), help="comma-separated: " + ", ".join(CASES))
    p.add_argument("--roles", default="ours,peer,reference", help="which implementations to run")
    p.add_argument("--impls", default="", help="comma-separated implementation names (default all)")
    p.add_argument("--repeat", type=int, default=5, help="timed runs per call (at most)")
    p.add_argument("--budget", type=float, default=3.0, help="stop repeating after this many s")
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds per subprocess")
    p.add_argument(
        "--out", type=Path, default=None, help="folder for strategies.json (and no README update)"
    )
    p.add_argument("--no-write", action="store_true", help="print the report only")
    p.add_argument(
        "--in-process",
        action="store_true",
        help="no subprocesses (tests; memory figures then include the parent's leftovers)",
    )
    p.add_argument(
        "--strict", action="store_true", help="exit 1 when a speed or memory target is missed"
    )
    p.add_argument(
        "--render",
        nargs="+",
        type=Path,
        metavar="JSON",
        help="measure nothing: re-check saved strategies.json file(s) from one machine (their "
        "cases merged) and write the report as a run would",
    )
    p.add_argument("--note", default="", help="a line for the report's header (where, how)")
    p.add_argument("--worker", nargs=2, metavar=("CASE", "IMPL"), help=argparse.SUPPRESS)
    p.add_argument("--size", default="full", choices=("full", "quick"), help=argparse.SUPPRESS)
    return p.parse_args(argv)


def _selected(args: argparse.Namespace) -> list[tuple[Case, list[str]]]:
    names = [n.strip() for n in args.cases.split(",") if n.strip()]
    unknown = [n for n in names if n not in CASES]
    if unknown:
        raise SystemExit(f"unknown case(s) {unknown}; known: {', '.join(CASES)}")
    roles = {r.strip() for r in args.roles.split(",")}
    impls = {i.strip() for i in args.impls.split(",") if i.strip()}
    return [
        (
            CASES[n],
            [i.name for i in CASES[n].impls if i.role in roles and (not impls or i.name in impls)],
        )
        for n in names
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the selected cases and report; returns the exit status."""
    args = _parse(argv)
    if args.worker:
        result = work(args.worker[0], args.worker[1], args.size, args.repeat, args.budget)
        print(MARK + json.dumps(result), flush=True)
        return 0
    os.environ.setdefault("TQDM_DISABLE", "1")  # batchbald-redux's progress bars
    report = merge_saved(args.render) if args.render else measure(args)
    if args.note:
        report["note"] = args.note
    evaluate(report, CASES)
    text = render_markdown(report)
    print(text)
    if not args.no_write and (args.out is not None or report["size"] == "full"):
        path = (args.out / "strategies.json") if args.out is not None else RESULTS
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2, default=str) + "\n")
        print(f"[bench] wrote {path}", file=sys.stderr)
        if args.out is None:
            update_readme(README, text)
            print(f"[bench] updated {README}", file=sys.stderr)
    failed = report["failed_required"] or (args.strict and report["missed_targets"])
    return 1 if failed else 0


def merge_saved(paths: list[Path]) -> dict[str, Any]:
    """One report from saved runs on the same machine and sizes, cases in the usual order."""
    reports = [json.loads(path.read_text()) for path in paths]
    first = reports[0]
    for other in reports[1:]:
        if (other["machine"]["cpu"], other["size"]) != (first["machine"]["cpu"], first["size"]):
            raise SystemExit("--render merges runs of one machine and one size only")
    by_name = {entry["case"]: entry for r in reports for entry in r["cases"]}
    return {
        "size": first["size"],
        "started": min(r["started"] for r in reports),
        "machine": first["machine"],
        "bandwidth": first["bandwidth"],
        "cases": [by_name[name] for name in CASES if name in by_name],
        "wall_s": round(sum(r["wall_s"] for r in reports), 1),
        "merged_from": len(reports),
    }


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run the selected cases, each implementation in its own subprocess (or in-process)."""
    size = "quick" if args.quick else "full"
    started = time.time()
    report: dict[str, Any] = {
        "size": size,
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(started)),
        "machine": machine_info(),
        "bandwidth": memory_bandwidth(32 * 2**20 if args.quick else 256 * 2**20),
        "cases": [],
    }
    for case, impl_names in _selected(args):
        params = case.sizes[size]
        entry: dict[str, Any] = {
            "case": case.name,
            "title": case.title,
            "params": params,
            "results": {},
        }
        for name in impl_names:
            print(f"[bench] {case.name} / {name} ...", end=" ", flush=True, file=sys.stderr)
            if args.in_process:
                result = work(case.name, name, size, args.repeat, args.budget, collect=False)
            else:
                result = run_in_subprocess(
                    case.name, name, size, args.repeat, args.budget, args.timeout
                )
            impl = case.impl(name)
            result |= {"role": impl.role, "note": impl.note}
            entry["results"][name] = result
            shown = (
                f"{result['best_s'] * 1e3:.1f} ms"
                if result["status"] == "ok"
                else f"{result['status']}: {result['reason'].splitlines()[-1][:120]}"
            )
            print(shown, file=sys.stderr, flush=True)
        report["cases"].append(entry)
    report["wall_s"] = round(time.time() - started, 1)
    return report


if __name__ == "__main__":
    raise SystemExit(main())
