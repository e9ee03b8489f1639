"""NER projects (``<Labels>`` over ``<Text>``): span annotations train a CRF through the round
engine, predictions carry spans with scores, and Uncertainty sampling follows MNLP.

The end-to-end tests run over real HTTP against the fake Label Studio
(:mod:`tests.server.labelstudio.fake_label_studio`), as :mod:`test_active_learning` does.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from labelwise.errors import InvalidInputError, LabelwiseError
from labelwise.server.labelstudio import BackendSettings
from labelwise.server.labelstudio.label_config import parse_label_config
from labelwise.server.labelstudio.ner import decode_spans, span_label, training_set
from labelwise.spans.document import Span
from tests.server.labelstudio.fake_label_studio import FakeLabelStudio, fake_label_studio
from tests.server.labelstudio.test_active_learning import (
    PROJECT,
    backend,
    connected,
    pushed_to,
    wait_for,
)

pytest.importorskip("pycrfsuite")

NER_CONFIG = (
    '<View><Labels name="label" toName="text">'
    '<Label value="PER"/><Label value="LOC"/></Labels>'
    '<Text name="text" value="$text"/></View>'
)
CONFIG = parse_label_config(NER_CONFIG)

#: (text, entities as (quoted text, type)); the first ANNOTATED ones are answered.
TASKS: list[tuple[str, list[tuple[str, str]]]] = [
    ("Anna flew to Paris yesterday", [("Anna", "PER"), ("Paris", "LOC")]),
    ("🎉 Zoë moved to Łódź in May", [("Zoë", "PER"), ("Łódź", "LOC")]),
    ("José visited Tokyo 🗼 with Anna", [("José", "PER"), ("Tokyo", "LOC"), ("Anna", "PER")]),
    ("the weather was fine all week", []),
    ("Björn 😀 stayed in Köln", [("Björn", "PER"), ("Köln", "LOC")]),
    ("Anna 🎉 met José in Paris", []),
    ("🎉🎉 Zoë took a train to Tokyo", []),
    ("nobody went anywhere that day", []),
    ("Björn and Zoë love Łódź", []),
    ("the train to Köln was late", []),
    ("José wrote to Björn from Paris", []),
    ("it rained and rained", []),
]
ANNOTATED = 5


def regions(text: str, entities: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Label Studio's result regions for the entities (code-point offsets, as it stores)."""
    found = []
    for quoted, label in entities:
        start = text.index(quoted)
        found.append(
            {
                "from_name": "label",
                "to_name": "text",
                "type": "labels",
                "value": {
                    "start": start,
                    "end": start + len(quoted),
                    "text": quoted,
                    "labels": [label],
                },
            }
        )
    return found


# -- the config and the annotations -------------------------------------------------------------
def test_labels_over_text_is_a_ner_config() -> None:
    assert (CONFIG.from_name, CONFIG.to_name, CONFIG.data_key) == ("label", "text", "text")
    assert CONFIG.labels == ("PER", "LOC") and CONFIG.spans and CONFIG.kind == "text"
    one = parse_label_config(
        '<View><Text name="t" value="$doc"/><Labels name="l" toName="t">'
        '<Label value="ORG" alias="O1"/></Labels></View>'
    )
    assert one.labels == ("O1",) and one.data_key == "doc"  # one entity type is enough
    both = parse_label_config(
        '<View><Text name="t" value="$x"/><Labels name="l" toName="t"><Label value="A"/>'
        '</Labels><Choices name="c" toName="t"><Choice value="p"/><Choice value="n"/>'
        "</Choices></View>"
    )
    assert not both.spans and both.labels == ("p", "n")  # the <Choices> wins
    with pytest.raises(InvalidInputError, match="not a <Text>"):
        parse_label_config(
            '<View><Image name="i" value="$img"/><Labels name="l" toName="i">'
            '<Label value="A"/></Labels></View>'
        )
    with pytest.raises(InvalidInputError, match="no <Label"):
        parse_label_config('<View><Text name="t" value="$x"/><Labels name="l" toName="t"/></View>')


