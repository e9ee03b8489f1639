"""``labelwise stream``: stream-based selection into the store's queue, or a simulation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import typer

from labelwise.cli import app

#: ``labelwise.stream.simulate.RULES`` and ``labelwise.stream.scoring.UNCERTAINTY_KINDS``,
#: spelled here so that the help needs no numpy (tests/cli checks that they agree).
Rule = Literal["variable", "randomized", "fixed"]
Kind = Literal["least_confidence", "margin", "entropy"]


@app.command("stream")
def stream(
    source: str | None = typer.Argument(
        None,
        metavar="SOURCE",
        help="A JSONL file (followed as it grows), an http(s) URL to poll, or - for stdin.",
    ),
    store: str | None = typer.Option(
        None, "--store", envvar="LABELWISE_STORE", metavar="URL", help="Database URL."
    ),
    project: str | None = typer.Option(
        None, "--project", "-p", metavar="NAME", help="Store project of asked items."
    ),
    labels: str | None = typer.Option(
        None, "--labels", metavar="A,B,C", help="Label space, comma separated."
    ),
    rule: Rule = typer.Option("variable", "--rule", help="The stream rule that decides."),
    budget: float = typer.Option(0.1, "--budget", help="Fraction of items that may be asked."),
    window: int = typer.Option(100, "--window", help="Items per budget window (0: all seen)."),
    threshold: float = typer.Option(0.5, "--threshold", help="(Initial) uncertainty threshold."),
    step: float = typer.Option(0.01, "--step", help="Threshold step of the variable rules."),
    kind: Kind = typer.Option("least_confidence", "--kind", help="The uncertainty score."),
    per_hour: int | None = typer.Option(
        None, "--per-hour", help="At most this many asks per hour (default: no limit)."
    ),
    idle_seconds: float | None = typer.Option(
        None, "--idle-seconds", help="Stop after this long without a new item (default: never)."
    ),
    max_items: int | None = typer.Option(
        None, "--max-items", help="Stop after this many items (default: never)."
    ),
    simulate: bool = typer.Option(
        False, "--simulate", help="Simulate on a shipped dataset against random."
    ),
    dataset: str = typer.Option("digits", "--dataset", help="Dataset of --simulate."),
    seeds: int = typer.Option(5, "--seeds", help="Seeds of --simulate."),
    out: Path = typer.Option(Path("runs/stream"), "--out", help="Output folder of --simulate."),
) -> None:
    """Ask for the labels of the items a stream rule picks, under a budget per window."""
    from labelwise.errors import InvalidInputError
    from labelwise.stream.simulate import StreamSimulationConfig

    config = StreamSimulationConfig(
        dataset=dataset,
        rule=rule,
        budget=budget,
        window=window or None,
        threshold=threshold,
        step=step,
        kind=kind,
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
