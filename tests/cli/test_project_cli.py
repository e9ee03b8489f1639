"""The loop's command-line faces: project create / set, round run, on a real SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import labelwise.cli.project_cmd
import labelwise.cli.store_cmd  # noqa: F401
from labelwise.store import get_project, init_store
from tests.cli.test_store_cli import one_error_line, run_main, run_ok


@pytest.fixture
def url(tmp_path: Path) -> str:
    rows = ["id,text"] + [
        f"s{i},{'great fun' if i % 2 else 'dull and slow'} film {i}" for i in range(40)
    ]
    (tmp_path / "r.csv").write_text("\n".join(rows) + "\n")
    store = f"sqlite:///{tmp_path / 's.db'}"
    created = run_ok(
        "project", "create", "reviews", "--task", "text", "--labels", "neg,pos", "--store", store
    )
    assert "created" in created
    run_ok("import", str(tmp_path / "r.csv"), "--project", "reviews", "--store", store)
    return store


def test_an_unrunnable_pair_exits_2_naming_what_supplies_it_and_stores_nothing(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run_main(
        capsys,
        "project",
        "set",
        "reviews",
        "--strategy",
        "bald",
        "--model",
        "logreg",
        "--store",
        url,
    )
    message = one_error_line(err)
    assert code == 2 and "needs samples" in message and "'committee'" in message
    store = init_store(url)
    assert "loop" not in get_project(store, "reviews").settings
    store.close()


def test_model_auto_picks_one_that_serves_the_strategy(url: str) -> None:
    out = run_ok(
        "project",
        "set",
        "reviews",
        "--strategy",
        "vote_entropy",
        "--features",
        "hashed",
        "--json",
        "--store",
        url,
    )
    settings = json.loads(out)
    assert settings["model"] == "auto" and settings["resolved_model"] == "committee"


def test_diversity_is_a_project_setting_and_a_bad_value_stores_nothing(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = json.loads(
        run_ok("project", "set", "reviews", "--diversity", "off", "--json", "--store", url)
    )
    assert settings["diversity"] == "off"
    code, err = run_main(
        capsys, "project", "set", "reviews", "--diversity", "sometimes", "--store", url
    )
    assert code == 2 and "diversity must be" in one_error_line(err)
    store = init_store(url)
    assert get_project(store, "reviews").settings["loop"]["diversity"] == "off"
    store.close()


def test_round_run_reports_picks_version_and_timings(url: str) -> None:
    run_ok(
        "project",
        "set",
        "reviews",
        "--strategy",
        "margin",
        "--features",
        "hashed",
        "--batch-size",
        "5",
        "--store",
        url,
    )
    report = json.loads(run_ok("round", "run", "reviews", "--json", "--store", url))
    assert report["number"] == 1 and report["cold_start"] and report["model_version"] is None
    assert len(report["picks"]) == 5 and len(set(report["picks"])) == 5
    assert {"snapshot", "features", "select"} <= set(report["timings"])
    text = run_ok("round", "run", "reviews", "--store", url)
    assert text.startswith("round 2:") and "took:" in text


def test_round_run_on_an_unknown_project_fails_with_one_line(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run_main(capsys, "round", "run", "nope", "--store", url)
    assert code == 1 and "nope" in one_error_line(err)


def test_a_number_project_keeps_its_bounds_and_step(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'n.db'}"
    out = run_ok(
        "project", "create", "ages", "--task", "tabular", "--answer", "number",
        "--min", "0", "--max", "120", "--step", "0.5", "--aggregation", "mean", "--store", store,
    )  # fmt: skip
    assert "numeric answers (min 0, max 120, step 0.5), aggregated by mean" in out
    opened = init_store(store)
    info = get_project(opened, "ages")
    opened.close()
    assert info.answer_kind == "number" and info.label_space == ()
    assert info.settings["answer"] == {"min": 0.0, "max": 120.0, "step": 0.5, "aggregation": "mean"}


def test_a_multilabel_project_takes_its_label_space(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'm.db'}"
    out = run_ok(
        "project", "create", "topics", "--task", "text", "--answer", "labels",
        "--labels", "sports,politics,tech", "--store", store,
    )  # fmt: skip
    assert "label sets over sports, politics, tech" in out
    opened = init_store(store)
    assert get_project(opened, "topics").answer_kind == "labels"
    opened.close()


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--answer", "score"], "--answer must be label, number, labels or spans"),
        (["--answer", "labels", "--labels", "a,b", "--min", "1"], "--min apply to --answer number"),
        (["--answer", "number", "--min", "5", "--max", "1"], "must be below max"),
        (["--answer", "number", "--step", "-1"], "step must be positive"),
        (["--answer", "label", "--labels", "a"], "at least 2 labels"),
    ],
)
def test_bad_answer_options_exit_2_naming_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], problem: str
) -> None:
    store = f"sqlite:///{tmp_path / 'x.db'}"
    code, err = run_main(
        capsys, "project", "create", "x", "--task", "text", *args, "--store", store
    )
    assert code == 2 and problem in one_error_line(err)