def test_span_label_reads_code_point_offsets_and_utf16_ones() -> None:
    text = "🎉 Zoë moved to Łódź"
    annotation = {"result": regions(text, [("Zoë", "PER"), ("Łódź", "LOC")])}
    spans = decode_spans(span_label(annotation, CONFIG, text))
    assert [(text[s.start : s.end], s.label) for s in spans] == [("Zoë", "PER"), ("Łódź", "LOC")]
    # the same regions as UTF-16 code units (older Label Studio): the emoji counts twice
    shifted = {"result": regions(text, [("Zoë", "PER")])}
    shifted["result"][0]["value"].update(start=3, end=6)
    assert decode_spans(span_label(shifted, CONFIG, text)) == [Span(2, 5, "PER")]
    assert span_label({"result": []}, CONFIG, text) == "[]"  # no entity is an answer


def test_utf16_offsets_match_a_reference_on_random_texts() -> None:
    """Every UTF-16 offset pair on character boundaries maps to characters that quote the same
    text (the reference: offsets counted in UTF-16 code units by encoding the prefix)."""
    rng = random.Random(0)
    alphabet = ["a", "é", "Ł", "語", "🎉", "😀", " "]
    for _ in range(200):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        i = rng.randrange(len(text))
        j = rng.randrange(i + 1, len(text) + 1)
        start, end = (len(text[:k].encode("utf-16-le")) // 2 for k in (i, j))  # the reference
        region = {
            "from_name": "label",
            "to_name": "text",
            "value": {"start": start, "end": end, "text": text[i:j], "labels": ["PER"]},
        }
        kept = decode_spans(span_label({"result": [region]}, CONFIG, text))
        if text[i:j].strip():  # a span of spaces covers no token and is dropped
            # the quoted characters (where code points fit too, e.g. "aa🎉aa", they win)
            assert len(kept) == 1 and text[kept[0].start : kept[0].end] == text[i:j]
            if i == start and j == end:
                assert (kept[0].start, kept[0].end) == (i, j)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"start": 0, "end": 4, "text": "Anna", "labels": ["ORG"]}, "not in the config"),
        ({"start": 0, "end": 99, "labels": ["PER"]}, "does not fit"),
        ({"start": 0, "end": 4, "text": "Bob", "labels": ["PER"]}, "does not fit"),
        ({"start": "0", "end": 4, "labels": ["PER"]}, "integer"),
        ({"start": 0, "end": 4, "labels": []}, "non-empty list"),
    ],
)
def test_bad_span_regions_are_refused_by_name(value: dict[str, Any], message: str) -> None:
    region = {"from_name": "label", "to_name": "text", "type": "labels", "value": value}
    with pytest.raises(InvalidInputError, match=message):
        span_label({"result": [region]}, CONFIG, "Anna flew to Paris")


def test_overlapping_spans_keep_the_earlier_and_tags_follow_tokens() -> None:
    text = "Anna flew to Paris"
    result = regions(text, [("Anna flew", "PER"), ("flew to", "LOC"), ("Par", "LOC")])
    label = span_label({"result": result}, CONFIG, text)
    assert decode_spans(label) == [Span(0, 9, "PER"), Span(13, 16, "LOC")]
    words, tags = training_set([(text, label)])
    assert words == [["Anna", "flew", "to", "Paris"]]
    assert tags == [["B-PER", "I-PER", "O", "B-LOC"]]  # "Par" widened to its token


# -- end to end ---------------------------------------------------------------------------------
@pytest.fixture
def ner_studio() -> Iterator[FakeLabelStudio]:
    with fake_label_studio() as server:
        server.add_project(PROJECT, NER_CONFIG)
        for k, (text, _) in enumerate(TASKS, start=1):
            server.add_task(PROJECT, k, {"text": text})
        yield server


def annotate_spans(client: Any, server: FakeLabelStudio, task_id: int) -> Any:
    text, entities = TASKS[task_id - 1]
    annotation = server.add_annotation(task_id, regions(text, entities))
    body = {
        "action": "ANNOTATION_CREATED",
        "annotation": annotation,
        "task": server.tasks[task_id],
        "project": {**server.projects[PROJECT]},
    }
    return client.post("/webhook", json=body, timeout=10)


