"""The ``labelwise`` command line: one typer app, each command group in a module of its own.

Errors that labelwise raises on purpose become one red line on stderr and exit code 1.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from labelwise import __version__
from labelwise.errors import LabelwiseError

app = typer.Typer(
    name="labelwise",
    help="Active learning: the model chooses what humans label next.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True)


@app.callback(invoke_without_command=True)
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    if version:
        typer.echo(__version__)
        raise typer.Exit()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``labelwise`` script."""
    _register_commands()
    try:
        app(args=argv, standalone_mode=True)
    except LabelwiseError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)


def _register_commands() -> None:
    """Import the command modules; each adds its commands to ``app`` on import."""
    import importlib

    for module in _COMMAND_MODULES:
        importlib.import_module(f"labelwise.cli.{module}")


#: Command modules under ``labelwise.cli``; add a module here when it adds commands.
_COMMAND_MODULES: tuple[str, ...] = (
    "strategies_cmd",
    "store_cmd",
    "simulate_cmd",
    "select_cmd",
    "mlbackend_cmd",
    "stream_cmd",
    "serve_cmd",
)
