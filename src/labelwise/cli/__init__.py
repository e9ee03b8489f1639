"""The ``labelwise`` command line: one typer app, each command group in a module of its own.

Start-up stays light: ``labelwise --help`` imports typer and the command modules, and a command
module imports at its top only typer, the standard library and ``labelwise.errors``; numpy,
scikit-learn, pandas, SQLAlchemy, FastAPI, torch... are imported inside the command that uses
them (``tests/cli/test_startup.py`` checks it). A new command module is one line in
``COMMAND_MODULES``; its example is one line in ``EXAMPLES`` (every command has one).

Errors that labelwise raises on purpose become one red line on stderr and exit code 1.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

import typer
from typer.core import TyperOption

from labelwise.errors import LabelwiseError

if TYPE_CHECKING:
    from typer._click import Command  # typer's own copy of click's Command

app = typer.Typer(
    name="labelwise",
    help="Active learning: the model chooses what humans label next.",
    epilog="Run labelwise COMMAND --help for a command's options and an example.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

#: Command modules under ``labelwise.cli``, imported when the command line starts; each adds
#: its commands (or a group: ``app.add_typer(project_app, name="project")``) to ``app``.
COMMAND_MODULES: tuple[str, ...] = (
    "strategies_cmd",
    "datasets_cmd",
    "store_cmd",
    "simulate_cmd",
    "select_cmd",
    "mlbackend_cmd",
    "stream_cmd",
    "serve_cmd",
    "project_cmd",
    "user_cmd",
    "worker_cmd",
)

#: One example per command, shown under its options ("labelwise" and the command's name first;
#: a command of a group is keyed "group command"). tests/cli checks that each one parses.
EXAMPLES: dict[str, str] = {
    "strategies": "labelwise strategies --json",
    "datasets": "labelwise datasets --task spans --json",
    "init": "labelwise init --store sqlite:///labels.db",
    "import": "labelwise import reviews.csv --labels pos,neg --store sqlite:///labels.db",
    "export": "labelwise export --out labeled.jsonl --format jsonl",
    "status": "labelwise status --project reviews",
    "versions": "labelwise versions --project reviews --json",
    "checkout": "labelwise checkout 3 --project reviews",
    "why": "labelwise why sample-17 --project reviews",
    "simulate": (
        "labelwise simulate --dataset digits --model logreg --strategies margin,badge "
        "--seeds 3 --out runs/digits"
    ),
    "select": (
        "labelwise select --pool shards/ --strategy margin --batch-size 100 --out batch.parquet"
    ),
    "ml-backend": "labelwise ml-backend --store sqlite:///labels.db --port 9090",
    "stream": "labelwise stream --simulate --dataset digits --budget 0.1",
    "serve": "labelwise serve --demo",
    "worker": "labelwise worker --store postgresql://localhost/labels",
    "project": "labelwise project create reviews --task text --labels pos,neg",
    "project create": "labelwise project create reviews --task text --labels pos,neg",
    "project set": "labelwise project set reviews --strategy bald --model auto",
    "round": "labelwise round run reviews --json",
    "round run": "labelwise round run reviews --json",
    "user": "labelwise user add alice --role annotator --project reviews",
    "user add": "labelwise user add alice --role annotator --project reviews",
    "user list": "labelwise user list --json",
    "user revoke": "labelwise user revoke alice",
}


@app.callback(invoke_without_command=True)
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    if version:
        from labelwise import __version__

        typer.echo(__version__)
        raise typer.Exit()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``labelwise`` script."""
    register_commands()
    command = typer.main.get_command(app)
    _tidy_help(command, ())
    try:
        command.main(args=argv, prog_name="labelwise", standalone_mode=True)
    except LabelwiseError as exc:
        print_error(str(exc))
        sys.exit(1)


def print_error(message: str) -> None:
    """``error: message`` on stderr, the prefix in red; the message is printed as it is."""
    from rich.console import Console
    from rich.text import Text

    Console(stderr=True).print(
        Text.assemble(("error:", "bold red"), " ", message), highlight=False, soft_wrap=True
    )


def require_extra(extra: str, *modules: str) -> None:
    """Import ``modules``; a missing one is an error naming the extra that installs it."""
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            missing = exc.name or module
            raise LabelwiseError(
                f"this command needs {missing}, which comes with the {extra} extra: "
                f"pip install 'labelwise[{extra}]'"
            ) from None


def register_commands() -> None:
    """Import the command modules; each adds its commands to ``app`` on import."""
    for module in COMMAND_MODULES:
        importlib.import_module(f"labelwise.cli.{module}")


def _tidy_help(command: Command, path: tuple[str, ...]) -> None:
    """Help as the best command lines write it: types where they help, an example per command.

    Typer shows a type for every option, ``<bool>`` on a flag (which takes no value) and
    ``<str>`` on text too; an empty metavar hides those. A docstring's paragraphs are joined
    into lines that rich wraps at the terminal's width.
    """
    ctx = typer.Context(command)
    for param in [*command.params, command.get_help_option(ctx)]:
        if not isinstance(param, TyperOption) or param.metavar is not None:
            continue
        if param.is_flag or param.type_descriptor.annotation is str:
            param.metavar = ""
    if command.help:
        command.help = "\n\n".join(" ".join(part.split()) for part in command.help.split("\n\n"))
    example = EXAMPLES.get(" ".join(path))
    if example is not None and not command.epilog:
        command.epilog = f"Example: {example}"
    for name, sub in getattr(command, "commands", {}).items():
        _tidy_help(sub, (*path, name))
