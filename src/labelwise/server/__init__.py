"""labelwise as a web service: the JSON API, the annotator web UI and the Label Studio ML backend.

``create_app(settings)`` builds the annotation service (FastAPI is imported only then).
"""

from __future__ import annotations

from typing import Any

__all__ = ["ServerSettings", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from labelwise.server.app import create_app

        return create_app
    if name == "ServerSettings":
        from labelwise.server.settings import ServerSettings

        return ServerSettings
    raise AttributeError(f"module 'labelwise.server' has no attribute {name!r}")