def reference_mnlp(unlabeled: list[int]) -> dict[int, float]:
    """MNLP of the unlabeled tasks under a CRF trained apart on the answered tasks: the mean
    log-probability per token of the CRF's best path, lower = more uncertain."""
    from labelwise.spans.crf import CRFTagger
    from labelwise.spans.tags import spans_to_tags
    from labelwise.spans.tokens import tokenize

    words, tags = [], []
    for text, entities in TASKS[:ANNOTATED]:
        tokens = tokenize(text)
        spans = [Span(text.index(q), text.index(q) + len(q), lab) for q, lab in entities]
        words.append([t.text for t in tokens])
        tags.append(spans_to_tags(tokens, spans))
    model = CRFTagger().fit(words, tags)
    pool = [[t.text for t in tokenize(TASKS[i - 1][0])] for i in unlabeled]
    _, proba = model.best_path(pool)
    return {i: float(np.log(p) / len(w)) for i, p, w in zip(unlabeled, proba, pool, strict=True)}


def test_span_annotations_train_and_predictions_follow_mnlp(
    ner_studio: FakeLabelStudio, store_url: str
) -> None:
    settings = connected(ner_studio, train_every=ANNOTATED)
    with backend(store_url, settings, NER_CONFIG) as client:
        wait_for(client, pushed_to("labelwise-0"))  # connected: a cold order, no spans
        assert all(p["result"] == [] for p in ner_studio.predictions)
        for task_id in range(1, ANNOTATED + 1):
            response = annotate_spans(client, ner_studio, task_id)
            assert response.status_code == 200, response.text
        wait_for(client, pushed_to("labelwise-1"))
        pushed = ner_studio.pushed("labelwise-1")
        unlabeled = list(range(ANNOTATED + 1, len(TASKS) + 1))
        assert sorted(pushed) == unlabeled
        found = 0
        for task_id, prediction in pushed.items():
            text = ner_studio.tasks[task_id]["data"]["text"]
            for region in prediction["result"]:
                value = region["value"]
                assert (region["from_name"], region["to_name"], region["type"]) == (
                    "label",
                    "text",
                    "labels",
                )
                assert text[value["start"] : value["end"]] == value["text"]  # code points
                assert value["labels"][0] in ("PER", "LOC") and 0 <= region["score"] <= 1
                found += 1
        assert found >= 3  # the names it was taught are found again
        emoji_tasks = [t for t in unlabeled if "🎉" in TASKS[t - 1][0]]
        assert any(pushed[t]["result"] for t in emoji_tasks)  # offsets after an emoji
        # the task scores rank the pool by MNLP: the least sure (lowest MNLP) is asked first
        mnlp = reference_mnlp(unlabeled)
        n = len(unlabeled)
        scores = sorted(p["score"] for p in pushed.values())
        assert scores == pytest.approx([r / (n - 1) for r in range(n)], abs=1e-6)
        for a in unlabeled:
            for b in unlabeled:
                if mnlp[a] < mnlp[b] - 1e-3:
                    assert pushed[a]["score"] < pushed[b]["score"], (a, b, mnlp)
        # /predict answers what was pushed
        first = min(pushed, key=lambda t: pushed[t]["score"])
        body = {"tasks": [ner_studio.tasks[first]], "project": "1.1", "label_config": NER_CONFIG}
        (answer,) = client.post("/predict", json=body).json()["results"]
        assert answer["score"] == 0.0 and answer["model_version"] == "labelwise-1"
        assert answer["result"] == pushed[first]["result"]
        # a task new to the backend is placed among the ranked ones by its own MNLP
        new = {"id": 99, "data": {"text": "Zoë flew to Köln"}, "annotations": []}
        body = {"tasks": [new], "project": "1.1", "label_config": NER_CONFIG}
        (answer,) = client.post("/predict", json=body).json()["results"]
        assert 0.0 <= answer["score"] <= 1.0
        assert {r["value"]["text"] for r in answer["result"]} <= {"Zoë", "Köln", "flew"}
    # the spans survive a restart: kept in the store with each revision, learned again
    from labelwise.server.labelstudio import state
    from labelwise.store import open_store

    store = open_store(store_url)
    try:
        revisions = state.load_revisions(store, state.store_project_name(PROJECT), spans=True)
    finally:
        store.close()
    text, entities = TASKS[0]
    expected = [[text.index(q), text.index(q) + len(q), lab] for q, lab in entities]
    assert json.loads({r.task: r.label for r in revisions}[1]) == expected
    # an annotation made while the backend was down is learned from the resync
    missed_text = TASKS[ANNOTATED][0]
    ner_studio.add_annotation(ANNOTATED + 1, regions(missed_text, [("José", "PER")]))
    with backend(store_url, settings, NER_CONFIG) as client:
        wait_for(client, lambda s: s["state"] == "ready" and s["labeled_tasks"] == ANNOTATED + 1)
        body = {"tasks": [ner_studio.tasks[first]], "project": "1.1", "label_config": NER_CONFIG}
        (again,) = client.post("/predict", json=body).json()["results"]
        assert again["result"] and all(r["type"] == "labels" for r in again["result"])
    store = open_store(store_url)
    try:
        revisions = state.load_revisions(store, state.store_project_name(PROJECT), spans=True)
    finally:
        store.close()
    start = missed_text.index("José")
    assert json.loads({r.task: r.label for r in revisions}[ANNOTATED + 1]) == [
        [start, start + 4, "PER"]
    ]


