"""Quality control stays a leaf: numpy, scipy and the lowest layer (labelwise.errors, the
shared rng rule labelwise._random and the lazy names of labelwise._lazy) only (DESIGN.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import labelwise.quality

PACKAGE = Path(labelwise.quality.__file__).resolve().parent
ALLOWED_ROOTS = {"numpy", "scipy", "__future__", "collections", "dataclasses", "typing"}
ALLOWED_LABELWISE = {
    "labelwise.errors",
    "labelwise._random",
    "labelwise._lazy",
    "labelwise.quality",
}


def test_quality_imports_only_numpy_scipy_and_labelwise_errors() -> None:
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                if name.startswith("labelwise"):
                    assert any(name.startswith(ok) for ok in ALLOWED_LABELWISE), (path, name)
                else:
                    assert name.split(".")[0] in ALLOWED_ROOTS, (path, name)
