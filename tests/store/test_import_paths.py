"""The columnar import (CSV, string Parquet) gives the row path's store and the row path's errors.

JSONL always takes the row path, so importing the same rows as CSV and as JSONL compares the
two paths through the public function. ``CHUNK_ROWS`` is made tiny so that every check also
runs across chunk boundaries.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import CheckConstraint, select, text, update
from sqlalchemy.exc import IntegrityError

from labelwise.store import ImportFileError, Store, StoreError, _bulk, import_samples, status
from labelwise.store import importing as importing_module
from labelwise.store._table_readers import csv_line_of_row
from labelwise.store.schema import Label, Project, Sample
from tests.store.factories import snapshot, tally_matches_samples, write_csv


@pytest.fixture(autouse=True)
def tiny_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importing_module, "CHUNK_ROWS", 3)


def samples_of(store: Store, project: str) -> list[tuple[object, ...]]:
    """Every stored field of a project's samples and their import labels, in id order."""
    with store.read() as session:
        rows = session.execute(
            select(
                Sample.external_id,
                Sample.text,
                Sample.uri,
                Sample.split,
                Sample.state,
                Sample.gold_label,
                Sample.meta,
                Sample.content_hash,
                Label.value,
                Label.method,
            )
            .join(Project, Project.id == Sample.project_id)
            .outerjoin(Label, Label.sample_id == Sample.id)
            .where(Project.name == project)
            .order_by(Sample.id)
        ).all()
    return [tuple(row) for row in rows]


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


ROWS = [
    {"id": "a", "text": "good film", "label": "pos", "split": "pool", "lang": "en", "n": "1"},
    {
        "id": " b ",
        "text": 'says "hi", then\nleaves',
        "label": " neg",
        "split": "eval",
        "lang": "",
        "n": "2",
    },
    {"id": "c", "text": "café \\ naïve", "label": "", "split": "", "lang": "fr", "n": "3"},
    {"id": "d", "text": "gold question", "label": "pos", "split": "gold", "lang": "en", "n": "4"},
    {"id": "e", "text": "  padded  ", "label": "", "split": " eval ", "lang": "\u3000", "n": "5"},
    {"id": "f", "text": "tab\there", "label": "neg", "split": "pool", "lang": "x", "n": "6"},
    {"id": "g", "text": "last one", "label": "", "split": "pool", "lang": "y", "n": "7"},
]


def test_csv_and_jsonl_give_the_same_store(store: Store, tmp_path: Path) -> None:
    import_samples(store, write_csv(tmp_path / "d.csv", ROWS), "by_columns")
    import_samples(store, write_jsonl(tmp_path / "d.jsonl", ROWS), "by_rows")
    assert samples_of(store, "by_columns") == samples_of(store, "by_rows")
    assert status(store, "by_columns").by_state == status(store, "by_rows").by_state
    assert tally_matches_samples(store)


def test_string_parquet_gives_the_same_store_as_jsonl(store: Store, tmp_path: Path) -> None:
    rows = [dict(row, lang=None) if row["id"] == "c" else row for row in ROWS]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "d.parquet")
    import_samples(store, tmp_path / "d.parquet", "by_columns")
    import_samples(store, write_jsonl(tmp_path / "d.jsonl", rows), "by_rows")  # type: ignore[arg-type]
    assert samples_of(store, "by_columns") == samples_of(store, "by_rows")


def test_a_csv_imported_by_rows_is_unchanged_when_imported_by_columns(
    store: Store, tmp_path: Path
) -> None:
    """Hashes agree across the paths: a re-import by the other path changes nothing."""
    import_samples(store, write_jsonl(tmp_path / "d.jsonl", ROWS), "p")
    before = snapshot(store)
    again = import_samples(store, write_csv(tmp_path / "d.csv", ROWS), "p")
    assert (again.rows, again.inserted, again.unchanged) == (7, 0, 7)
    assert {k: v for k, v in snapshot(store).items() if k != "audit"} == {
        k: v for k, v in before.items() if k != "audit"
    }


