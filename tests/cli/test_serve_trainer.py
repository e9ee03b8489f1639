"""``labelwise serve --trainer``: who runs the rounds, refused where it cannot work."""

from __future__ import annotations

from pathlib import Path

import pytest

from labelwise.cli import main


def _refused(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit) as exited:
        main(["serve", *args])
    assert exited.value.code == 1
    return capsys.readouterr().err


def test_a_sqlite_store_refuses_the_worker_trainer_saying_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _refused(capsys, "--trainer", "worker", "--store", f"sqlite:///{tmp_path / 's.db'}")
    assert "SQLite has one writer at a time" in err
    assert not (tmp_path / "s.db").exists()  # nothing opened, nothing made


def test_many_api_processes_refuse_training_themselves(
    capsys: pytest.CaptureFixture[str],
) -> None:
    err = _refused(capsys, "--workers", "2", "--trainer", "server", "--store", "postgresql://h/db")
    assert "drop --trainer server" in err


def test_an_unknown_trainer_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    err = _refused(capsys, "--trainer", "cron")
    assert "'server' or 'worker'" in err and "cron" in err
