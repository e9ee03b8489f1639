"""``labelwise stream``: stream-based selection into the store's queue, or a simulation."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from labelwise.cli import app


@app.command("stream")
def stream(
    source: str = typer.Argument(
        None, help="A JSONL file (followed as it grows), an http(s) URL to poll, or - for stdin."
    ),
    store: str = typer.Option(None, "--store", envvar="LABELWISE_STORE", help="Database URL."),
    project: str = typer.Option(None, "--project", "-p", help="Store project of asked items."),
    labels: str = typer.Option(None, "--labels", help="Label space, comma separated: a,b,c."),
    rule: str = typer.Option("variable", "--rule", help="variable, randomized or fixed."),
    budget: float = typer.Option(0.1, "--budget", help="Fraction of items that may be asked."),
    window: int = typer.Option(100, "--window", help="Items per budget window (0: all seen)."),
    threshold: float = typer.Option(0.5, "--threshold", help="(Initial) uncertainty threshold."),
    step: float = typer.Option(0.01, "--step", help="Threshold step of the variable rules."),
    kind: str = typer.Option(
        "least_confidence", "--kind", help="least_confidence, margin or entropy."
    ),
    per_hour: int = typer.Option(None, "--per-hour", help="At most this many asks per hour."),
    idle_seconds: float = typer.Option(
        None, "--idle-seconds", help="Stop after this long without a new item."
    ),
    max_items: int = typer.Option(None, "--max-items", help="Stop after this many items."),
    simulate: bool = typer.Option(
        False, "--simulate", help="Simulate on a shipped dataset against random."
    ),
    dataset: str = typer.Option("digits", "--dataset", help="Dataset of --simulate."),
    seeds: int = typer.Option(5, "--seeds", help="Seeds of --simulate."),
    out: Path = typer.Option(Path("runs/stream"), "--out", help="Output folder of --simulate."),
) -> None:
    """Ask for the labels of the items a stream rule picks, under a budget per window."""
    from labelwise.errors import InvalidInputError
    from labelwise.stream.scoring import UNCERTAINTY_KINDS
    from labelwise.stream.simulate import RULES, StreamSimulationConfig

    if kind not in UNCERTAINTY_KINDS:
        raise InvalidInputError(f"--kind must be one of {', '.join(UNCERTAINTY_KINDS)}")
    if rule not in RULES:
        raise InvalidInputError(f"--rule must be one of {', '.join(RULES)}")
    config = StreamSimulationConfig(
        dataset=dataset,
        rule=rule,  # type: ignore[arg-type]
        budget=budget,
        window=window or None,
        threshold=threshold,
        step=step,
        kind=kind,  # type: ignore[arg-type]
        seeds=seeds,
        max_items=max_items,
    )
    if simulate:
        _simulate(config, out)
        return
    if not source or not project or not labels:
        raise InvalidInputError("give a SOURCE, --project and --labels (or use --simulate)")
    _run(config, source, store, project, labels, per_hour, idle_seconds, max_items)


def _simulate(config: object, out: Path) -> None:
    from labelwise.stream.simulate import (
        StreamSimulationConfig,
        simulate_stream,
        write_stream_results,
    )

    assert isinstance(config, StreamSimulationConfig)
    result = simulate_stream(config)
    paths = write_stream_results(result, out)
    for method, figures in result.summary.items():
        typer.echo(
            f"{method:>12}: final accuracy {figures['final_accuracy_mean']:.4f} "
            f"(std {figures['final_accuracy_std']:.4f}) with {figures['labels_mean']:.1f} labels; "
            f"at equal labels {figures.get('equal_labels_accuracy_mean', float('nan')):.4f}"
        )
    typer.echo(f"wrote {paths['curves']}, {paths['summary']}, {paths['plot']}")


def _run(
    config: object,
    source: str,
    store: str | None,
    project: str,
    labels: str,
    per_hour: int | None,
    idle_seconds: float | None,
    max_items: int | None,
) -> None:
    import sys

    from labelwise.store import init_store
    from labelwise.stream import (
        StreamRun,
        StreamSelector,
        TimeWindowBudget,
        follow_jsonl,
        from_iterable,
        poll_http,
    )
    from labelwise.stream.simulate import StreamSimulationConfig

    assert isinstance(config, StreamSimulationConfig)
    classes = [label.strip() for label in labels.split(",") if label.strip()]
    time_budget = None if per_hour is None else TimeWindowBudget(per_hour, 3600.0)
    selector = StreamSelector(
        classes, config.make_rule("uncertainty", 0), time_budget=time_budget, kind=config.kind
    )
    if source == "-":
        items = from_iterable(json.loads(line) for line in sys.stdin if line.strip())
    elif source.startswith(("http://", "https://")):
        items = poll_http(source, idle_seconds=idle_seconds)
    else:
        items = follow_jsonl(source, idle_seconds=idle_seconds)
    run = StreamRun(selector, init_store(store), project)
    report = run.run(items, max_items=max_items)
    typer.echo(json.dumps(report.as_dict()))
