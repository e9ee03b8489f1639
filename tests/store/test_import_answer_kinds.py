"""Importing labelled rows into number and label-set projects: each label is checked and kept
as an annotator's answer would be; eval rows then give the rounds their metric (R2, micro-F1).
SQLite and PostgreSQL (LABELWISE_TEST_PG_URL; skipped with a message when unset)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from labelwise.controller import Controller
from labelwise.store import (
    ImportFileError,
    Store,
    create_project,
    import_samples,
    init_store,
    labeled_set,
    list_samples,
)
from labelwise.store.schema import Sample
from tests.store.databases import BACKENDS, fresh_database_url

LABELS = ["art", "law", "tech"]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    for url in fresh_database_url(request.param, tmp_path):
        opened = init_store(url)
        yield opened
        opened.close()


def _number_project(store: Store) -> None:
    settings = {"answer": {"min": -50, "max": 50, "step": 0.25}, "loop": {"features": "hashed"}}
    create_project(store, "n", [], "tabular_classification", settings, answer_kind="number")


def _labels_project(store: Store) -> None:
    create_project(store, "m", LABELS, "tabular_classification", {"loop": {}}, answer_kind="labels")


def _write_csv(path: Path, rows: list[dict[str, object]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _gold(store: Store, project_id_name: str) -> dict[str, str | None]:
    with store.read() as session:
        from labelwise.store.projects import project_row

        pid = project_row(session, project_id_name).id
        return {
            e: g
            for e, g in session.execute(
                select(Sample.external_id, Sample.gold_label).where(
                    Sample.project_id == pid, Sample.split == "gold"
                )
            )
        }


def _stored(store: Store, project: str, split: str) -> dict[str, str]:
    return {s.external_id: v for s, v in labeled_set(store, project, split=split)}  # type: ignore[arg-type]


def _numbers(n: int) -> tuple[list[dict[str, object]], dict[str, float]]:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(n, 2))
    rows: list[dict[str, object]] = []
    truth: dict[str, float] = {}
    for i, (a, b) in enumerate(X):
        y = float(np.clip(np.round((4 * a - 2 * b) * 4) / 4, -50, 50))  # on the 0.25 grid
        split = "pool" if i < n // 2 else "eval" if i < n - 5 else "gold"
        labeled = split != "pool" or i % 3 == 0
        # the same number written several ways: "1.5", "1.50", "+1.5e0"
        text = ["{:g}", "{:.2f}", "{:+e}"][i % 3].format(y) if labeled else ""
        rows.append({"id": f"r{i}", "x1": f"{a:.6f}", "x2": f"{b:.6f}", "split": split})
        rows[-1]["label"] = text
        if labeled:
            truth[f"r{i}"] = y
    return rows, truth


def test_numbers_import_on_every_split_in_canonical_text(store: Store, tmp_path: Path) -> None:
    _number_project(store)
    rows, truth = _numbers(60)
    path = _write_csv(tmp_path / "n.csv", rows)
    report = import_samples(store, path, "n")
    splits = {str(r["id"]): str(r["split"]) for r in rows}
    expected = {sid: repr(y + 0.0) for sid, y in truth.items()}  # the reference text
    for split in ("pool", "eval"):
        want = {k: v for k, v in expected.items() if splits[k] == split}
        assert _stored(store, "n", split) == want
    assert _gold(store, "n") == {k: v for k, v in expected.items() if splits[k] == "gold"}
    assert report.labeled == sum(1 for k in truth if splits[k] != "gold")
    again = import_samples(store, path, "n")  # the same file again changes nothing
    assert (again.inserted, again.unchanged) == (0, 60)


@pytest.mark.parametrize(
    ("label", "problem"),
    [
        ("51", "above the maximum 50"),
        ("-50.5", "below the minimum -50"),
        ("0.3", "not a multiple of the step 0.25"),
        ("ten", "must be a number"),
        ("nan", "finite"),
    ],
)
def test_a_bad_number_names_its_line_and_stores_nothing(
    store: Store, tmp_path: Path, label: str, problem: str
) -> None:
    _number_project(store)
    rows = [
        {"id": "a", "x1": "1", "split": "eval", "label": "1.25"},
        {"id": "b", "x1": "2", "split": "eval", "label": label},
    ]
    with pytest.raises(ImportFileError) as refused:
        import_samples(store, _write_csv(tmp_path / "bad.csv", rows), "n")
    message = str(refused.value)
    assert "line 3" in message and problem in message and repr(label) in message
    assert list_samples(store, "n") == []


def _reference_set(text: str) -> str:
    """The canonical set of ``text`` written either way, computed the slow, obvious way."""
    chosen = json.loads(text) if text.startswith("[") else text.split("|")
    return json.dumps([x for x in LABELS if x in chosen], separators=(",", ":"))


def test_label_sets_as_pipes_or_json_lists_in_csv_and_jsonl(store: Store, tmp_path: Path) -> None:
    _labels_project(store)
    rng = np.random.default_rng(5)
    csv_rows: list[dict[str, object]] = []
    for i in range(30):
        chosen = [x for x in rng.permutation(LABELS) if rng.random() < 0.5]
        text = "|".join(chosen) if i % 2 else json.dumps(chosen)
        text = text or "[]"
        split = ["pool", "eval", "gold"][i % 3]
        csv_rows.append({"id": f"c{i}", "x1": str(i), "split": split, "label": text})
    import_samples(store, _write_csv(tmp_path / "m.csv", csv_rows), "m")
    jsonl = tmp_path / "m.jsonl"
    lines = [{"id": "j0", "x1": 1, "split": "eval", "label": ["tech", "art"]}]
    lines.append({"id": "j1", "x1": 2, "split": "eval", "label": "law | art"})
    lines.append({"id": "j2", "x1": 3, "split": "eval", "label": []})
    jsonl.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    import_samples(store, jsonl, "m")
    want = {str(r["id"]): _reference_set(str(r["label"])) for r in csv_rows}
    want |= {"j0": '["art","tech"]', "j1": '["art","law"]', "j2": "[]"}
    splits = {str(r["id"]): str(r["split"]) for r in csv_rows} | {"j0": "eval", "j1": "eval"}
    splits["j2"] = "eval"
    for split in ("pool", "eval"):
        assert _stored(store, "m", split) == {k: v for k, v in want.items() if splits[k] == split}
    assert _gold(store, "m") == {k: v for k, v in want.items() if splits[k] == "gold"}


@pytest.mark.parametrize(
    ("label", "problem"),
    [
        ("art|music", "['music'] are not in"),
        ('["art","art"]', "repeats a label"),
        ("art||law", "empty label"),
        ('["art", 3]', "must be a list of labels"),
    ],
)
def test_a_bad_label_set_names_its_line_and_stores_nothing(
    store: Store, tmp_path: Path, label: str, problem: str
) -> None:
    _labels_project(store)
    rows = [
        {"id": "a", "x1": "1", "split": "pool", "label": "art"},
        {"id": "b", "x1": "2", "split": "gold", "label": label},
    ]
    with pytest.raises(ImportFileError) as refused:
        import_samples(store, _write_csv(tmp_path / "bad.csv", rows), "m")
    assert "line 3" in str(refused.value) and problem in str(refused.value)
    assert list_samples(store, "m") == []


def test_parquet_of_strings_takes_the_row_path_for_a_number_project(
    store: Store, tmp_path: Path
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    _number_project(store)
    table = pa.table({"id": ["a", "b"], "x1": ["1", "2"], "split": ["eval", "eval"]})
    table = table.append_column("label", pa.array(["2.50", "-3"]))
    pq.write_table(table, tmp_path / "n.parquet")
    import_samples(store, tmp_path / "n.parquet", "n")
    assert _stored(store, "n", "eval") == {"a": "2.5", "b": "-3.0"}


def test_a_round_of_a_number_project_records_eval_r2(store: Store, tmp_path: Path) -> None:
    from sklearn.metrics import r2_score

    _number_project(store)
    rows, _ = _numbers(60)
    import_samples(store, _write_csv(tmp_path / "n.csv", rows), "n")
    controller = Controller(store, "n")
    report = controller.run_round()
    metrics = controller_metrics(store, "n")
    assert metrics["eval_metric"] == "r2" and "stop-set test" in metrics["stop_set_skipped"]
    model = controller._fitted[0]  # type: ignore[index]
    evaluated = labeled_set(store, "n", split="eval")
    predicted = model.predict(controller.features([s for s, _ in evaluated]))
    want = r2_score([float(v) for _, v in evaluated], predicted)
    assert metrics["eval_r2"] == pytest.approx(want, abs=1e-9)
    assert metrics["eval_r2"] > 0.5  # the target is linear in the features
    assert report.eval_accuracy is None


def test_a_round_of_a_label_set_project_records_eval_micro_f1(store: Store, tmp_path: Path) -> None:
    from sklearn.metrics import f1_score

    _labels_project(store)
    rng = np.random.default_rng(8)
    rows: list[dict[str, object]] = []
    for i in range(60):
        x = rng.normal(size=3)
        chosen = [name for name, v in zip(LABELS, x, strict=True) if v > 0]
        split = "pool" if i < 40 else "eval"
        label = "|".join(chosen) or "[]"
        rows.append({"id": f"c{i}", "x1": f"{x[0]:.5f}", "x2": f"{x[1]:.5f}", "x3": f"{x[2]:.5f}"})
        rows[-1] |= {"split": split, "label": label if split == "eval" or i % 2 else ""}
    import_samples(store, _write_csv(tmp_path / "m.csv", rows), "m")
    controller = Controller(store, "m")
    controller.run_round()
    metrics = controller_metrics(store, "m")
    assert metrics["eval_metric"] == "micro_f1"
    evaluated = labeled_set(store, "m", split="eval")
    truth = np.array([[int(x in json.loads(v)) for x in LABELS] for _, v in evaluated])
    model = controller._fitted[0]  # type: ignore[index]
    predicted = model.predict(controller.features([s for s, _ in evaluated]))
    want = f1_score(truth, predicted, average="micro", zero_division=0)
    assert metrics["eval_micro_f1"] == pytest.approx(want, abs=1e-9)
    assert "stop_set_skipped" in metrics and metrics["stop_predictions"] is None


def controller_metrics(store: Store, project: str) -> dict[str, object]:
    from labelwise.store import list_rounds

    return dict(list_rounds(store, project)[-1].metrics)
