"""``labelwise serve``: the annotation service (API, annotator UI, admin UI) on a store.

Without ``--demo`` it prints the URLs of the pages and the command that gives someone a
token (``labelwise user add``). ``--demo`` builds a store of the bundled digits, with an admin
and an annotator, in a named folder (``labelwise-demo`` unless ``--demo-dir`` says otherwise),
prints the URL and both tokens; ``--demo --resume`` reopens it. The demo takes the next free
port when ``--port`` is taken and says so; without ``--demo`` a taken port is an error.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from labelwise.cli import app, require_extra
from labelwise.errors import InvalidInputError

if TYPE_CHECKING:
    from labelwise.store import Store

__all__ = ["free_port", "port_is_free", "serve"]


@app.command("serve")
def serve(
    store: str | None = typer.Option(
        None,
        "--store",
        envvar="LABELWISE_STORE",
        metavar="URL",
        help="Database URL of the store to serve (default: sqlite:///labelwise.db).",
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    demo: bool = typer.Option(False, "--demo", help="Serve a demo project of digits images."),
    resume: bool = typer.Option(
        False, "--resume", help="With --demo: reopen the demo of an earlier run, labels and all."
    ),
    demo_dir: Path = typer.Option(
        Path("labelwise-demo"), "--demo-dir", help="The folder the demo is kept in."
    ),
    background: bool = typer.Option(
        True, "--background/--no-background", help="Retrain every N labels in the background."
    ),
    workers: int = typer.Option(
        1,
        "--workers",
        min=1,
        max=256,
        help="API processes. More than one needs a PostgreSQL store, and trains nothing: "
        "run `labelwise worker --store URL` beside them.",
    ),
    trainer: str | None = typer.Option(
        None,
        "--trainer",
        metavar="server|worker",
        help="Who runs the rounds: this process ('server', the default for one process) or "
        "`labelwise worker` processes ('worker', PostgreSQL; the default with --workers N).",
    ),
) -> None:
    """Serve the annotation UI and API: annotators label, the model learns as they go."""
    if resume and not demo:
        raise InvalidInputError("--resume reopens a demo: give it with --demo")
    if workers > 1 and demo:
        raise InvalidInputError("the demo is a SQLite store, served by one process: drop --workers")
    if demo and trainer == "worker":
        raise InvalidInputError("the demo is a SQLite store, trained by its server: drop --trainer")
    if trainer not in (None, "server", "worker"):
        raise InvalidInputError(f"--trainer is 'server' or 'worker', not {trainer!r}")
    if workers > 1 and trainer == "server":
        raise InvalidInputError(
            "--workers N leaves the rounds to `labelwise worker`: drop --trainer server"
        )
    if workers > 1 or trainer == "worker":
        _check_many_processes(store or "sqlite:///labelwise.db")
    if demo:
        from labelwise.server.demo import check_demo_folder

        check_demo_folder(demo_dir, resume=resume)
        chosen = free_port(host, port)
        if port and chosen != port:
            typer.echo(f"port {port} is taken: serving on port {chosen} instead")
        port = chosen
    elif not port_is_free(host, port):
        raise InvalidInputError(f"port {port} on {host} is taken: pass --port with a free one")
    require_extra("server", "fastapi", "uvicorn")
    from labelwise.server import ServerSettings
    from labelwise.server.app import run_server

    if demo:
        opened, url = _open_demo(demo_dir, resume, f"http://{host}:{port}")
    else:
        from labelwise.store import open_store

        opened = open_store(store)
        url = opened.url
        _say_where(opened, f"http://{host}:{port}")
    _say_features(opened)
    settings = ServerSettings.from_env(
        store=url,
        host=host,
        port=port,
        background=background,
        workers=workers,
        trainer=trainer or ("worker" if workers > 1 else None),
    )
    if settings.trainer == "worker":
        typer.echo(
            f"{workers} API process(es); they train nothing: run "
            f"`labelwise worker --store {_shown(url)}` (one or more) for the rounds"
        )
    if workers > 1:
        opened.close()  # each process opens its own
    run_server(settings, opened)


def _check_many_processes(store: str) -> None:
    """Refuse ``--workers N`` on a store that one process must serve (SQLite), saying why."""
    if not store.startswith(("postgresql", "postgres:")):
        raise InvalidInputError(
            "--workers needs a PostgreSQL store: SQLite has one writer at a time and its "
            "processes cannot share rounds or leases, so a SQLite store is served by one "
            "process (it trains in a background thread). Serve it without --workers, or use "
            "--store postgresql://..."
        )


def _shown(url: str) -> str:
    """The URL without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _say_where(store: Store, base: str) -> None:
    """The pages' URLs, and how a lead gives people tokens (the store keeps only hashes)."""
    from labelwise.store.projects import list_annotators

    shown = _shown(store.url)
    users = sum(account.has_token for account in list_annotators(store))
    typer.echo(f"serving {shown} on {base} (Ctrl-C stops)")
    typer.echo(f"annotate:   {base}/")
    typer.echo(f"admin:      {base}/admin")
    typer.echo(
        f"tokens:     labelwise user add NAME --role annotator --project P --store {shown} "
        f"prints one ({users} user(s) have a token; labelwise user list shows them)"
    )


def _say_features(store: Store) -> None:
    """One line per project: the features its model learns from (and why, for a fallback)."""
    from labelwise.controller import loop_settings
    from labelwise.controller.features import feature_source_for
    from labelwise.store import list_projects

    for info in list_projects(store):
        chosen = loop_settings(info.settings).features
        source = feature_source_for(store, info.name, text=chosen)
        typer.echo(f"project {info.name!r}: {source.description}")


def _open_demo(folder: Path, resume: bool, base: str) -> tuple[Store, str]:
    """Open or build the demo in ``folder``, print where it is and the tokens."""
    from labelwise.server.demo import open_demo_folder

    if not resume:
        typer.echo(f"building the demo in {folder}/ (a few seconds)...")
    opened, made = open_demo_folder(folder, resume=resume)
    state = "reopened" if resume else "kept"
    typer.echo(f"demo store: {folder}/ ({state}; labelwise serve --demo --resume reopens it)")
    typer.echo(f"annotate:   {base}/   token {made.annotator_token}")
    typer.echo(f"admin:      {base}/admin   token {made.admin_token}")
    typer.echo("Ctrl-C stops the server.")
    return opened, opened.url


def free_port(host: str, port: int, tries: int = 20) -> int:
    """``port`` if it is free on ``host``, else the first free one of the next ``tries - 1``.

    Free means a listening socket could bind it now (with ``SO_REUSEADDR``, as uvicorn binds);
    when all ``tries`` are taken, or ``port`` is 0, the operating system's choice of a free port.
    """
    for candidate in range(port, min(port + tries, 65536)) if port else ():
        if port_is_free(host, candidate):
            return candidate
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could listen on ``host:port`` now."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _family(host: str) -> socket.AddressFamily:
    try:
        return socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror:
        raise InvalidInputError(f"--host {host!r} is not an address of this machine") from None