def test_reimport_across_chunks_adds_only_the_new_rows(store: Store, tmp_path: Path) -> None:
    import_samples(store, write_csv(tmp_path / "d.csv", ROWS[:4]), "p")
    report = import_samples(store, write_csv(tmp_path / "d2.csv", ROWS), "p")
    assert (report.rows, report.inserted, report.unchanged, report.labeled) == (7, 3, 4, 1)
    import_samples(store, write_jsonl(tmp_path / "all.jsonl", ROWS), "whole")
    assert [r[1:] for r in samples_of(store, "p")] == [r[1:] for r in samples_of(store, "whole")]
    assert tally_matches_samples(store)


@pytest.mark.parametrize(
    ("position", "change", "problem", "bad_row"),
    [
        (5, {"id": "a"}, "duplicate id 'a'", 5),  # repeats a row of the first chunk
        (4, {"id": "f"}, "duplicate id 'f'", 5),  # repeats a later row: the later one is named
        (6, {"label": "maybe"}, "label 'maybe' is not in", 6),
        (3, {"split": "test"}, "split 'test'", 3),
        (5, {"text": " \u3000 "}, "has no 'text'", 5),
        (4, {"id": "\t"}, "empty id", 4),
        (0, {"id": ""}, "empty id", 0),
    ],
)
def test_the_first_bad_row_is_named_with_its_line(
    store: Store,
    tmp_path: Path,
    position: int,
    change: dict[str, str],
    problem: str,
    bad_row: int,
) -> None:
    rows = [dict(row) for row in ROWS]
    rows[position] |= change
    import_samples(store, write_csv(tmp_path / "first.csv", [ROWS[0]]), "p", labels=["neg", "pos"])
    before = snapshot(store)
    csv_path = write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(ImportFileError) as by_columns:
        import_samples(store, csv_path, "p")
    with pytest.raises(ImportFileError) as by_rows:
        import_samples(store, write_jsonl(tmp_path / "bad.jsonl", rows), "p")
    assert problem in str(by_columns.value)
    assert by_columns.value.problem == by_rows.value.problem
    # ROWS[1]'s text spans two lines of the CSV file: rows after it sit one line lower.
    assert by_columns.value.line == bad_row + 2 + (bad_row >= 1)
    assert snapshot(store) == before


def test_changed_content_in_a_later_chunk_leaves_the_store_as_it_was(
    store: Store, tmp_path: Path
) -> None:
    import_samples(store, write_csv(tmp_path / "d.csv", ROWS), "p")
    before = snapshot(store)
    rows = [*ROWS, {**ROWS[0], "id": "new"}]
    rows[6] = {**ROWS[6], "text": "edited"}
    with pytest.raises(ImportFileError, match="line 9: id 'g' is already in the store"):
        import_samples(store, write_csv(tmp_path / "d2.csv", rows), "p")
    assert snapshot(store) == before


def test_the_first_row_decides_the_task_type(store: Store, tmp_path: Path) -> None:
    remote = [
        {"id": "a", "text": "", "image": "https://example.org/a.png", "label": "cat"},
        {"id": "b", "text": "a caption", "image": "", "label": "dog"},
    ]
    with pytest.raises(ImportFileError, match=r"line 3: sample 'b' has no 'image'"):
        import_samples(store, write_csv(tmp_path / "d.csv", remote), "pets")
    import_samples(store, write_csv(tmp_path / "d.csv", remote[:1]), "pets", labels=["cat", "dog"])
    with store.read() as session:
        assert session.scalar(select(Sample.uri)) == "https://example.org/a.png"


def test_an_unreadable_local_image_in_a_csv_is_named(store: Store, tmp_path: Path) -> None:
    (tmp_path / "broken.png").write_bytes(b"not a png")
    rows = [
        {"id": "a", "text": "fine", "image": ""},
        {"id": "b", "text": "x", "image": "broken.png"},
    ]
    with pytest.raises(ImportFileError, match=r"d\.csv, line 3: unreadable image 'broken.png'"):
        import_samples(store, write_csv(tmp_path / "d.csv", rows), "p", labels=["n", "p"])
    assert snapshot(store)["samples"] == []


