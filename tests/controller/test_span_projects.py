"""NER span projects through the controller: rounds train a CRF on tokens and BIO tags through
the round engine, rank the pool with MNLP and queue it; the model suggests spans with scores;
SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from labelwise.controller import Controller
from labelwise.controller import tasks as annotating
from labelwise.controller.models import span_sequences, span_targets, task_strategy
from labelwise.spans import Span, span_f1
from labelwise.store import (
    AnswerError,
    Store,
    add_annotator,
    add_samples,
    create_project,
    get_project,
    init_store,
    labeled_set,
    list_samples,
)
from tests.store.databases import BACKENDS, fresh_database_url

pytest.importorskip("pycrfsuite")

LABELS = ["PER", "ORG", "LOC"]
PEOPLE = ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Linus Torvalds", "Marie Curie"]
ORGS = ["Google", "Acme Corp", "the United Nations", "Siemens"]
PLACES = ["London", "Paris", "Tokyo", "Berlin", "Lagos"]


def _corpus(n: int, seed: int = 0) -> list[tuple[str, list[Span]]]:
    """Sentences "<PER> works for <ORG> in <LOC> ." with their gold spans."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        person, org, place = rng.choice(PEOPLE), rng.choice(ORGS), rng.choice(PLACES)
        verb = rng.choice(["works for", "visited", "left"])
        text = f"{person} {verb} {org} in {place} ."
        a = len(person) + len(verb) + 2
        b = a + len(org) + 4
        spans = [
            Span(0, len(person), "PER"),
            Span(a, a + len(org), "ORG"),
            Span(b, b + len(place), "LOC"),
        ]
        out.append((text, spans))
    return out


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    for url in fresh_database_url(request.param, tmp_path):
        opened = init_store(url)
        yield opened
        opened.close()


def _spans_project(store: Store, n: int) -> dict[str, list[Span]]:
    corpus = _corpus(n)
    create_project(store, "p", LABELS, "text_classification", answer_kind="spans")
    add_samples(store, "p", [{"id": f"s{i}", "text": t} for i, (t, _) in enumerate(corpus)])
    add_annotator(store, "ann")
    return {f"s{i}": spans for i, (_, spans) in enumerate(corpus)}


def _label(store: Store, gold: dict[str, list[Span]], n: int) -> None:
    for _ in range(n):
        found = annotating.next_task(store, "p", "ann")
        assert found.lease is not None, found.reason
        spans = [[s.start, s.end, s.label] for s in gold[found.lease.external_id]]
        done = annotating.answer(store, found.lease.task_id, "ann", spans)
        assert done.annotation.label is not None


def test_rounds_train_a_crf_rank_with_mnlp_and_suggest_spans(store: Store) -> None:
    gold = _spans_project(store, 40)
    controller = Controller(store, "p")
    first = controller.run_round()
    assert first.cold and first.queued > 0  # no labels: a random cold start
    assert controller.guess(list_samples(store, "p")[0]) is None
    _label(store, gold, 12)
    second = controller.run_round()
    assert (second.strategy, second.model, second.cold) == ("mnlp", "crf", False)
    assert second.n_labeled == 12 and second.queued > 0
    # what it trained on: the labeled texts' tokens and BIO tags of the stored spans
    labeled = labeled_set(store, "p")
    tokens, words = span_sequences([s.text for s, _ in labeled])
    tags = span_targets(tokens, [v for _, v in labeled])
    first_sample = labeled[0][0]
    assert words[0] == first_sample.text.split()  # type: ignore[union-attr]
    assert tags[0][0] == "B-PER" and tags[0][-1] == "O"
    # the suggestions of the model on unlabeled texts: spans with scores, mostly right
    unlabeled = [
        s
        for s in list_samples(store, "p")
        if s.external_id not in {x.external_id for x, _ in labeled}
    ][:10]
    predicted, truth = [], []
    for sample in unlabeled:
        guess = controller.guess(sample)
        assert guess is not None and guess.spans is not None and guess.round == second.number
        assert json.loads(guess.label) == [list(s[:3]) for s in guess.spans]
        assert all(0.0 <= s[3] <= 1.0 for s in guess.spans)
        predicted.append([Span(a, b, c) for a, b, c, _ in guess.spans])
        truth.append(gold[sample.external_id])
    assert span_f1(predicted, truth).f1 > 0.8


def test_the_pool_is_ranked_by_mnlp_scores(store: Store) -> None:
    gold = _spans_project(store, 30)
    controller = Controller(store, "p")
    controller.run_round()
    _label(store, gold, 8)
    report = controller.run_round()
    from labelwise.store import list_rounds

    recorded = list_rounds(store, "p")[-1]
    assert recorded.strategy == "mnlp" and report.number == recorded.number
    scores = recorded.metrics["score_histogram"]
    assert scores is not None and sum(scores["counts"]) == 30 - 8


