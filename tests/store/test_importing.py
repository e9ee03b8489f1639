"""Import: every format, all or nothing, idempotent, errors naming file, line and problem."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from labelwise.store import (
    ImportFileError,
    Store,
    get_project,
    import_samples,
    labeled_set,
    list_samples,
    status,
)
from tests.store.factories import snapshot, tally_matches_samples, write_csv

ROWS = [
    {"id": "a", "text": "good film", "label": "pos", "split": "pool", "lang": "en"},
    {"id": "b", "text": "bad film", "label": "neg", "split": "eval", "lang": "en"},
    {"id": "c", "text": "which one?", "label": "", "split": "", "lang": "fr"},
    {"id": "d", "text": "gold question", "label": "pos", "split": "gold", "lang": "en"},
]


def check_imported(store: Store) -> None:
    project = get_project(store, "p")
    assert project.label_space == ("neg", "pos")
    samples = {s.external_id: s for s in list_samples(store, "p")}
    assert {k: (s.split, s.state) for k, s in samples.items()} == {
        "a": ("pool", "labeled"),
        "b": ("eval", "labeled"),
        "c": ("pool", "unlabeled"),
        "d": ("gold", "unlabeled"),  # a gold answer is a check, not a training label
    }
    assert [(s.external_id, label) for s, label in labeled_set(store, "p")] == [("a", "pos")]
    assert tally_matches_samples(store)


def test_csv_import_keeps_splits_labels_and_gold(store: Store, tmp_path: Path) -> None:
    report = import_samples(store, write_csv(tmp_path / "d.csv", ROWS), "p")
    assert (report.rows, report.inserted, report.labeled, report.created_project) == (
        4,
        4,
        2,
        True,
    )
    check_imported(store)


def test_jsonl_import(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in ROWS))
    import_samples(store, path, "p")
    check_imported(store)


def test_parquet_import(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    pq.write_table(pa.Table.from_pylist(ROWS), path)
    import_samples(store, path, "p")
    check_imported(store)


def test_reimporting_the_same_file_changes_nothing(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", ROWS)
    import_samples(store, path, "p")
    before = snapshot(store)
    again = import_samples(store, path, "p")
    assert (again.inserted, again.unchanged) == (0, 4)
    after = snapshot(store)
    assert {k: v for k, v in after.items() if k != "audit"} == {
        k: v for k, v in before.items() if k != "audit"
    }


def test_image_folder_takes_labels_from_subfolders(store: Store, tmp_path: Path) -> None:
    for label, name in [("cat", "1.png"), ("cat", "2.png"), ("dog", "3.png")]:
        (tmp_path / "imgs" / label).mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (4, 4)).save(tmp_path / "imgs" / label / name)
    import_samples(store, tmp_path / "imgs", "pets")
    project = get_project(store, "pets")
    assert (project.task_type, project.label_space) == ("image_classification", ("cat", "dog"))
    pairs = sorted((s.external_id, label) for s, label in labeled_set(store, "pets"))
    assert pairs == [("cat/1.png", "cat"), ("cat/2.png", "cat"), ("dog/3.png", "dog")]
    assert all(Path(s.uri or "").is_file() for s, _ in labeled_set(store, "pets"))


@pytest.mark.parametrize(
    ("rows", "line", "problem"),
    [
        ([{"id": "q", "text": "x"}, {"id": "q", "text": "y"}], 3, "duplicate id 'q'"),
        ([{"id": "q", "text": "x", "label": "maybe"}], 2, "label 'maybe' is not in"),
        ([{"id": "q", "text": "x", "split": "test"}], 2, "split 'test'"),
        ([{"id": "q", "body": "x"}], 2, "has no 'text'"),
        ([{"text": "x"}], 2, "empty id"),
    ],
)
def test_a_bad_row_aborts_the_import_naming_file_and_line(
    store: Store, tmp_path: Path, rows: list[dict[str, str]], line: int, problem: str
) -> None:
    import_samples(store, write_csv(tmp_path / "first.csv", ROWS), "p")
    before = snapshot(store)
    good = [{"id": "z", "text": "fine"}]
    fields = sorted({k for row in good + rows for k in row})
    path = write_csv(
        tmp_path / "bad.csv",
        [{k: row.get(k, "") for k in fields} for row in good + rows],
    )
    with pytest.raises(ImportFileError) as caught:
        import_samples(store, path, "p")
    message = str(caught.value)
    assert f"bad.csv, line {line + 1}" in message
    assert problem in message
    assert snapshot(store) == before


def test_changed_content_under_a_known_id_is_refused(store: Store, tmp_path: Path) -> None:
    import_samples(store, write_csv(tmp_path / "d.csv", ROWS), "p")
    before = snapshot(store)
    changed = [dict(ROWS[0], text="another text")]
    with pytest.raises(ImportFileError, match="line 2: id 'a' is already in the store"):
        import_samples(store, write_csv(tmp_path / "d2.csv", changed), "p")
    assert snapshot(store) == before


def test_unreadable_image_names_the_file_and_creates_nothing(store: Store, tmp_path: Path) -> None:
    (tmp_path / "imgs" / "cat").mkdir(parents=True)
    Image.new("RGB", (4, 4)).save(tmp_path / "imgs" / "cat" / "ok.png")
    (tmp_path / "imgs" / "cat" / "broken.png").write_bytes(b"not a png")
    (tmp_path / "imgs" / "dog").mkdir()
    Image.new("RGB", (4, 4)).save(tmp_path / "imgs" / "dog" / "ok.png")
    with pytest.raises(ImportFileError, match=r"broken\.png.*unreadable image"):
        import_samples(store, tmp_path / "imgs", "pets")
    assert snapshot(store)["samples"] == []
    with pytest.raises(Exception, match="no project named 'pets'"):
        status(store, "pets")


def test_bad_json_line_is_named(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"id": "a", "text": "x", "label": "pos"}\n{"id": "b", \n')
    with pytest.raises(ImportFileError, match=r"d\.jsonl, line 2, column \d+: not valid JSON"):
        import_samples(store, path, "p", labels=["neg", "pos"])


def test_labels_option_sets_the_space_of_a_new_project(store: Store, tmp_path: Path) -> None:
    rows = [{"id": "a", "text": "x"}]
    import_samples(store, write_csv(tmp_path / "d.csv", rows), "p", labels=["x", "y", "z"])
    assert get_project(store, "p").label_space == ("x", "y", "z")


def test_a_file_without_labels_needs_the_labels_option(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="--labels"):
        import_samples(store, write_csv(tmp_path / "d.csv", [{"id": "a", "text": "x"}]), "p")
    assert snapshot(store)["samples"] == []