def test_a_row_with_too_many_fields_is_named_by_the_row_reader(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "d.csv"
    path.write_text("id,text\na,fine\nb,also fine\nc,one,too many\nd,fine\n")
    with pytest.raises(
        ImportFileError, match=r"d\.csv, line 4, column 7: 3 fields where the header has 2"
    ):
        import_samples(store, path, "p", labels=["neg", "pos"])
    assert snapshot(store)["samples"] == []


def test_bytes_that_are_not_utf8_are_named(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes(b"id,text\na,fine\nb,caf\xe9\n")
    with pytest.raises(ImportFileError, match=r"d\.csv, line 3, column 6: .* not utf-8 text"):
        import_samples(store, path, "p", labels=["neg", "pos"])
    assert snapshot(store)["samples"] == []


def test_blank_lines_and_crlf_do_not_shift_line_numbers(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes(b'id,text,label\r\n\r\na,x,pos\r\n\r\n\r\nb,"two\r\nlines",neg\r\nc,y,odd\r\n')
    with pytest.raises(ImportFileError, match=r"line 8: label 'odd' is not in"):
        import_samples(store, path, "p", labels=["neg", "pos"])
    assert csv_line_of_row(path, 0) == 3


def test_a_header_only_file_has_no_rows(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("id,text\n")
    with pytest.raises(ImportFileError, match="no rows to import"):
        import_samples(store, path, "p", labels=["neg", "pos"])
    assert snapshot(store)["samples"] == []


CELL = st.text(alphabet=st.sampled_from([*' ab,"\\\n\r\té', "\u3000", "\x1c"]), max_size=6)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(
        st.tuples(CELL, CELL, st.sampled_from(["", "pos", " neg", "bad"]), CELL),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from(["", "pool", "eval", "gold", " gold "]),
)
def test_any_csv_gives_the_row_paths_store_or_its_error(
    tmp_path_factory: pytest.TempPathFactory,
    store: Store,
    cells: list[tuple[str, str, str, str]],
    split: str,
) -> None:
    """For any file, both paths accept it into the same store, or reject it the same way."""
    folder = tmp_path_factory.mktemp("csv")
    rows = [
        {"id": i, "text": text, "label": label, "split": split, "note": note}
        for i, text, label, note in cells
    ]
    path = folder / "d.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    outcomes = []
    for name, columnar in [(f"{folder.name}_c", True), (f"{folder.name}_r", False)]:
        try:
            importing_module._import(
                store, path, "csv", name, ["neg", "pos"], None, "t", columnar=columnar
            )
            outcomes.append(("ok", samples_of(store, name)))
        except ImportFileError as error:
            outcomes.append(("error", (error.line, error.problem)))
    assert outcomes[0] == outcomes[1]


def test_the_bulk_checks_cover_every_check_constraint_of_sample() -> None:
    """SQLite's bulk insert skips CHECKs it has evaluated itself: a new CHECK must join them."""
    names = {
        str(c.name).removeprefix("ck_sample_")
        for c in Sample.__table__.constraints
        if isinstance(c, CheckConstraint)
    }
    assert names == set(_bulk.SAMPLE_CHECKS)


@pytest.mark.parametrize(
    "change",
    [{"split": "test"}, {"state": "odd"}, {"split": "eval", "state": "queued"}, {"text": None}],
)
def test_rows_breaking_a_check_are_refused_before_the_bulk_insert(
    change: dict[str, str | None],
) -> None:
    row = {"split": "pool", "state": "unlabeled", "text": "x", "uri": None} | change
    table = pa.table({k: pa.array([v], pa.string()) for k, v in row.items()})
    with pytest.raises(StoreError, match="constraints"):
        _bulk._check_sample_constraints(table)


def test_check_constraints_hold_again_after_an_import(store: Store, tmp_path: Path) -> None:
    import_samples(store, write_csv(tmp_path / "d.csv", ROWS), "p")
    with pytest.raises(IntegrityError), store.write() as session:
        session.execute(update(Sample).where(Sample.external_id == "a").values(split="test"))
    with store.read() as session:
        assert session.scalar(select(Sample.split).where(Sample.external_id == "a")) == "pool"


def test_import_labels_are_stamped_as_sqlalchemy_writes_times(store: Store, tmp_path: Path) -> None:
    import_samples(store, write_csv(tmp_path / "d.csv", ROWS), "p")
    with store.read() as session:
        stamps = session.scalars(select(Label.updated_at)).all()
        raw = session.execute(text("SELECT updated_at FROM label")).scalars().all()
    assert len(stamps) == 3 and all(isinstance(s, datetime) for s in stamps)
    if store.dialect == "sqlite":
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", s) for s in raw)