def test_bad_span_answers_are_refused_naming_the_problem(store: Store) -> None:
    _spans_project(store, 3)
    Controller(store, "p").run_round()
    found = annotating.next_task(store, "p", "ann")
    assert found.lease is not None
    with pytest.raises(AnswerError, match="outside the text"):
        annotating.answer(store, found.lease.task_id, "ann", [[0, 500, "PER"]])
    with pytest.raises(AnswerError, match="'DATE', not in"):
        annotating.answer(store, found.lease.task_id, "ann", [[0, 3, "DATE"]])
    assert annotating.answer(store, found.lease.task_id, "ann", []).annotation.value == "[]"


def test_mnlp_is_the_default_sequence_strategy() -> None:
    assert task_strategy("spans", "margin") == "mnlp"  # a classification strategy: the default
    assert task_strategy("spans", "token_entropy") == "token_entropy"


def test_the_cli_creates_a_spans_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import labelwise.cli.project_cmd  # noqa: F401  (registers ``project``)
    from tests.cli.test_store_cli import one_error_line, run_main, run_ok

    url = f"sqlite:///{tmp_path / 's.db'}"
    made = run_ok(
        "project", "create", "ner", "--task", "text", "--answer", "spans",
        "--labels", "PER,ORG,LOC", "--store", url,
    )  # fmt: skip
    assert "entity spans of PER, ORG, LOC" in made
    opened = init_store(url)
    try:
        info = get_project(opened, "ner")
        assert (info.answer_kind, info.label_space) == ("spans", ("PER", "ORG", "LOC"))
    finally:
        opened.close()
    code, err = run_main(
        capsys, "project", "create", "img", "--task", "image", "--answer", "spans",
        "--labels", "PER,ORG", "--store", url,
    )  # fmt: skip
    assert code == 2 and "use --task text" in one_error_line(err)


def test_project_set_chooses_the_sequence_strategy_that_ranks_the_queue(
    tmp_path: Path,
) -> None:
    import labelwise.cli.project_cmd  # noqa: F401  (registers ``project``)
    from labelwise.store import list_rounds, why_chosen
    from tests.cli.test_store_cli import run_ok

    url = f"sqlite:///{tmp_path / 's.db'}"
    opened = init_store(url)
    try:
        gold = _spans_project(opened, 30)
        said = run_ok("project", "set", "p", "--strategy", "least_confidence_path", "--store", url)
        assert "strategy least_confidence_path, model crf" in said
        controller = Controller(opened, "p")
        controller.run_round()
        _label(opened, gold, 8)
        report = controller.run_round()
        assert report.strategy == list_rounds(opened, "p")[-1].strategy == "least_confidence_path"
        labeled = {s.external_id for s, _ in labeled_set(opened, "p")}
        scores = {
            s.external_id: why_chosen(opened, "p", s.external_id)[-1].score
            for s in list_samples(opened, "p")
            if s.external_id not in labeled
        }
        assert all(0.0 <= v <= 1.0 for v in scores.values())  # 1 - P(best path), not MNLP's
        # the annotator is handed the pool in the order of this strategy's scores
        served = []
        for _ in range(5):
            found = annotating.next_task(opened, "p", "ann")
            assert found.lease is not None
            served.append(found.lease.external_id)
            annotating.answer(opened, found.lease.task_id, "ann", [])
        ranked = sorted(scores, key=lambda i: -scores[i])
        assert [scores[i] for i in served] == [scores[i] for i in ranked[:5]]
    finally:
        opened.close()


def test_a_spans_project_refuses_a_strategy_that_is_not_a_sequence_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import labelwise.cli.project_cmd  # noqa: F401
    from labelwise.controller.settings import task_strategy_needs
    from tests.cli.test_store_cli import one_error_line, run_main

    url = f"sqlite:///{tmp_path / 's.db'}"
    opened = init_store(url)
    try:
        _spans_project(opened, 3)
        create_project(opened, "c", ["a", "b"], "text_classification")
    finally:
        opened.close()
    code, err = run_main(capsys, "project", "set", "p", "--strategy", "margin", "--store", url)
    line = one_error_line(err)
    assert code != 0 and "does not serve a 'spans' project (sequence)" in line
    assert "mnlp" in line and "token_entropy" in line
    code, err = run_main(capsys, "project", "set", "c", "--strategy", "mnlp", "--store", url)
    assert code != 0 and "does not serve a 'label' project" in one_error_line(err)
    offered = task_strategy_needs("spans")
    assert offered["mnlp"] == ["lengths", "path_log_proba"] and "random" in offered
