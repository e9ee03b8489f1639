"""A round's model kept in the store and served by a process that did not train it.

The trainer and the "API process" are two :class:`Controller` objects, each on its own
:class:`Store` object over one URL (SQLite file, and PostgreSQL when LABELWISE_TEST_PG_URL is
set): the API side never runs a round, so each suggestion it makes comes from the store.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select, update

from labelwise.controller import Controller
from labelwise.controller.models import build_model, build_task_model
from labelwise.controller.published import (
    LAYOUT,
    StoredModelError,
    check_format,
    dump_model,
    load_model,
    publishable,
)
from labelwise.store import (
    SampleRecord,
    Store,
    add_annotator,
    import_samples,
    init_store,
    lease_next_task,
    list_samples,
    open_store,
    submit_annotation,
)
from labelwise.store.schema import RoundModel
from tests.server.conftest import write_project_csv
from tests.store.databases import BACKENDS, fresh_database_url


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from fresh_database_url(request.param, tmp_path)


@pytest.fixture
def trainer(url: str, tmp_path: Path) -> Iterator[Controller]:
    """Project ``p`` (60 reviews to label, 20 held out) after a cold round and a fitted one."""
    store = init_store(url)
    import_samples(
        store, write_project_csv(tmp_path / "p.csv", 60, 20, 0), "p", labels=["neg", "pos"]
    )
    add_annotator(store, "a")
    controller = Controller(store, "p")
    controller.configure(batch_size=10, stop_kappa=None, features="hashed")
    controller.run_round()  # cold: no model
    label_some(store, 8)
    assert controller.run_round().model_version is not None
    yield controller
    store.close()


@pytest.fixture
def api(url: str, trainer: Controller) -> Iterator[Controller]:
    """Another process's controller of ``p``: a store object of its own, no round run."""
    store = open_store(url)
    yield Controller(store, "p", model_check_seconds=0)
    store.close()


def label_some(store: Store, n: int) -> None:
    for _ in range(n):
        lease = lease_next_task(store, "p", "a")
        assert lease is not None
        label = "pos" if int(lease.external_id[1:]) % 2 else "neg"
        submit_annotation(store, lease.task_id, "a", label)


def pool(store: Store) -> list[SampleRecord]:
    return list_samples(store, "p", split="pool")[:12]


def assert_same_guesses(api: Controller, trainer: Controller, number: int) -> None:
    for sample in pool(api.store):
        mine, theirs = api.guess(sample), trainer.guess(sample)
        assert mine is not None and theirs is not None
        assert (mine.label, mine.round) == (theirs.label, theirs.round) == (mine.label, number)
        assert mine.probability == pytest.approx(theirs.probability, abs=1e-12)


def test_an_api_process_suggests_what_the_trainers_model_does(
    api: Controller, trainer: Controller
) -> None:
    assert api.model_round is None  # nothing in memory: it trained nothing
    assert_same_guesses(api, trainer, 2)
    assert api.model_round == 2


def test_an_api_process_switches_to_the_next_rounds_model(
    api: Controller, trainer: Controller
) -> None:
    assert_same_guesses(api, trainer, 2)
    label_some(trainer.store, 8)
    trainer.run_round()
    assert_same_guesses(api, trainer, 3)
    label_some(trainer.store, 8)
    trainer.run_round()
    assert_same_guesses(api, trainer, 4)
    with trainer.store.read() as session:
        kept = session.scalars(select(RoundModel.round_number).order_by(RoundModel.round_number))
        assert list(kept) == [3, 4]  # round 2's is gone


def test_the_store_is_asked_at_most_every_check_seconds(
    api: Controller, trainer: Controller
) -> None:
    sample = pool(api.store)[0]
    slow = Controller(api.store, "p")  # the default: a second between reads of the store
    first = slow.guess(sample)
    assert first is not None and first.round == 2
    label_some(trainer.store, 8)
    trainer.run_round()
    again = slow.guess(sample)
    assert again is not None and again.round == 2  # asked too recently: the model it holds
    slow._stored.check_seconds = 0
    latest = slow.guess(sample)
    assert latest is not None and latest.round == 3


def test_the_trainer_serves_its_own_model_without_reading_the_bytes(
    trainer: Controller, caplog: pytest.LogCaptureFixture
) -> None:
    trainer._stored.check_seconds = 0
    _corrupt(trainer.store, data=b"garbage")  # it would be refused if it were read
    with caplog.at_level(logging.WARNING, logger="labelwise.controller.published"):
        found = trainer.guess(pool(trainer.store)[0])
    assert found is not None and found.round == 2
    assert trainer._stored.loaded is None and not caplog.records


