"""The HTTP face of the Label Studio ML backend: ``create_app(store, settings)``.

Routes, as Label Studio 1.23 calls them (see :mod:`labelwise.server.labelstudio.backend`):

* ``GET /health`` -> ``{"status": "UP", "model_class": "labelwise", "projects": {id: state}}``
* ``POST /setup {"project", "schema", "hostname", "access_token"}`` -> ``{"model_version"}``
* ``POST /predict {"tasks", "project", "label_config", "params"}`` ->
  ``{"results": [{"result": [...], "score", "model_version"}, ...]}``, one per task, in order
* ``POST /webhook {"action", "project", ...}`` -> at once, what was recorded; training follows
  in the background (:mod:`labelwise.server.labelstudio.trainer`)
* ``POST /train {"project"}``: queue a retrain now; ``GET /versions`` -> ``{"versions": [...]}``

The app's lifespan starts the backend's trainer thread (and the resync of every project the
store knows) and stops it.

A body that is not what the protocol says gets a 422 whose ``detail`` names the problem; an
image that cannot be fetched from where the task says it lives, a 502 naming the task.

Guards (:mod:`labelwise.server.labelstudio.security`): with ``basic_auth_user`` and
``basic_auth_pass`` set, every route but ``/health`` and ``/`` answers 401 without them; a
``/setup`` or a task that names another host than the configured Label Studio gets a 403 and
nothing is sent; a webhook for a project no ``/setup`` connected gets a 404; a body over
``max_body_bytes``, a 413.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Body, FastAPI, Request
from fastapi.responses import JSONResponse

from labelwise.errors import InvalidInputError, LabelwiseError, StoreError
from labelwise.server.labelstudio.backend import LabelStudioBackend
from labelwise.server.labelstudio.images import ImageFetchError
from labelwise.server.labelstudio.schemas import (
    HealthResponse,
    PredictRequest,
    PredictResponse,
    SetupRequest,
    SetupResponse,
    TrainRequest,
    VersionsResponse,
)
from labelwise.server.labelstudio.security import (
    BasicAuthGuard,
    BodyLimit,
    ForeignHostError,
    UnknownProjectError,
    exposure_warning,
)
from labelwise.server.labelstudio.settings import BackendSettings
from labelwise.store import Store, init_store

logger = logging.getLogger(__name__)

MODEL_CLASS = "labelwise"


def create_app(store: Store | str | None = None, settings: BackendSettings | None = None) -> Any:
    """Build the FastAPI app of the ML backend over ``store`` (an open store or a URL).

    A URL is initialised (created or upgraded) with :func:`labelwise.store.init_store`. The
    settings' credentials and body limit wrap every route (see the module docstring).
    """
    opened = store if isinstance(store, Store) else init_store(store)
    backend = LabelStudioBackend(opened, settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        backend.start()
        try:
            yield
        finally:
            backend.stop()

    app = FastAPI(title="labelwise ML backend for Label Studio", version="1", lifespan=lifespan)
    app.state.backend = backend
    app.add_middleware(BodyLimit, max_bytes=backend.settings.max_body_bytes)
    auth = backend.settings.basic_auth()
    if auth is not None:  # added last: it runs first, before any body is read
        app.add_middleware(BasicAuthGuard, auth=auth)

    @app.exception_handler(ForeignHostError)
    async def _foreign(_request: Request, exc: ForeignHostError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=403)

    @app.exception_handler(UnknownProjectError)
    async def _unknown(_request: Request, exc: UnknownProjectError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(InvalidInputError)
    async def _invalid(_request: Request, exc: InvalidInputError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(StoreError)
    async def _store(_request: Request, exc: StoreError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(ImageFetchError)
    async def _fetch(_request: Request, exc: ImageFetchError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=502)

    @app.exception_handler(LabelwiseError)
    async def _other(_request: Request, exc: LabelwiseError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.get("/")
    @app.get("/health")
    def health() -> HealthResponse:
        return HealthResponse(status="UP", model_class=MODEL_CLASS, projects=backend.health())

    @app.post("/setup")
    def setup(body: SetupRequest) -> SetupResponse:
        version = backend.setup(
            body.project, body.label_schema, body.hostname or "", body.access_token or ""
        )
        return SetupResponse(model_version=version)

    @app.post("/predict")
    def predict(body: PredictRequest) -> PredictResponse:
        results = backend.predict(body.tasks, body.project, body.label_config)
        return PredictResponse.model_validate({"results": results})

    @app.post("/webhook")
    def webhook(body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        return backend.webhook(body)

    @app.post("/train")
    def train(body: TrainRequest) -> dict[str, Any]:
        return backend.train(body.project, body.label_config)

    @app.get("/versions")
    def versions(project: str | None = None) -> VersionsResponse:
        return VersionsResponse(versions=backend.versions(project), model_class=MODEL_CLASS)

    return app


def serve_backend(
    store: Store | str | None = None,
    settings: BackendSettings | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 9090,
) -> None:
    """Serve :func:`create_app` with uvicorn until interrupted.

    Logs a warning when the backend has no credentials and ``host`` is not a loopback address.
    """
    import uvicorn

    app = create_app(store, settings)
    warning = exposure_warning(host, app.state.backend.settings.basic_auth())
    if warning:
        logger.warning(warning)
    uvicorn.run(app, host=host, port=port, log_level="info")
