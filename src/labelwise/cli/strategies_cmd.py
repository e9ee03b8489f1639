"""``labelwise strategies``: list the acquisition strategies and what each needs."""

from __future__ import annotations

import typer

from labelwise.cli import app


@app.command("strategies")
def list_strategies(
    as_json: bool = typer.Option(False, "--json", help="Print a JSON object instead of a table."),
) -> None:
    """List every registered strategy with the model outputs it needs."""
    from rich.console import Console
    from rich.table import Table

    from labelwise.strategies import available_strategies, get_strategy

    rows = {name: sorted(get_strategy(name).needs) for name in available_strategies()}
    if as_json:
        import json

        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="labelwise strategies")
    table.add_column("name")
    table.add_column("needs")
    for name, needs in rows.items():
        table.add_row(name, ", ".join(needs) or "-")
    Console().print(table)
