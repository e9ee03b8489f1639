"""Targets met or not, cross-implementation checks, and the markdown report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.case import Case

START = "<!-- results:start (written by python -m benchmarks.run) -->"
END = "<!-- results:end -->"


def _ok(result: dict[str, Any] | None) -> bool:
    return result is not None and result.get("status") == "ok"


def evaluate(report: dict[str, Any], cases: dict[str, Case]) -> None:
    """Add ``targets``, ``memory_targets``, ``checks`` and the verdicts to ``report`` in place."""
    targets: list[dict[str, Any]] = []
    memory: list[dict[str, Any]] = []
    checks: list[dict[str, Any]] = []
    failed_required: list[str] = []
    for entry in report["cases"]:
        case, results = cases[entry["case"]], entry["results"]
        for t in case.targets:
            ours, other = results.get(t.ours), results.get(t.other)
            row: dict[str, Any] = {
                "case": case.name,
                "ours": t.ours,
                "other": t.other,
                "required_ratio": t.min_ratio,
            }
            if report["size"] != "full":
                row |= {"met": None, "why": "quick sizes are not judged"}
            elif _ok(ours) and _ok(other):
                ratio = other["best_s"] / ours["best_s"]
                row |= {
                    "ours_s": ours["best_s"],
                    "other_s": other["best_s"],
                    "ratio": ratio,
                    "met": ratio >= t.min_ratio,
                }
            else:
                row |= {
                    "met": None,
                    "why": "; ".join(
                        f"{n}: {r.get('status', 'not run') if r else 'not run'}"
                        for n, r in ((t.ours, ours), (t.other, other))
                        if not _ok(r)
                    ),
                }
            targets.append(row)
        for name, r in results.items():
            if r.get("role") == "ours" and r.get("status") == "error":
                failed_required.append(f"{case.name}/{name} raised")
            judged = report["size"] == "full"
            if case.max_extra_bytes and judged and r.get("role") == "ours" and _ok(r):
                limit = case.max_extra_bytes(entry["params"])
                extra = r.get("extra_bytes")
                memory.append(
                    {
                        "case": case.name,
                        "impl": name,
                        "extra_bytes": extra,
                        "limit_bytes": limit,
                        "target": case.memory_target_text,
                        "met": None if extra is None else extra <= limit,
                    }
                )
            for key, value in r.get("checks", {}).items():
                if key in ("agrees", "valid_top_k", "valid_batch"):
                    checks.append(
                        {
                            "check": f"{case.name}/{name}: {key}",
                            "ok": bool(value),
                            "detail": _detail(r["checks"]),
                            "required": True,
                        }
                    )
        if case.compare:
            facts = {n: r["checks"] for n, r in results.items() if _ok(r)}
            checks += [
                c | {"check": f"{case.name}: {c['check']}"}
                for c in case.compare(entry["params"], facts)
            ]
    failed_required += [c["check"] for c in checks if c["required"] and not c["ok"]]
    report |= {
        "targets": targets,
        "memory_targets": memory,
        "checks": checks,
        "failed_required": failed_required,
        "missed_targets": [
            f"{t['case']}: {t['ours']} vs {t['other']}" for t in targets if t["met"] is False
        ]
        + [f"{m['case']}: {m['impl']} memory" for m in memory if m["met"] is False],
    }


def _detail(facts: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v:.2e}" for k, v in facts.items() if isinstance(v, float))


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1e3:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


def _mb(n_bytes: float | None) -> str:
    return "-" if n_bytes is None else f"{n_bytes / 1e6:.1f} MB"


def _verdict(met: bool | None) -> str:
    return {True: "yes", False: "**no**", None: "not measured"}[met]


def _machine(report: dict[str, Any]) -> list[str]:
    m, bw = report["machine"], report["bandwidth"]
    blas = m.get("blas")
    blas_text = (
        "; ".join(
            f"{b['internal_api']} {b['version'] or ''} ({b.get('architecture') or '-'}, "
            f"{b['num_threads']} threads, {b['library']})"
            for b in blas
        )
        if isinstance(blas, list)
        else str(blas)
    )
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v)
    return [
        f"- CPU: {m['cpu']}, {m['usable_cores']} usable core(s) of {m['logical_cores']}, "
        f"{m['memory_gib']} GiB; Python {m['python']}",
        f"- memory bandwidth (single-thread `np.copyto` of {bw['bytes'] / 2**20:.0f} MiB, same "
        f"run): **{bw['copy_gb_s']:.1f} GB/s** copied (twice that in traffic)",
        f"- BLAS/threads (threadpoolctl): {blas_text}",
        f"- OpenBLAS environment: {m['openblas_env'] or 'none set'}",
        f"- versions: {versions}; labelwise commit {m.get('labelwise_commit') or 'unknown'}",
    ]


def render_markdown(report: dict[str, Any]) -> str:
    """The report as markdown: machine, targets, every measurement, checks."""
    runs = f", {report['merged_from']} runs merged" if report.get("merged_from", 1) > 1 else ""
    lines = [
        f"### Results ({report['size']} sizes, {report['started']}, {report['wall_s']} s{runs})",
        "",
        *([f"> {report['note']}", ""] if report.get("note") else []),
        *_machine(report),
        "",
        "#### Targets",
        "",
        "| case | labelwise | vs | labelwise time | their time | speed-up | target | met |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for t in report["targets"]:
        if t["met"] is None:
            lines.append(
                f"| {t['case']} | {t['ours']} | {t['other']} | - | - | - | "
                f">= {t['required_ratio']:g}x | not measured ({t['why']}) |"
            )
        else:
            lines.append(
                f"| {t['case']} | {t['ours']} | {t['other']} | {_ms(t['ours_s'])} | "
                f"{_ms(t['other_s'])} | {t['ratio']:.1f}x | >= {t['required_ratio']:g}x "
                f"| {_verdict(t['met'])} |"
            )
    if report["memory_targets"]:
        lines += [
            "",
            "| case | labelwise | extra memory | target | met |",
            "| --- | --- | ---: | --- | --- |",
        ]
        lines += [
            f"| {m['case']} | {m['impl']} | {_mb(m['extra_bytes'])} | {m['target']} | "
            f"{_verdict(m['met'])} |"
            for m in report["memory_targets"]
        ]
    lines += ["", "#### Every measurement", ""]
    for entry in report["cases"]:
        params = ", ".join(f"{k}={v:,}" for k, v in entry["params"].items())
        lines += [
            f"**{entry['case']}**: {entry['title']} ({params})",
            "",
            "| implementation | role | best | median | runs | extra memory | what is timed |",
            "| --- | --- | ---: | ---: | ---: | ---: | --- |",
        ]
        for name, r in entry["results"].items():
            if _ok(r):
                lines.append(
                    f"| {name} | {r['role']} | {_ms(r['best_s'])} | {_ms(r['median_s'])} "
                    f"| {len(r['times_s'])} | {_mb(r['extra_bytes'])} | {r['note']} |"
                )
            else:
                why = r["reason"].strip().splitlines()[-1][:100].replace("|", "/")
                lines.append(f"| {name} | {r['role']} | {r['status']} | | | | {why} |")
        lines.append("")
    if report["checks"]:
        lines += ["#### Checks", "", "| check | ok | detail |", "| --- | --- | --- |"]
        lines += [
            f"| {c['check']} | {'yes' if c['ok'] else '**no**'} | {c['detail']} |"
            for c in report["checks"]
        ]
        lines.append("")
    method = next(
        (
            r.get("memory_method")
            for e in report["cases"]
            for r in e["results"].values()
            if r.get("memory_method")
        ),
        "-",
    )
    lines.append(
        f"Extra memory: {method}, first timed call, fresh subprocess per row. "
        "Times: best of up to 5 runs after a warm-up on the quick size."
    )
    return "\n".join(lines) + "\n"


def update_readme(path: Path, block: str) -> None:
    """Replace the results block of ``path`` (between the markers) with ``block``."""
    text = path.read_text() if path.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    if START not in text or END not in text:
        text = text.rstrip("\n") + f"\n\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{START}\n{block}{END}{tail}")
