"""Dependencies of the routes: the runtime, the store and who is calling (Bearer token).

They are ``async``: FastAPI runs a plain ``def`` dependency in its thread pool, one hop per
dependency per request, and these only read memory (a token the cache does not hold is looked
up in the thread pool).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPBearer
from starlette.concurrency import run_in_threadpool

from labelwise.server.hardening import FailedTokens
from labelwise.server.runtime import Runtime
from labelwise.store import AnnotatorInfo, ProjectInfo, Store
from labelwise.store.members import is_member
from labelwise.store.tasks import project_info

__all__ = [
    "AdminDep",
    "RuntimeDep",
    "StoreDep",
    "UserDep",
    "get_runtime",
    "member_project",
]


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_store(runtime: RuntimeDep) -> Store:
    return runtime.store


StoreDep = Annotated[Store, Depends(get_store)]


class BearerUser(HTTPBearer):
    """HTTP Bearer authentication that answers with the caller, in one dependency.

    An ``HTTPBearer`` (so the OpenAPI schema declares the scheme) whose call returns the
    annotator the token belongs to, or 401: one dependency to solve per request instead of
    three (the token, the runtime, the user). An address that sent too many unknown tokens
    in the last minute gets 429 with ``Retry-After``, whatever token it sends, until it may
    try again (see :class:`labelwise.server.hardening.FailedTokens`).
    """

    async def __call__(self, request: Request) -> AnnotatorInfo:  # type: ignore[override]
        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "send your token as 'Authorization: Bearer <token>'",
                headers={"WWW-Authenticate": "Bearer"},
            )
        failed: FailedTokens = request.app.state.failed_tokens
        address = request.client.host if request.client is not None else ""
        wait = failed.retry_after(address)
        if wait:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                f"too many unknown tokens from your address: try again in {wait} s",
                headers={"Retry-After": str(wait)},
            )
        runtime: Runtime = request.app.state.runtime
        found = runtime.cached_annotator(token)
        if found is None:
            found = await run_in_threadpool(runtime.annotator, token)
        if found is None:
            failed.failed(address)
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "unknown token: ask an admin for an invitation",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return found


current_user = BearerUser(
    auto_error=False, description="the token you were given (Bearer)", scheme_name="HTTPBearer"
)


UserDep = Annotated[AnnotatorInfo, Depends(current_user)]


async def require_admin(user: UserDep) -> AnnotatorInfo:
    """The caller, when an admin; 403 otherwise."""
    if user.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this needs an admin's token")
    return user


AdminDep = Annotated[AnnotatorInfo, Depends(require_admin)]


def member_project(store: Store, user: AnnotatorInfo, project: str) -> ProjectInfo:
    """The project, when the caller may work on it (admins always); 404 otherwise.

    Annotators get the same 404 for a project that exists without them as for one that does
    not, so project names do not leak.
    """
    try:
        info = project_info(store, project)
    except LookupError:
        info = None
    if info is None or (user.role != "admin" and not is_member(info, user.name)):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no project {project!r} for you")
    return info
