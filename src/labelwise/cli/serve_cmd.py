"""``labelwise serve``: the annotation service (API, annotator UI, admin UI) on a store.

``--demo`` builds a fresh store of the bundled digits in a temporary folder, with an admin and
an annotator, and prints the URL and both tokens.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import typer

from labelwise.cli import app

__all__ = ["serve"]


@app.command("serve")
def serve(
    store: str | None = typer.Option(
        None, "--store", envvar="LABELWISE_STORE", help="Database URL of the store to serve."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    demo: bool = typer.Option(False, "--demo", help="Serve a fresh demo project of digits."),
    background: bool = typer.Option(
        True, "--background/--no-background", help="Retrain every N labels in the background."
    ),
) -> None:
    """Serve the annotation UI and API: annotators label, the model learns as they go."""
    from labelwise.server import ServerSettings
    from labelwise.server.app import run_server
    from labelwise.store import init_store, open_store

    if demo:
        from labelwise.server.demo import build_demo

        folder = Path(tempfile.mkdtemp(prefix="labelwise-demo-"))
        url = f"sqlite:///{folder / 'demo.db'}"
        opened = init_store(url)
        made = build_demo(opened, folder / "images")
        base = f"http://{host}:{port}"
        typer.echo(f"demo store: {url}")
        typer.echo(f"annotate:   {base}/   token {made.annotator_token}")
        typer.echo(f"admin:      {base}/admin   token {made.admin_token}")
    else:
        opened = open_store(store)
        url = opened.url
    settings = ServerSettings.from_env(store=url, host=host, port=port, background=background)
    run_server(settings, opened)
