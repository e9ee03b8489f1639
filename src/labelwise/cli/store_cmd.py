"""Store commands: init, import, export, status, versions, checkout and why.

Each takes ``--store URL`` (default ``$LABELWISE_STORE`` or ``sqlite:///labelwise.db``) and,
where it concerns one project, ``--project NAME`` (optional when the store holds one project).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import typer

from labelwise.cli import app
from labelwise.errors import LabelwiseError

if TYPE_CHECKING:
    from labelwise.store import Store

#: The store's export formats (``labelwise.store.EXPORT_FORMATS``), spelled here so that the
#: help needs no SQLAlchemy; tests/cli checks the two agree.
ExportFormat = Literal["jsonl", "csv", "parquet", "conll", "spacy-json", "docbin"]

STORE = typer.Option(
    None,
    "--store",
    envvar="LABELWISE_STORE",
    metavar="URL",
    help="Database URL: sqlite:///labelwise.db (the default) or postgresql://...",
)
PROJECT = typer.Option(
    None, "--project", "-p", metavar="NAME", help="Project name (optional with one project)."
)
AS_JSON = typer.Option(False, "--json", help="Print JSON for scripts.")


def _project(store: Store, name: str | None) -> str:
    from labelwise.store import list_projects

    if name:
        return name
    names = [project.name for project in list_projects(store)]
    if len(names) == 1:
        return names[0]
    known = ", ".join(names) if names else "none: import a file first"
    raise LabelwiseError(f"name the project with --project (projects in the store: {known})")


def _echo_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, default=str))


@app.command("init")
def init(store: str | None = STORE) -> None:
    """Create a store, or upgrade an existing one to this version's schema."""
    from labelwise.store import init_store, normalize_url
    from labelwise.store.engine import current_revision

    opened = init_store(store)
    try:
        revision = current_revision(opened.engine)
    finally:
        opened.close()
    typer.echo(f"store ready: {normalize_url(store)} (schema {revision})")


@app.command("import")
def import_file(
    path: Path = typer.Argument(
        ...,
        metavar="FILE",
        help="A CSV, JSONL or Parquet file, a folder of images, or a span file (.conll/.bio/"
        ".iob, spaCy .json or .spacy, JSONL with spans) for a spans project.",
    ),
    project: str | None = PROJECT,
    labels: str | None = typer.Option(
        None, "--labels", metavar="A,B,C", help="Label space of a new project, comma separated."
    ),
    overlap: int = typer.Option(1, "--overlap", help="Annotators per sample (new project)."),
    encoding: str = typer.Option(
        "utf-8", "--encoding", help="Text encoding of a CSV or JSONL file: latin-1, cp1252..."
    ),
    store: str | None = STORE,
    as_json: bool = AS_JSON,
) -> None:
    """Import samples, all or nothing; the project is created if it does not exist.

    Rows have an id, then text or image, an optional label and split (pool, eval or gold);
    other columns are kept as metadata. A span file (CoNLL, spaCy JSON or DocBin, JSONL with
    spans: the formats of export) brings texts with their entity spans into a spans project
    (made from the file's entity labels when new). A bad row names the file, its line and
    column, and nothing is imported.
    """
    from labelwise.store import import_samples, list_projects, open_store

    opened = open_store(store)
    try:
        if project is None:
            names = [p.name for p in list_projects(opened)]
            project = names[0] if len(names) == 1 else _default_name(path, names)
        label_space = None if labels is None else [x for x in labels.split(",") if x.strip()]
        report = import_samples(
            opened,
            path,
            project,
            labels=label_space,
            settings={"overlap": overlap},
            encoding=encoding,
        )
    finally:
        opened.close()
    if as_json:
        _echo_json(vars(report))
        return
    typer.echo(
        f"{report.path}: {report.rows} rows, {report.inserted} new samples, "
        f"{report.unchanged} already there, {report.labeled} labels into project "
        f"{report.project!r}" + (" (created)" if report.created_project else "")
    )


def _default_name(path: Path, names: list[str]) -> str:
    if names:
        raise LabelwiseError(
            f"name the project with --project (projects in the store: {', '.join(names)})"
        )
    return path.stem if path.is_file() else path.resolve().name


