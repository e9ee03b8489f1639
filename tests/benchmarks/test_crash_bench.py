"""The crash run on a real PostgreSQL server: three SIGKILLs of API processes or the trainer
while annotators label, and nothing acknowledged lost, nothing left half done."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PG_URL_VARIABLE = "LABELWISE_TEST_PG_URL"


@pytest.mark.slow
@pytest.mark.postgres
def test_three_kills_lose_no_acknowledged_answer_and_leave_nothing_half_done(
    tmp_path: Path,
) -> None:
    server = os.environ.get(PG_URL_VARIABLE)
    if not server:
        pytest.skip(f"the crash run needs PostgreSQL: set {PG_URL_VARIABLE}")
    out = tmp_path / "crash.json"
    argv = ["--store", server, "--kills", "3", "--pool", "2000", "--json", str(out)]
    argv += ["--retrain-every", "10", "--gap", "1.5", "--seed", "9"]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.crash_bench", *argv],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=Path(__file__).resolve().parents[2],
    )
    found = json.loads(out.read_text())
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert found["kills"] == 3 and len(found["restarts"]) == 3
    assert found["acknowledged"] > 0
    assert found["missing"] == []
    assert found["integrity"] == []
    assert found["expired_held_after_lease_call"] == 0
    assert found["leases_past_length"] == 0
    assert found["half_done_rounds"] == []
    assert found["rounds"] >= 1
    assert {r["target"].split("-")[0] for r in found["restarts"]} == {"api", "trainer"}
    assert all(r["seconds"] > 0 for r in found["restarts"])
    assert found["ok"] is True
