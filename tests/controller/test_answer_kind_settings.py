"""Loop settings by answer kind: a regression or multi-label project takes the strategies of its
task and refuses the others, naming the ones that fit (library, command line, admin API)."""

from __future__ import annotations

from pathlib import Path

import pytest

import labelwise.cli.project_cmd  # noqa: F401  (registers the project commands)
from labelwise.controller import Controller, loop_settings
from labelwise.controller.settings import ANSWER_TASKS, check_strategy_for
from labelwise.errors import InvalidInputError
from labelwise.store import create_project, get_project, init_store
from labelwise.strategies import available_strategies, get_strategy, strategy_tasks
from tests.cli.test_store_cli import one_error_line, run_main, run_ok


def test_every_registered_strategy_is_accepted_exactly_for_the_kinds_whose_task_it_serves() -> None:
    for name in available_strategies(task=None):
        tasks = strategy_tasks(get_strategy(name))  # the reference: the strategy's own needs
        for kind, task in ANSWER_TASKS.items():
            if task in tasks:
                check_strategy_for(name, kind)
            else:
                with pytest.raises(InvalidInputError) as refused:
                    check_strategy_for(name, kind)
                message = str(refused.value)
                assert repr(name) in message and task in message
                for fitting in available_strategies(task):  # type: ignore[arg-type]
                    assert fitting in message


def test_unknown_strategy_and_unknown_kind_are_named() -> None:
    with pytest.raises(InvalidInputError, match="unknown strategy 'nope'"):
        check_strategy_for("nope", "number")
    with pytest.raises(InvalidInputError, match="answer kind must be one of"):
        check_strategy_for("margin", "score")


def test_loop_settings_check_a_changed_strategy_against_the_kind_only() -> None:
    assert loop_settings({}, answer_kind="number", strategy="emcm").strategy == "emcm"
    assert loop_settings({}, answer_kind="labels", strategy="mmc").strategy == "mmc"
    with pytest.raises(InvalidInputError, match="qbc_variance"):
        loop_settings({}, answer_kind="number", strategy="entropy")
    # the stored strategy sent back unchanged (a settings form) is not a change: accepted
    assert loop_settings({}, answer_kind="number", strategy="margin").strategy == "margin"
    stored_emcm = {"loop": {"strategy": "emcm"}}
    with pytest.raises(InvalidInputError, match="does not serve a 'number' project"):
        loop_settings(stored_emcm, answer_kind="number", strategy="margin")
    with pytest.raises(InvalidInputError, match="multilabel_adaptive"):
        loop_settings({}, answer_kind="labels", strategy="emcm")
    with pytest.raises(InvalidInputError, match="does not serve a 'label' project"):
        loop_settings({}, answer_kind="label", strategy="emcm")
    # the default strategy stored for a number project is not re-checked on other changes
    assert loop_settings({}, answer_kind="number", batch_size=5).batch_size == 5
    # a stored regression strategy reads back without the kind (the worker, the pages)
    stored = {"loop": loop_settings({}, answer_kind="number", strategy="gsy").to_dict()}
    settings = loop_settings(stored)
    assert settings.strategy == "gsy"
    assert settings.resolved_model == "bootstrap_ridge"
    assert settings.model_for("number") == "bootstrap_ridge"
    assert loop_settings({}).model_for("label") == "logreg"
    assert loop_settings({}, strategy="mmc").resolved_model == "one_vs_rest"


def test_controller_configure_refuses_and_stores_nothing(tmp_path: Path) -> None:
    store = init_store(f"sqlite:///{tmp_path / 's.db'}")
    try:
        create_project(store, "n", [], "tabular_classification", answer_kind="number")
        controller = Controller(store, "n")
        with pytest.raises(InvalidInputError, match="choose one of"):
            controller.configure(strategy="entropy")
        assert "loop" not in get_project(store, "n").settings
        assert controller.configure(strategy="gp_std").strategy == "gp_std"
        assert get_project(store, "n").settings["loop"]["strategy"] == "gp_std"
    finally:
        store.close()


def _project(tmp_path: Path, kind: str) -> str:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    labels = ["--labels", "a,b,c"] if kind == "labels" else []
    run_ok("project", "create", "p", "--task", "tabular", "--answer", kind, *labels, "--store", url)
    return url


@pytest.mark.parametrize(
    ("kind", "good", "bad", "model"),
    [
        ("number", "emcm", "entropy", "bootstrap_ridge"),
        ("labels", "label_cardinality", "qbc_variance", "one_vs_rest"),
    ],
)
def test_cli_project_set_takes_the_kinds_strategies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, good: str, bad: str, model: str
) -> None:
    url = _project(tmp_path, kind)
    out = run_ok("project", "set", "p", "--strategy", good, "--store", url)
    assert f"strategy {good}, model {model}" in out
    code, err = run_main(capsys, "project", "set", "p", "--strategy", bad, "--store", url)
    message = one_error_line(err)
    assert code == 2 and f"strategy {bad!r} does not serve" in message and good in message
    store = init_store(url)
    assert (
        get_project(store, "p").settings["loop"]["strategy"] == good
    )  # the refusal stored nothing
    store.close()