@app.command("export")
def export(
    out: Path = typer.Option(..., "--out", help="The file to write."),
    file_format: ExportFormat = typer.Option(
        "jsonl",
        "--format",
        help="The file's format; conll, spacy-json and docbin (needs spaCy) for spans projects.",
    ),
    version: int | None = typer.Option(
        None, "--version", help="A dataset version number (default: the labeled set as it is now)."
    ),
    include_retracted: bool = typer.Option(
        False,
        "--include-retracted",
        help="Also list the answers taken back by an undo, marked retracted (full history).",
    ),
    project: str | None = PROJECT,
    store: str | None = STORE,
) -> None:
    """Export the labeled set (or a dataset version) with labels and annotations."""
    from labelwise.store import export_labeled, open_store

    opened = open_store(store)
    try:
        name = _project(opened, project)
        n = export_labeled(
            opened,
            name,
            out,
            file_format,
            version=version,
            include_retracted=include_retracted,
        )
    finally:
        opened.close()
    typer.echo(f"wrote {n} labeled samples to {out}")


@app.command("status")
def show_status(
    project: str | None = PROJECT, store: str | None = STORE, as_json: bool = AS_JSON
) -> None:
    """Counts per state, split, class and annotator; rounds and budget."""
    from rich.console import Console
    from rich.table import Table

    from labelwise.store import open_store, status

    opened = open_store(store)
    try:
        found = status(opened, _project(opened, project))
    finally:
        opened.close()
    if as_json:
        _echo_json(found.to_dict())
        return
    table = Table(title=f"labelwise status: {found.project}", show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("[bold]samples", str(found.samples))
    for group, counts in (
        ("state", found.by_state),
        ("split", found.by_split),
        ("class", found.by_class),
        ("annotator", found.by_annotator),
    ):
        for key, n in counts.items():
            table.add_row(f"{group}: {key}", str(n))
    table.add_row("rounds", str(found.rounds))
    table.add_row("dataset versions", str(found.versions))
    budget = "unlimited" if found.budget is None else str(found.budget)
    table.add_row("budget used", f"{found.budget_used} / {budget}")
    Console().print(table)


@app.command("versions")
def versions(
    project: str | None = PROJECT, store: str | None = STORE, as_json: bool = AS_JSON
) -> None:
    """List the dataset versions of a project."""
    from rich.console import Console
    from rich.table import Table

    from labelwise.store import list_rounds, list_versions, open_store

    opened = open_store(store)
    try:
        name = _project(opened, project)
        found = list_versions(opened, name)
        rounds = {r.number: r for r in list_rounds(opened, name)}
    finally:
        opened.close()
    if as_json:
        _echo_json([vars(v) for v in found])
        return
    table = Table(title=f"dataset versions: {name}")
    for column in ("version", "round", "strategy", "labels", "hash", "created (UTC)"):
        table.add_column(column)
    for v in found:
        strategy = rounds[v.round_number].strategy if v.round_number in rounds else "-"
        table.add_row(
            str(v.number),
            "-" if v.round_number is None else str(v.round_number),
            strategy,
            str(v.n_members),
            v.content_hash[:12],
            f"{v.created_at:%Y-%m-%d %H:%M:%S}",
        )
    Console().print(table)


@app.command("checkout")
def checkout(
    version: int = typer.Argument(..., metavar="VERSION", help="The dataset version to restore."),
    project: str | None = PROJECT,
    store: str | None = STORE,
) -> None:
    """Restore the labeled set of a dataset version; annotations are kept."""
    from labelwise.store import checkout_version, open_store

    opened = open_store(store)
    try:
        found = checkout_version(opened, _project(opened, project), version)
    finally:
        opened.close()
    typer.echo(f"checked out version {found.number}: {found.n_members} labels")


@app.command("why")
def why(
    sample: str = typer.Argument(..., metavar="SAMPLE", help="The sample's id, as imported."),
    project: str | None = PROJECT,
    store: str | None = STORE,
    as_json: bool = AS_JSON,
) -> None:
    """Why was this sample chosen? Its score in every round, and the rounds that queued it."""
    from rich.console import Console
    from rich.table import Table

    from labelwise.store import open_store, why_chosen

    opened = open_store(store)
    try:
        found = why_chosen(opened, _project(opened, project), sample)
    finally:
        opened.close()
    if as_json:
        _echo_json([vars(record) for record in found])
        return
    if not found:
        typer.echo(f"sample {sample!r} was not scored in any round")
        return
    table = Table(title=f"scores of {sample}")
    for column in ("round", "strategy", "model", "score", "queued"):
        table.add_column(column)
    for r in found:
        queued = "yes" if r.selected else "no"
        table.add_row(
            str(r.round_number), r.strategy, r.model_version or "-", f"{r.score:.6g}", queued
        )
    Console().print(table)
