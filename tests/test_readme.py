"""The README's library quickstart runs as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def quickstart_code() -> str:
    """The first python code block under the "## Quickstart (library)" heading."""
    text = README.read_text()
    section = text.split("## Quickstart (library)", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "no python block under '## Quickstart (library)'"
    return match.group(1)


def test_library_quickstart_runs_and_learns(capsys) -> None:
    exec(compile(quickstart_code(), str(README), "exec"), {"__name__": "__readme__"})
    printed = capsys.readouterr().out
    labels, accuracy = re.search(r"(\d+) labels, accuracy ([\d.]+)", printed).groups()
    assert int(labels) == 120
    assert float(accuracy) > 0.85
