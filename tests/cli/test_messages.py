"""Messages read well: errors one red line printed as written, successes never in error red,
a missing optional package named with the extra that brings it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from labelwise.cli import main

STATIC = Path(__file__).resolve().parents[2] / "src" / "labelwise" / "server" / "static"


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    code = exited.value.code
    captured = capsys.readouterr()
    return (code if isinstance(code, int) else 0 if code is None else 1), captured.out, captured.err


def test_an_error_is_printed_as_written_even_with_brackets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert run_main(capsys, "init", "--store", url)[0] == 0
    code, out, err = run_main(capsys, "status", "--project", "[bold]x[/]", "--store", url)
    assert code == 1 and out == ""
    assert err.startswith("error: ") and "'[bold]x[/]'" in err  # not taken for rich markup
    assert len(err.strip().splitlines()) == 1


def test_success_goes_to_stdout_and_nothing_to_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_main(capsys, "init", "--store", f"sqlite:///{tmp_path / 'x.db'}")
    assert (code, err) == (0, "")
    assert out.startswith("store ready: ")


def test_a_missing_optional_package_is_named_with_its_extra(tmp_path: Path) -> None:
    # sys.modules[name] = None is Python's own way to make an import fail as if not installed
    script = (
        "import sys\nsys.modules['fastapi'] = None\n"
        "from labelwise.cli import main\nmain(['serve', '--port', '0'])"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "needs fastapi, which comes with the server extra" in done.stderr
    assert "pip install 'labelwise[server]'" in done.stderr


def say_calls() -> list[str]:
    """Every ``lw.say(...)`` call of the pages' scripts, as written."""
    calls = []
    for script in sorted(STATIC.glob("*.js")):
        calls += re.findall(r"lw\.say\((.*?)\);", script.read_text())
    return calls


def test_web_messages_that_are_not_errors_are_not_shown_as_errors() -> None:
    calls = say_calls()
    assert len(calls) > 10
    for call in calls:
        reports_an_error = "error.message" in call
        clears = call == '""'  # an empty message shows nothing, in no colour
        assert reports_an_error or clears or call.endswith(('"ok"', '"info"')), call
    css = (STATIC / "style.css").read_text()
    rules = {
        line.split("]")[0].split('"')[1]: line.split("color:")[1].split(";")[0].strip()
        for line in css.splitlines()
        if line.startswith("#message[data-kind=") and "color:" in line
    }
    assert set(rules) == {"error", "ok", "info"}
    assert rules["error"] not in (rules["ok"], rules["info"])  # only errors in the error colour