def test_a_restarted_trainer_serves_the_stored_model_at_once(url: str, trainer: Controller) -> None:
    store = open_store(url)
    try:
        restarted = Controller(store, "p")
        found = restarted.guess(pool(store)[0])
        assert found is not None and found.round == 2
    finally:
        store.close()


def _corrupt(store: Store, **values: object) -> None:
    with store.write() as session:
        session.execute(update(RoundModel).values(**values))


@pytest.mark.parametrize(
    ("values", "said"),
    [
        ({"data": b"not a pickle"}, "cannot be read"),
        ({"format": "labelwise-model/99"}, "'labelwise-model/99'"),
        ({"format": f"{LAYOUT} scikit-learn/0.0.1"}, "scikit-learn 0.0.1 there"),
        ({"features": "minilm-384"}, "reads minilm-384 features, this process makes hashed"),
    ],
    ids=["corrupt", "layout", "versions", "features"],
)
def test_a_stored_model_this_process_cannot_use_gives_no_guess_and_one_log_line(
    api: Controller,
    caplog: pytest.LogCaptureFixture,
    values: dict[str, object],
    said: str,
) -> None:
    _corrupt(api.store, **values)
    with caplog.at_level(logging.WARNING, logger="labelwise.controller.published"):
        guesses = [api.guess(sample) for sample in pool(api.store)]
    assert guesses == [None] * len(guesses)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and said in lines[0] and "round 2" in lines[0], lines


def test_the_next_good_model_is_served_after_a_refused_one(
    api: Controller, trainer: Controller
) -> None:
    _corrupt(api.store, data=b"not a pickle")
    assert api.guess(pool(api.store)[0]) is None
    label_some(trainer.store, 8)
    trainer.run_round()
    assert_same_guesses(api, trainer, 3)


# the bytes themselves ---------------------------------------------------------------------


def _service_models() -> list[tuple[str, object, object, object]]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    labels = np.where(X[:, 0] > 0, "pos", "neg").astype(object)
    multi = np.stack([X[:, 0] > 0, X[:, 1] > 0], axis=1).astype(np.int64)
    cases = [
        ("logreg", build_model("logreg", ["neg", "pos"], 5, 0), X, labels),
        ("committee", build_model("committee", ["neg", "pos"], 5, 0), X, labels),
        ("number", build_task_model("number", 0), X, X[:, 0] * 2.0),
        ("labels", build_task_model("labels", 0), X, multi),
    ]
    try:
        import pycrfsuite  # noqa: F401

        words = [["Ann", "went", "to", "Paris"], ["Bob", "saw", "Rome"]] * 5
        tags = [["B-PER", "O", "O", "B-LOC"], ["B-PER", "O", "B-LOC"]] * 5
        cases.append(("spans", build_task_model("spans", 0), words, tags))
    except ImportError:
        pass
    return cases


def _predictions(model: object, X: object) -> object:
    for method in ("predict_proba", "predict_label_proba", "marginals", "predict"):
        if hasattr(model, method):
            return getattr(model, method)(X)
    raise AssertionError(f"{type(model).__name__} predicts nothing")


@pytest.mark.parametrize(
    ("name", "model", "X", "y"), _service_models(), ids=[c[0] for c in _service_models()]
)
def test_every_service_model_reads_back_predicting_the_same(
    name: str, model: object, X: object, y: object
) -> None:
    model.fit(X, y)  # type: ignore[attr-defined]
    blob = dump_model(model, "test-features")
    assert blob.format.startswith(LAYOUT + " ") and "labelwise/" in blob.format
    check_format(blob.format)  # this process reads what it writes
    again = load_model(blob)
    assert again is not model and type(again) is type(model)
    before, after = _predictions(model, X), _predictions(again, X)
    if isinstance(before, list):
        assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    else:
        assert np.array_equal(np.asarray(before), np.asarray(after))


def test_the_format_names_the_libraries_the_model_holds() -> None:
    from sklearn import __version__ as sklearn_version

    model = build_model("logreg", ["neg", "pos"], 3, 0)
    model.fit(np.eye(3), np.array(["neg", "pos", "pos"], dtype=object))
    found = dump_model(model).format.split()
    assert f"scikit-learn/{sklearn_version}" in found and f"numpy/{np.__version__}" in found
    assert not any(name.startswith("torch/") for name in found)


def test_a_model_that_cannot_be_pickled_is_not_kept_and_says_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Handle:
        def __init__(self) -> None:
            self.predict = lambda X: X

    with pytest.raises(StoredModelError, match="Handle model cannot be kept"):
        dump_model(Handle())
    with caplog.at_level(logging.WARNING, logger="labelwise.controller.published"):
        assert publishable(Handle(), None) is None
    assert "cannot be kept" in caplog.text
