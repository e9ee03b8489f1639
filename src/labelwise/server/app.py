"""``create_app(settings)``: the FastAPI application of ``labelwise serve``.

JSON API under ``/api`` (annotators and admins, Bearer tokens), the two web pages (``/`` for
annotators, ``/admin``) and their static files. The pages themselves are public shells: every
piece of data they show comes from the API with the token the person typed in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from labelwise.errors import InvalidInputError, LabelwiseError
from labelwise.server import routes_admin, routes_review, routes_tasks
from labelwise.server.hardening import BodyLimit, FailedTokens, SecurityHeaders, invalid_fields
from labelwise.server.runtime import Runtime
from labelwise.server.settings import ENV_PREFIX, ServerSettings
from labelwise.store import LeaseError, NotFoundError, Store, open_store

__all__ = ["app_from_env", "create_app", "run_server"]

STATIC = files("labelwise.server") / "static"
#: The tab's icon: a white tick on blue.
FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<rect width="32" height="32" rx="6" fill="#2457d6"/><path d="M8 17l5 5 11-12" fill="none" '
    'stroke="#fff" stroke-width="4" stroke-linecap="round" stroke-linejoin="round"/></svg>'
)


def _error_status(exc: LabelwiseError) -> int:
    if isinstance(exc, NotFoundError):
        return status.HTTP_404_NOT_FOUND
    if isinstance(exc, InvalidInputError):
        return status.HTTP_422_UNPROCESSABLE_CONTENT
    if isinstance(exc, LeaseError):
        return status.HTTP_409_CONFLICT
    return status.HTTP_409_CONFLICT  # the store refused: it does not fit what is stored


def _allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """Every method some route offers at this path (Starlette names only the first route's)."""
    allowed: set[str] = set()
    for route in app.router.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        methods = getattr(route, "methods", None)
        if match != Match.NONE and methods:
            allowed |= set(methods)
    return sorted(allowed)


def create_app(settings: ServerSettings | None = None, store: Store | None = None) -> FastAPI:
    """Build the application; nothing is opened or started before this is called.

    Parameters
    ----------
    settings : ServerSettings, optional
        Default: :meth:`ServerSettings.from_env`.
    store : Store, optional
        An open store to serve (default: open ``settings.store``).
    """
    settings = settings or ServerSettings.from_env()
    runtime = Runtime(store or open_store(settings.store), settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        runtime.start()
        yield
        runtime.close()

    app = FastAPI(
        title="labelwise",
        summary="Active-learning annotation service: the model chooses what people label next.",
        version="1",
        lifespan=lifespan,
        docs_url=None,  # Swagger UI and ReDoc need inline script and a CDN: not under our CSP
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.failed_tokens = FailedTokens(settings.failed_tokens_per_minute, 60.0)
    app.add_middleware(
        BodyLimit,
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_upload_bytes,
    )
    app.add_middleware(SecurityHeaders)  # added last: outermost, so every answer has them

    @app.exception_handler(LabelwiseError)
    async def labelwise_error(_request: Request, exc: LabelwiseError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=_error_status(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = invalid_fields(exc.errors())
        return JSONResponse({"detail": detail}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
            headers["Allow"] = ", ".join(_allowed_methods(app, request))
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)

    app.include_router(routes_tasks.router)
    app.include_router(routes_admin.router)
    app.include_router(routes_review.router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.get("/", include_in_schema=False)
    def annotate_page() -> FileResponse:
        return FileResponse(str(STATIC / "annotate.html"))

    @app.get("/admin", include_in_schema=False)
    def admin_page() -> FileResponse:
        return FileResponse(str(STATIC / "admin.html"))

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:  # for load balancers and start-up checks: no store read
        return {"status": "ok"}

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:  # browsers ask for it on every page
        return Response(FAVICON, media_type="image/svg+xml")

    return app


def app_from_env() -> FastAPI:
    """``create_app()`` with the settings of the ``LABELWISE_*`` environment: what each of
    ``labelwise serve --workers N``'s processes runs (uvicorn's ``factory``)."""
    return create_app(ServerSettings.from_env())


def settings_environment(settings: ServerSettings) -> dict[str, str]:
    """The ``LABELWISE_*`` variables that make :meth:`ServerSettings.from_env` give
    ``settings`` back (how the API processes of ``--workers N`` get theirs)."""
    return {
        ENV_PREFIX + name.upper(): str(value)
        for name, value in settings.model_dump().items()
        if value is not None
    }


def run_server(settings: ServerSettings, store: Store | None = None) -> None:
    """Serve ``create_app(settings, store)`` with uvicorn on ``settings.host:settings.port``.

    With ``settings.workers`` above 1 (PostgreSQL), uvicorn runs that many processes on the
    one port, each building its app from the environment (:func:`app_from_env`) and opening
    its own store; ``store`` is then not used (close it first). No access log (a line per
    request costs more than a label submission's store work); uvicorn's ``auto`` HTTP parser
    and event loop pick httptools and uvloop when they are installed
    (``pip install uvicorn[standard]``), else h11 and asyncio.
    """
    import os

    import uvicorn

    many = settings.workers > 1
    if many:
        os.environ.update(settings_environment(settings))  # the processes inherit it
    uvicorn.run(
        "labelwise.server.app:app_from_env" if many else create_app(settings, store),
        factory=many,
        workers=settings.workers if many else None,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        http="auto",
        loop="auto",
    )
