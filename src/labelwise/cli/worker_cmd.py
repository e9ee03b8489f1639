"""``labelwise worker``: the trainer process beside ``labelwise serve --workers N``.

It claims every project of a PostgreSQL store that no other worker trains (an advisory lock
per project, held for as long as it trains it), runs its rounds every ``retrain_every`` labels
and keeps its queue full (:class:`labelwise.controller.background.Trainers`). Start several
for many projects or for a standby: a project is trained by one of them at a time, and taken
over within ``--claim-seconds`` when its worker dies. SIGINT or SIGTERM stops it after the
round under way (a round is recorded in one transaction, so even SIGKILL leaves none half
done). SQLite is refused: one ``labelwise serve`` process serves and trains it.

Each event is one line on stdout: ``training P``, ``round start P - T``, ``round end P N T``,
``round failed P - T`` (T: Unix time; a failed round is tried again at the next poll),
``lost P``, ``released P``.
"""

from __future__ import annotations

import os

import typer

from labelwise.cli import app
from labelwise.errors import InvalidInputError

__all__ = ["worker"]


@app.command("worker")
def worker(
    store: str | None = typer.Option(
        None,
        "--store",
        envvar="LABELWISE_STORE",
        metavar="URL",
        help="The PostgreSQL store that `labelwise serve --workers N` serves.",
    ),
    project: list[str] = typer.Option(
        [],
        "--project",
        "-p",
        metavar="NAME",
        help="Train only this project (repeat for more; default: every project, new ones too).",
    ),
    poll_seconds: float = typer.Option(
        1.0, "--poll-seconds", min=0.01, help="How often a held project is checked for labels."
    ),
    claim_seconds: float = typer.Option(
        2.0,
        "--claim-seconds",
        min=0.01,
        help="How often unclaimed projects are looked for (a dead worker's are taken over).",
    ),
) -> None:
    """Run the rounds of a PostgreSQL store's projects, beside `labelwise serve --workers N`."""
    import signal
    import threading

    from labelwise.controller.background import Trainers
    from labelwise.store import get_project, open_store

    url = store or "sqlite:///labelwise.db"
    if not url.startswith(("postgresql", "postgres:")):
        raise InvalidInputError(
            "labelwise worker needs a PostgreSQL store (--store postgresql://...): SQLite has "
            "one writer at a time and no way for processes to share rounds, so a SQLite store "
            "is served by one `labelwise serve` process, which trains in a background thread"
        )
    opened = open_store(url)
    for name in project:  # a name that is not there is an error now, not a loop of them
        get_project(opened, name)
    stop = threading.Event()

    def stop_soon(_signal: int, _frame: object) -> None:
        stop.set()

    for wanted in (signal.SIGINT, signal.SIGTERM):
        signal.signal(wanted, stop_soon)
    pid = os.getpid()
    trainers = Trainers(
        opened,
        project or None,
        poll_seconds=poll_seconds,
        claim_seconds=claim_seconds,
        actor=f"worker-{pid}",
        on_event=lambda line: typer.echo(line),
    )
    typer.echo(f"worker {pid} on {opened.engine.url.render_as_string(hide_password=True)}")
    try:
        trainers.run(stop)
    finally:
        opened.close()
