"""Annotators' gold standing in a spans project: a gold document counts as answered right by its
span F1 (:func:`labelwise.store.gold_credit`), in another order than its gold label too; SQLite
and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from labelwise.controller import reweight_by_gold
from labelwise.store import Store, init_store
from tests.store.databases import BACKENDS, fresh_database_url
from tests.store.test_gold_credit import answer_both, spans_gold_project


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    for url in fresh_database_url(request.param, tmp_path):
        opened = init_store(url)
        yield opened
        opened.close()


def test_gold_standing_counts_gold_documents_by_span_f1(store: Store, tmp_path: Path) -> None:
    spans_gold_project(store, tmp_path)
    answer_both(store)
    standing = {s.annotator: s for s in reweight_by_gold(store, "p", threshold=0.5).values()}
    assert (standing["good"].answered, standing["good"].correct) == (2, 2)
    assert (standing["poor"].answered, standing["poor"].correct) == (2, 0)
    assert standing["good"].weight > standing["poor"].weight


def test_a_stricter_gold_f1_lowers_the_standing(store: Store, tmp_path: Path) -> None:
    spans_gold_project(store, tmp_path, {"answer": {"gold_f1": 1.0}})
    answer_both(store)
    standing = {s.annotator: s for s in reweight_by_gold(store, "p", threshold=0.5).values()}
    assert standing["good"].accuracy == 0.5
