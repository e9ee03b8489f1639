"""Help that reads like the best command lines: what matters in it, checked as a snapshot.

Every command's help, as ``labelwise CMD --help`` prints it (through the real entry point, at a
fixed width): no ``<bool>`` on flags, defaults shown, an example under each command that parses
as that command's arguments, and no reStructuredText or rich markup leaking or eaten.
"""

from __future__ import annotations

import shlex
from typing import get_args

import pytest
import typer.main

from labelwise.cli import EXAMPLES, app, main, register_commands

register_commands()
COMMANDS = sorted(typer.main.get_command(app).commands)


def help_of(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """The help as printed, with rich's wrapping and box drawing undone."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--help"])
    assert exited.value.code in (0, None)
    text = capsys.readouterr().out
    for box in "│╭╮╰╯─":
        text = text.replace(box, " ")
    return " ".join(text.split())


@pytest.fixture(autouse=True)
def wide_plain_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "dumb")


def test_every_command_is_listed_with_a_short_help(capsys: pytest.CaptureFixture[str]) -> None:
    text = help_of(capsys)
    for name in COMMANDS:
        assert f" {name} " in text
    assert "Run labelwise COMMAND --help" in text


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_no_bool_type_and_no_markup(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    text = help_of(capsys, command)
    assert "<bool>" not in text
    assert "``" not in text and ":class:" not in text and ":func:" not in text
    assert "--help Show this message and exit." in text


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_shows_an_example_that_parses(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    example = EXAMPLES[command]
    assert f"Example: {example}" in help_of(capsys, command)
    words = shlex.split(example)
    assert words[:2] == ["labelwise", command]
    found = typer.main.get_command(app).commands[command]
    args = words[2:]
    if hasattr(found, "commands"):  # a group's example runs one of its commands
        found, args = found.commands[args[0]], args[1:]
    parsed = found.make_context(command, args)
    assert parsed.params  # options known, values of the right types, nothing missing


def test_simulate_help_shows_the_defaults_of_a_simulation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from labelwise.simulate import SimulationConfig

    text = help_of(capsys, "simulate")
    defaults = SimulationConfig()
    for option, value in [
        ("--dataset", defaults.dataset),
        ("--model", defaults.model),
        ("--strategies", ",".join(defaults.strategies)),
        ("--seeds", len(defaults.seeds)),
        ("--initial", defaults.initial),
        ("--batch-size", defaults.batch_size),
        ("--budget", defaults.budget),
        ("--initial-strategy", defaults.initial_strategy),
        ("--test-size", defaults.test_size),
        ("--target", defaults.target),
        ("--workers", defaults.workers),
        ("--label-column", defaults.label_column),
        ("--text-features", defaults.text_features),
        ("--device", defaults.device),
        ("--out", "runs/simulate"),
    ]:
        after = text.split(f" {option} ", 1)[1]
        assert f"[default: {value}]" in after.split(" --", 1)[0], option


def test_the_choices_the_help_offers_are_the_librarys() -> None:
    from labelwise.cli import select_cmd, store_cmd, stream_cmd
    from labelwise.scale import METHODS
    from labelwise.simulate.config import MODEL_NAMES
    from labelwise.store import EXPORT_FORMATS
    from labelwise.stream.scoring import UNCERTAINTY_KINDS
    from labelwise.stream.simulate import RULES

    assert get_args(store_cmd.ExportFormat) == EXPORT_FORMATS
    assert get_args(select_cmd.Method) == METHODS
    assert get_args(stream_cmd.Rule) == RULES
    assert get_args(stream_cmd.Kind) == UNCERTAINTY_KINDS
    group = typer.main.get_command(app)
    model = next(p for p in group.commands["simulate"].params if p.name == "model")
    assert tuple(model.type_descriptor.choices) == MODEL_NAMES
