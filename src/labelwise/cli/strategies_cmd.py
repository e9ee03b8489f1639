"""``labelwise strategies``: list the acquisition strategies and what each needs."""

from __future__ import annotations

import typer

from labelwise.cli import app


@app.command("strategies")
def list_strategies(
    as_json: bool = typer.Option(False, "--json", help="Print a JSON object instead of a table."),
    task: str | None = typer.Option(
        None,
        "--task",
        help="Only the strategies of one task type: classification, regression, multilabel.",
        show_default="every task type",
    ),
) -> None:
    """List every registered strategy with the task types it serves and the model outputs it
    needs."""
    from rich.console import Console
    from rich.table import Table

    from labelwise.strategies import available_strategies, get_strategy
    from labelwise.strategies.base import strategy_tasks

    names = available_strategies(task=task)  # type: ignore[arg-type]
    rows = {name: sorted(get_strategy(name).needs) for name in names}
    if as_json:
        import json

        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="labelwise strategies")
    table.add_column("name")
    table.add_column("task types")
    table.add_column("needs")
    for name, needs in rows.items():
        tasks = ", ".join(sorted(strategy_tasks(type(get_strategy(name)))))
        table.add_row(name, tasks, ", ".join(needs) or "-")
    Console().print(table)
