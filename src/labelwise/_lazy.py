"""Names of a package loaded on first use (PEP 562), so that importing it stays light."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_attributes(package: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """A module-level ``__getattr__`` for ``package`` serving ``name`` from ``names[name]``.

    The defining module is imported on the first access of one of its names; a name that maps
    to the submodule ``package.name`` itself is served as that module. Any other name is an
    ``AttributeError`` naming ``package``, as Python's own would.
    """

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = import_module(names[name])
        if names[name] == f"{package}.{name}":
            return module
        return getattr(module, name)

    return __getattr__
