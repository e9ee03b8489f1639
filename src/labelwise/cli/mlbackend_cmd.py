"""``labelwise ml-backend``: serve Label Studio's ML-backend protocol over a labelwise store.

Securing it (each flag also reads the environment variables listed, first one set wins; the
un-prefixed ones are those of Label Studio's own ``label-studio-ml-backend``):

``--basic-auth-user`` / ``--basic-auth-pass``
    (``LABELWISE_ML_BASIC_AUTH_USER`` or ``BASIC_AUTH_USER``; ``LABELWISE_ML_BASIC_AUTH_PASS``
    or ``BASIC_AUTH_PASS``) HTTP basic auth that every route but ``/health`` and ``/`` then
    requires; enter the same pair in Label Studio's model settings (Authentication: Basic
    Authentication). Prefer the environment variable for the password: command lines are
    visible to other users of the machine. Without them, a backend bound to anything but a
    loopback address prints and logs a warning.
``--label-studio-url`` (``LABELWISE_LABEL_STUDIO_URL``, ``LABEL_STUDIO_URL``, ``LABEL_STUDIO_HOST``)
    the only Label Studio the backend sends requests to (task images, the project's
    ``model_version``). A ``/setup`` that names another is refused (403). Without it the
    backend sends no request at all: images must be ``data:`` URIs or local files.
``--label-studio-token`` (``LABELWISE_LABEL_STUDIO_TOKEN``, ``LABEL_STUDIO_API_KEY``,
``LABEL_STUDIO_ACCESS_TOKEN``)
    the API token for that URL (default: the one Label Studio sends in ``/setup``).
``--max-body-mb``
    request bodies over this many MiB are answered 413 (default 32).

Learning: ``--strategy`` (default ``margin``) and ``--model`` (default ``auto``) choose the
round engine's pair; a pair that cannot run is refused at start with exit code 2.
``--train-every`` / ``--train-delay`` debounce retrains; with the URL and the token, fresh
predictions are pushed after each retrain (``--no-push`` to turn it off) and the annotations
are re-read from Label Studio at start and every ``--resync-every`` seconds. See
docs/labelstudio.md.
"""

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
    strategy: str = typer.Option(
        "margin", "--strategy", help="Acquisition strategy (labelwise strategies lists them)."
    ),
    model: str = typer.Option(
        "auto", "--model", help="auto, logreg, committee or mc_dropout (auto: what serves it)."
    ),
    text_features: str = typer.Option(
        "auto", "--text-features", help="auto (MiniLM where installed), minilm or hashed."
    ),
    train_every: int = typer.Option(
        10, "--train-every", help="Retrain once this many annotations are new ..."
    ),
    train_delay: float = typer.Option(
        10.0, "--train-delay", help="... or this many seconds after the first new one."
    ),
    resync_every: float = typer.Option(
        300.0,
        "--resync-every",
        help="Seconds between re-reads of the annotations from Label Studio (0: start only).",
    ),
    batch_size: int = typer.Option(
        20, "--batch-size", help="Tasks a batch strategy (coreset, badge...) ranks first."
    ),
    push: bool = typer.Option(
        True, "--push/--no-push", help="Push fresh predictions to Label Studio after retrains."
    ),
    title: str = typer.Option(
        "labelwise", "--title", help="The title the backend is connected with in Label Studio."
    ),
    model_version: str = typer.Option(
        None, "--model-version", help="Fixed model_version (default: the project's)."
    ),
    basic_auth_user: str = typer.Option(
        None,
        "--basic-auth-user",
        envvar=["LABELWISE_ML_BASIC_AUTH_USER", "BASIC_AUTH_USER"],
        help="HTTP basic auth username required on every route but /health.",
    ),
    basic_auth_pass: str = typer.Option(
        None,
        "--basic-auth-pass",
        envvar=["LABELWISE_ML_BASIC_AUTH_PASS", "BASIC_AUTH_PASS"],
        help="HTTP basic auth password (prefer the environment variable).",
    ),
    label_studio_url: str = typer.Option(
        None,
        "--label-studio-url",
        envvar=["LABELWISE_LABEL_STUDIO_URL", "LABEL_STUDIO_URL", "LABEL_STUDIO_HOST"],
        help="The only Label Studio the backend sends requests to (images, model_version).",
    ),
    label_studio_token: str = typer.Option(
        None,
        "--label-studio-token",
        envvar=[
            "LABELWISE_LABEL_STUDIO_TOKEN",
            "LABEL_STUDIO_API_KEY",
            "LABEL_STUDIO_ACCESS_TOKEN",
        ],
        help="API token for --label-studio-url (default: the one /setup sends).",
    ),
    max_body_mb: float = typer.Option(
        32.0, "--max-body-mb", help="Request bodies over this many MiB are refused (413)."
    ),
) -> None:
    """Serve the Label Studio ML backend: predictions scored for uncertainty sampling."""
    from labelwise.errors import InvalidInputError
    from labelwise.server.labelstudio import BackendSettings
    from labelwise.server.labelstudio.app import serve_backend
    from labelwise.server.labelstudio.security import exposure_warning

    if not max_body_mb > 0:
        raise InvalidInputError(f"--max-body-mb must be positive, got {max_body_mb}")
    try:
        settings = BackendSettings(
            strategy=strategy,
            model=model,
            text_features=text_features,  # type: ignore[arg-type]
            train_every=train_every,
            train_delay=train_delay,
            resync_every=resync_every,
            batch_size=batch_size,
            push=push,
            title=title,
            model_version=model_version,
            label_studio_url=label_studio_url or None,
            label_studio_token=label_studio_token or None,
            basic_auth_user=basic_auth_user or None,
            basic_auth_pass=basic_auth_pass or None,
            max_body_bytes=int(max_body_mb * 1024 * 1024),
        )
    except InvalidInputError as exc:  # a setting that cannot run: refused before serving
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    typer.echo(f"labelwise ML backend on http://{host}:{port} (store {store or 'default'})")
    typer.echo(f"  strategy {settings.strategy}, model {settings.model_name}")
    auth = settings.basic_auth()
    typer.echo(f"  basic auth: {'on, user ' + auth.user if auth else 'off'}")
    typer.echo(
        f"  Label Studio: {settings.label_studio_url}"
        if settings.label_studio_url
        else "  Label Studio: none configured (--label-studio-url): no request leaves the "
        "backend; images only from data: URIs and local files"
    )
    if not settings.talks_to_label_studio:
        typer.echo("  push and resync: off (they need --label-studio-url and --label-studio-token)")
    warning = exposure_warning(host, auth)
    if warning:
        typer.secho(f"warning: {warning}", fg=typer.colors.YELLOW, err=True)
    serve_backend(store, settings, host=host, port=port)
