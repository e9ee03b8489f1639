"""The arrows of DESIGN.md, checked statically: lower layers never import upper ones."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "labelwise"

#: The layers of DESIGN.md, lowest first: a module may import its own layer and those below it,
#: never one above. The one list every arrow is derived from.
LAYERS: list[tuple[str, ...]] = [
    ("errors", "_lazy", "_random", "validation"),
    ("strategies",),
    ("quality",),
    ("datasets",),
    ("models",),
    ("spans",),  # taggers, sequence strategies, span formats (above models: MC Dropout)
    ("store",),
    ("loop",),  # the round engine: the one active-learning loop
    ("learner",),
    ("simulate",),
    ("stream",),
    ("scale",),
    ("controller",),
    ("server",),
    ("cli",),
]
LEVEL = {package: level for level, names in enumerate(LAYERS) for package in names}
#: For each package, the third-party modules its files may import.
ALLOWED_THIRD_PARTY = {
    "strategies": {"numpy", "scipy"},
    "quality": {"numpy", "scipy"},
}
STDLIB = {
    "__future__",
    "abc",
    "collections",
    "dataclasses",
    "typing",
    "math",
    "functools",
    "inspect",
    "itertools",
    "warnings",
    "enum",
    "concurrent",
    "os",
    "heapq",
    "numbers",
}


def imports_of(path: Path) -> list[tuple[str, bool]]:
    """(module, at_module_level) for every import in a file."""
    tree = ast.parse(path.read_text())
    top_level = set(map(id, tree.body))
    found: list[tuple[str, bool]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in top_level) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, id(node) in top_level))
    return found


def files_of(package: str) -> list[Path]:
    base = SRC / package
    return sorted(base.rglob("*.py")) if base.is_dir() else [SRC / f"{package}.py"]


def test_every_package_has_a_layer() -> None:
    packages = {p.stem if p.is_file() else p.name for p in SRC.iterdir()}
    packages -= {"__init__", "__pycache__", "py"}
    assert packages <= set(LEVEL), f"place these in LAYERS: {sorted(packages - set(LEVEL))}"


@pytest.mark.parametrize("package", sorted(LEVEL))
def test_no_upward_imports(package: str) -> None:
    for path in files_of(package):
        if not path.exists():
            continue
        for module, _ in imports_of(path):
            parts = module.split(".")
            if parts[0] == "labelwise" and len(parts) > 1 and parts[1] in LEVEL:
                assert LEVEL[parts[1]] <= LEVEL[package], (
                    f"{path}: imports {module}, a layer above {package!r} (see LAYERS)"
                )


@pytest.mark.parametrize("package", sorted(ALLOWED_THIRD_PARTY))
def test_pure_packages_import_only_numpy_and_scipy(package: str) -> None:
    for path in files_of(package):
        for module, _ in imports_of(path):
            root = module.split(".")[0]
            assert root in {"labelwise", *ALLOWED_THIRD_PARTY[package], *STDLIB}, (
                f"{path}: imports {module}"
            )


def test_nothing_below_the_server_imports_fastapi_and_core_never_imports_torch_eagerly() -> None:
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).parts
        for module, top_level in imports_of(path):
            root = module.split(".")[0]
            if rel[0] != "server":
                assert root not in {"fastapi", "starlette", "uvicorn"}, f"{path}: imports {module}"
            if top_level and root == "torch":
                assert rel[0] == "models" and "torch" in path.name, (
                    f"{path}: imports torch at module level"
                )


def test_import_labelwise_needs_neither_torch_nor_fastapi() -> None:
    """Nor scikit-learn or pandas: the model adapters load on first use of their names."""
    import subprocess
    import sys

    heavy = ("torch", "fastapi", "sqlalchemy", "sklearn", "pandas")
    code = (
        "import sys, labelwise, labelwise.strategies;"
        f"bad = [m for m in {heavy!r} if m in sys.modules];"
        "assert not bad, bad;"
        "from labelwise import ActiveLearner, SklearnModel;"
        "assert ActiveLearner.__module__ == 'labelwise.learner', ActiveLearner;"
        "assert labelwise.compute_inputs is labelwise.models.compute_inputs"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_an_unknown_name_of_labelwise_is_an_attribute_error() -> None:
    import labelwise

    with pytest.raises(AttributeError, match="no_such_name"):
        labelwise.no_such_name  # noqa: B018
