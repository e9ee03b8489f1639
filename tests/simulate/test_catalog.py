"""The data-set catalog: every name loads with the task type it claims, installed or not."""

from __future__ import annotations

import importlib.util

import pytest

from labelwise.datasets import available_datasets
from labelwise.datasets.tasks import TASK_DATASETS
from labelwise.simulate.catalog import dataset_catalog, dataset_task
from labelwise.spans.corpora import available_ner_corpora


def test_the_catalog_holds_every_loader_once_with_its_task() -> None:
    entries = dataset_catalog()
    names = [entry.name for entry in entries]
    assert len(names) == len(set(names))
    expected = {name: "classification" for name in available_datasets()}
    expected |= {name: task for name, (task, _) in TASK_DATASETS.items()}
    expected |= {corpus.name: "spans" for corpus in available_ner_corpora()}
    assert {entry.name: entry.task for entry in entries} == expected


def test_installed_follows_the_package() -> None:
    by_name = {entry.name: entry for entry in dataset_catalog()}
    assert by_name["digits"].installed  # scikit-learn is a dependency
    hironsan = importlib.util.find_spec("hironsan") is not None
    assert by_name["hironsan"].installed is hironsan


@pytest.mark.parametrize(
    ("name", "task"),
    [
        ("digits", "classification"),
        ("diabetes", "regression"),
        ("yeast", "multilabel"),
        ("wnut16", "spans"),
        ("my_file.csv", None),
    ],
)
def test_dataset_task(name: str, task: str | None) -> None:
    assert dataset_task(name) == task