def test_no_spans_before_a_model_and_bad_spans_are_refused(
    ner_studio: FakeLabelStudio, store_url: str
) -> None:
    settings = connected(ner_studio, train_every=1)
    with backend(store_url, settings, NER_CONFIG) as client:
        assert annotate_spans(client, ner_studio, 4).status_code == 200  # no entity at all
        client.post("/train", json={"project": PROJECT})
        state = wait_for(client, lambda s: s["refreshes"] >= 2 and s["state"] != "training")
        assert state["state"] == "no_model" and state["labeled_tasks"] == 1
        assert ner_studio.predictions and all(p["result"] == [] for p in ner_studio.predictions)
        body = {"tasks": [ner_studio.tasks[1]], "project": "1.1", "label_config": NER_CONFIG}
        (answer,) = client.post("/predict", json=body).json()["results"]
        assert answer["result"] == [] and 0.0 <= answer["score"] <= 1.0
        bad = ner_studio.add_annotation(
            2,
            [
                {
                    "from_name": "label",
                    "to_name": "text",
                    "type": "labels",
                    "value": {"start": 0, "end": 3, "text": "🎉 Z", "labels": ["ORG"]},
                }
            ],
        )
        body = {
            "action": "ANNOTATION_CREATED",
            "annotation": bad,
            "task": ner_studio.tasks[2],
            "project": {**ner_studio.projects[PROJECT]},
        }
        response = client.post("/webhook", json=body)
        assert response.status_code == 422
        assert "ORG" in response.text


def test_a_sequence_strategy_serves_ner_projects_only(store_url: str) -> None:
    from labelwise.server.labelstudio.backend import LabelStudioBackend
    from labelwise.store import open_store
    from tests.server.labelstudio.conftest import CONFIG as CLASSIFICATION

    settings = BackendSettings(strategy="token_entropy")
    assert settings.sequence_only and settings.sequence_strategy == "token_entropy"
    assert settings.model_name == "crf"
    assert BackendSettings().sequence_strategy == "mnlp"  # margin is no sequence strategy
    assert not BackendSettings(strategy="random").sequence_only  # random serves both
    with pytest.raises(LabelwiseError, match="unknown strategy"):
        BackendSettings(strategy="no_such_strategy")
    store = open_store(store_url)
    try:
        served = LabelStudioBackend(store, settings)
        assert served.project(1, NER_CONFIG).config.spans
        with pytest.raises(InvalidInputError, match="serves NER projects"):
            served.project(2, CLASSIFICATION)
    finally:
        store.close()
