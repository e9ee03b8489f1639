"""``labelwise simulate --task spans``: span-F1 curves of sequence strategies on a shipped NER
corpus, written as the other tasks' report (rounds.csv with span_f1, summary, report, PNG)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import labelwise.cli.datasets_cmd  # registers the command
import labelwise.cli.simulate_cmd  # noqa: F401 - registers the command
from labelwise.cli import app, main

pytest.importorskip("pycrfsuite")
pytest.importorskip("hironsan")


@pytest.mark.slow
def test_spans_simulation_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["simulate", "--task", "spans", "--dataset", "hironsan", "--strategies", "mnlp"]
    args += ["--seeds", "2", "--initial", "10", "--batch-size", "10", "--budget", "30"]
    args += ["--pool-size", "80", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    with (out / "rounds.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    # random (the baseline) and mnlp, 2 seeds, fits at 10, 20, 30 labeled sentences
    assert len(rows) == 2 * 2 * 3
    assert {r["strategy"] for r in rows} == {"random", "mnlp"}
    assert sorted({int(r["n_labels"]) for r in rows}) == [10, 20, 30]
    assert all(0.0 <= float(r["span_f1"]) <= 1.0 for r in rows)
    assert max(float(r["span_f1"]) for r in rows) > 0  # a CRF on 30 sentences finds entities
    summary = json.loads((out / "summary.json").read_text())
    assert summary["metric"] == "span_f1" and summary["dataset"] == "hironsan"
    mnlp = summary["strategies"]["mnlp"]
    assert mnlp["auc"]["n"] == 2
    # the paired difference is computed from the same curves the CSV holds
    areas = {
        name: [summary["strategies"][name]["auc"]["per_seed"][s] for s in ("0", "1")]
        for name in ("random", "mnlp")
    }
    expected = sum(a - b for a, b in zip(areas["mnlp"], areas["random"], strict=True)) / 2
    assert mnlp["auc_minus_random"]["mean"] == pytest.approx(expected)
    assert "| mnlp |" in (out / "report.md").read_text()
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--dataset", "digits"], "NER corpus"),
        (["--strategies", "margin"], "unknown sequence strategies"),
    ],
)
def test_bad_span_options_are_named(
    extra: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(["simulate", "--task", "spans", "--out", str(tmp_path), *extra])
    assert exited.value.code != 0
    assert message in capsys.readouterr().err


def test_a_span_corpus_runs_the_span_simulation_without_task(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["simulate", "--dataset", "hironsan", "--seeds", "1", "--initial", "10"]
    args += ["--batch-size", "10", "--budget", "20", "--pool-size", "60", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    header = (out / "rounds.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",")[-1] == "span_f1"
    assert json.loads((out / "summary.json").read_text())["strategies"].keys() == {
        "random",
        "mnlp",
    }


def test_datasets_lists_the_span_corpora_as_json() -> None:
    result = CliRunner().invoke(app, ["datasets", "--task", "spans", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert {d["name"] for d in listed} == {"wnut16", "hironsan"}
    assert {d["task"] for d in listed} == {"spans"}
    assert all(d["installed"] for d in listed)  # the spans extra installs both packages
