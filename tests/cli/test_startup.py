"""The command line starts at once: its help imports none of the heavy libraries.

``labelwise --help`` and every command's ``--help`` run in a fresh interpreter, which then
lists the modules it imported; numpy, scikit-learn, pandas, SQLAlchemy, FastAPI, torch and the
like must be imported by the commands that use them, when they run. Modules, not seconds: a
timing test would be at the mercy of a loaded machine.
"""

from __future__ import annotations

import json
import subprocess
import sys

#: Top-level packages whose import costs tenths of a second or more (pydantic is not one of
#: them here: typer itself imports it to convert every option).
HEAVY = frozenset(
    {
        "numpy",
        "scipy",
        "sklearn",
        "pandas",
        "pyarrow",
        "matplotlib",
        "torch",
        "sentence_transformers",
        "transformers",
        "faiss",
        "dask",
        "distributed",
        "joblib",
        "sqlalchemy",
        "alembic",
        "psycopg",
        "fastapi",
        "starlette",
        "uvicorn",
        "httpx",
        "jinja2",
        "PIL",
    }
)

#: Runs each help in turn and prints, per help, the heavy packages imported so far.
SCRIPT = """
import json, sys
from labelwise.cli import main, register_commands, app
import typer.main
heavy = set(json.loads(sys.argv[1]))
seen = {}
register_commands()
names = ["--help"] + [[name, "--help"] for name in typer.main.get_command(app).commands]
for argv in names:
    argv = argv if isinstance(argv, list) else [argv]
    try:
        main(argv)
    except SystemExit:
        pass
    seen[" ".join(argv)] = sorted({m.split(".")[0] for m in sys.modules} & heavy)
print("\\nRESULT " + json.dumps(seen))
"""


def helps_and_their_imports() -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(sorted(HEAVY))],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.rsplit("\nRESULT ", 1)[1])


def test_no_help_imports_a_heavy_library() -> None:
    seen = helps_and_their_imports()
    assert "--help" in seen and "serve --help" in seen and "simulate --help" in seen
    assert {argv: heavy for argv, heavy in seen.items() if heavy} == {}


def test_the_version_is_printed_without_a_heavy_library() -> None:
    script = (
        "import sys\nfrom labelwise.cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "print(sorted({m.split('.')[0] for m in sys.modules}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    version, modules = done.stdout.splitlines()
    assert version == "0.1.0"
    assert not set(eval(modules)) & HEAVY


def test_import_labelwise_serves_its_public_names_on_first_use() -> None:
    script = (
        "import sys, labelwise\n"
        "before = {m.split('.')[0] for m in sys.modules}\n"
        "from labelwise import ActiveLearner, PoolInputs, get_strategy, SklearnModel\n"
        "assert labelwise.strategies.get_strategy is get_strategy\n"
        "print(sorted(before))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert not set(eval(done.stdout)) & HEAVY
