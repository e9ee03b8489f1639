"""``labelwise ml-backend``: serve Label Studio's ML-backend protocol over a labelwise store."""

from __future__ import annotations

import typer

from labelwise.cli import app


@app.command("ml-backend")
def ml_backend(
    store: str = typer.Option(
        None, "--store", envvar="LABELWISE_STORE", help="Database URL (created if missing)."
    ),
    port: int = typer.Option(9090, "--port", help="TCP port to listen on."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind."),
    train_every: int = typer.Option(
        1, "--train-every", help="Retrain after this many new annotations."
    ),
    score: str = typer.Option(
        "least_confidence", "--score", help="least_confidence, margin or entropy."
    ),
    title: str = typer.Option(
        "labelwise", "--title", help="The title the backend is connected with in Label Studio."
    ),
    model_version: str = typer.Option(
        None, "--model-version", help="Fixed model_version (default: the project's)."
    ),
) -> None:
    """Serve the Label Studio ML backend: predictions scored for uncertainty sampling."""
    from labelwise.errors import InvalidInputError
    from labelwise.server.labelstudio import BackendSettings
    from labelwise.server.labelstudio.app import serve_backend
    from labelwise.stream.scoring import UNCERTAINTY_KINDS

    if score not in UNCERTAINTY_KINDS:
        raise InvalidInputError(f"--score must be one of {', '.join(UNCERTAINTY_KINDS)}")
    settings = BackendSettings(
        train_every=train_every,
        score=score,  # type: ignore[arg-type]
        title=title,
        model_version=model_version,
    )
    typer.echo(f"labelwise ML backend on http://{host}:{port} (store {store or 'default'})")
    serve_backend(store, settings, host=host, port=port)
