"""``labelwise user``: the people who may use the annotation service, and their tokens.

* ``user add NAME --role admin|annotator|reviewer [--project P]``: a new user and their token,
  printed this once (the store keeps only its SHA-256 hash);
* ``user list``: names, roles, projects and whether the token works; never a token;
* ``user revoke NAME``: the token stops working (a running server forgets it within its
  ``token_cache_seconds``); the user's answers stay.
"""

from __future__ import annotations

import json
from typing import Literal

import typer

from labelwise.cli import app
from labelwise.cli.store_cmd import AS_JSON, STORE

__all__ = ["add", "list_users", "revoke"]

user_app = typer.Typer(
    help="Users of the annotation service: add one (and print the token), list, revoke.",
    no_args_is_help=True,
)
app.add_typer(user_app, name="user")

Role = Literal["annotator", "reviewer", "admin"]


@user_app.command("add")
def add(
    name: str = typer.Argument(..., metavar="NAME", help="The user's name, unique in the store."),
    role: Role = typer.Option(
        "annotator", "--role", help="admin (every project, settings), annotator or reviewer."
    ),
    project: list[str] = typer.Option(
        [], "--project", "-p", metavar="NAME", help="A project they work on (repeat for more)."
    ),
    store: str | None = STORE,
) -> None:
    """Add a user and print their token, once: the store keeps only its hash."""
    import secrets

    from labelwise.store import add_annotator, get_project, init_store
    from labelwise.store.members import add_member

    opened = init_store(store)  # a new store is created, an old one upgraded
    try:
        for name_of_project in project:  # every project checked before the user is added
            get_project(opened, name_of_project)
        token = secrets.token_urlsafe(24)
        add_annotator(opened, name, role, token, actor="cli")
        for name_of_project in project:
            add_member(opened, name_of_project, name, actor="cli")
    finally:
        opened.close()
    where = f" on {', '.join(project)}" if project else ""
    typer.echo(f"user {name!r} added as {role}{where}")
    typer.echo(f"token: {token}")
    typer.echo("Give it to them now: it is not shown again (labelwise user revoke cancels it).")


@user_app.command("list")
def list_users(store: str | None = STORE, as_json: bool = AS_JSON) -> None:
    """List the users: name, role, projects, whether their token works (never the token)."""
    from labelwise.store import list_projects, open_store
    from labelwise.store.members import is_member
    from labelwise.store.projects import list_annotators

    opened = open_store(store)
    try:
        accounts = list_annotators(opened)
        projects = list_projects(opened)
    finally:
        opened.close()
    rows = [
        {
            "name": account.name,
            "role": account.role,
            "projects": [p.name for p in projects if is_member(p, account.name)],
            "token": "active" if account.has_token else "revoked",
        }
        for account in accounts
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("no users yet: labelwise user add NAME --role annotator --project P")
        return
    width = max(len(row["name"]) for row in rows)
    for row in rows:
        reach = "all projects" if row["role"] == "admin" else ", ".join(row["projects"]) or "-"
        typer.echo(f"{row['name']:<{width}}  {row['role']:<9}  {row['token']:<7}  {reach}")


@user_app.command("revoke")
def revoke(
    name: str = typer.Argument(..., metavar="NAME", help="The user whose token stops working."),
    store: str | None = STORE,
) -> None:
    """Revoke a user's token; their answers stay (labelwise user add gives a new user one)."""
    from labelwise.store import open_store
    from labelwise.store.projects import revoke_token

    opened = open_store(store)
    try:
        revoke_token(opened, name, actor="cli")
    finally:
        opened.close()
    typer.echo(
        f"the token of {name!r} no longer works (a running server drops it within "
        "LABELWISE_TOKEN_CACHE_SECONDS, 5 s by default)"
    )
