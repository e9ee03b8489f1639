"""``labelwise simulate``: the issue's flags, a config file, and one red line for errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labelwise.cli import main

FLAGS = [
    "--dataset",
    "wine",
    "--model",
    "logreg",
    "--strategies",
    "random,margin",
    "--seeds",
    "2",
    "--initial",
    "10",
    "--batch-size",
    "10",
    "--budget",
    "30",
    "--test-size",
    "0.3",
    "--initial-strategy",
    "balanced",
    "--target",
    "0.9",
    "--workers",
    "1",
    "--quiet",
]


def test_simulate_writes_the_outputs_with_the_issue_flags(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as done:
        main(["simulate", *FLAGS, "--out", str(tmp_path)])
    assert done.value.code in (0, None)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["config"]["initial_strategy"] == "balanced"
    assert summary["config"]["target"] == 0.9
    assert "90%" in summary["strategies"]["margin"]["labels_to_target"]
    assert (tmp_path / "learning_curve.png").stat().st_size > 10_000


def test_flags_override_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "run.toml"
    out = tmp_path / "from-file"
    config.write_text(
        f'dataset = "wine"\nstrategies = ["margin"]\nseeds = 1\ninitial = 10\nbatch_size = 10\n'
        f'budget = 50\nfull_data = false\nout = "{out}"\n'
    )
    with pytest.raises(SystemExit):
        main(["simulate", "--config", str(config), "--budget", "20", "--quiet"])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["budget"] == 20 and summary["config"]["seeds"] == [0]


def test_an_unknown_dataset_is_one_red_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main(["simulate", "--dataset", "nope", "--out", str(tmp_path), "--quiet"])
    assert done.value.code == 1
    err = capsys.readouterr().err
    assert "unknown dataset 'nope'" in err and "Traceback" not in err


def test_seeds_take_a_list_and_no_baseline_runs_only_the_named(tmp_path: Path) -> None:
    flags = list(FLAGS)
    flags[flags.index("--seeds") + 1] = "3,5"
    flags[flags.index("--strategies") + 1] = "margin"
    with pytest.raises(SystemExit) as done:
        main(["simulate", *flags, "--no-baseline", "--no-full-data", "--out", str(tmp_path)])
    assert done.value.code in (0, None)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["config"]["seeds"] == [3, 5]
    assert list(summary["strategies"]) == ["margin"]


@pytest.mark.parametrize(
    ("text", "seeds"), [("4", 4), ("2-4", (2, 3, 4)), ("7,1", (7, 1)), (" 3 ", 3)]
)
def test_seed_text_reads_as_a_count_a_range_or_a_list(text: str, seeds: object) -> None:
    from labelwise.simulate.config import parse_seeds

    assert parse_seeds(text) == seeds


@pytest.mark.parametrize("text", ["three", "5-2", "1,x"])
def test_bad_seed_text_is_refused_by_name(text: str) -> None:
    from labelwise.errors import InvalidInputError
    from labelwise.simulate.config import parse_seeds

    with pytest.raises(InvalidInputError, match="seeds"):
        parse_seeds(text)


def test_models_compares_models_and_names_the_fewest_labels_configuration(tmp_path: Path) -> None:
    flags = [f for f in FLAGS if f not in ("--model", "logreg")]
    with pytest.raises(SystemExit) as done:
        main(["simulate", *flags, "--models", "logreg,rf", "--out", str(tmp_path)])
    assert done.value.code in (0, None)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["config"]["models"] == ["logreg", "rf"]
    configurations = set(summary["configurations"])
    assert configurations == {"logreg+random", "logreg+margin", "rf+random", "rf+margin"}
    report = (tmp_path / "report.md").read_text()
    for level, best in summary["best"].items():
        if best is not None:
            assert best["configuration"] in configurations
            assert f"**{level}**: {best['configuration']} needed the fewest labels" in report
    for model in ("logreg", "rf"):  # each model's own report beside the comparison
        assert (
            json.loads((tmp_path / model / "summary.json").read_text())["config"]["model"] == model
        )


def test_an_unknown_model_in_models_is_named(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as done:
        main(["simulate", *FLAGS, "--models", "logreg,xgb", "--out", str(tmp_path)])
    assert done.value.code != 0
    assert "--models" in capsys.readouterr().err
