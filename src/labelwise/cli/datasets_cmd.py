"""``labelwise datasets``: the data sets simulate can load, with their task types."""

from __future__ import annotations

import typer

from labelwise.cli import app, print_error


@app.command("datasets")
def list_datasets(
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list instead of a table."),
    task: str | None = typer.Option(
        None,
        "--task",
        help="Only one task type: classification, regression, multilabel or spans.",
        show_default="every task type",
    ),
) -> None:
    """List the named data sets (simulate --dataset NAME) with their task type and whether
    the package or folder they come from is installed here; nothing is ever downloaded."""
    from labelwise.simulate.catalog import dataset_catalog

    entries = dataset_catalog()
    tasks = sorted({entry.task for entry in entries})
    if task is not None and task not in tasks:
        print_error(f"--task must be one of {', '.join(tasks)}, got {task!r}")
        raise typer.Exit(2)
    entries = [entry for entry in entries if task is None or entry.task == task]
    if as_json:
        import json

        typer.echo(json.dumps([entry.to_dict() for entry in entries], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="labelwise datasets")
    for column in ("name", "task", "what", "from", "installed"):
        table.add_column(column)
    for entry in entries:
        installed = "yes" if entry.installed else "no"
        table.add_row(entry.name, entry.task, entry.description, entry.source, installed)
    Console().print(table)
