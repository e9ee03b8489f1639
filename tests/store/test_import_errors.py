"""A file that cannot be imported is named with the true line and column of its problem.

Header problems are the header's (line 1), not the first row's; bytes that are not text in the
file's encoding are named by line, column and byte offset; ``encoding`` reads other encodings.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from labelwise.store import ImportFileError, Store, import_samples
from labelwise.store.schema import Sample
from tests.store.factories import snapshot

LABELS = ["neg", "pos"]


def failure(store: Store, path: Path, **options: str) -> ImportFileError:
    with pytest.raises(ImportFileError) as caught:
        import_samples(store, path, "p", labels=LABELS, **options)
    assert snapshot(store)["samples"] == []
    return caught.value


def test_a_header_without_id_is_the_headers_problem(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("text,label\nfine,pos\n")
    error = failure(store, path)
    assert error.line == 1
    assert str(error).startswith(
        f"{path}, line 1: the header has no column 'id' (its columns are 'text', 'label')"
    )


def test_a_parquet_file_without_id_names_its_columns(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"text": ["a"], "label": ["pos"]}), path)
    error = failure(store, path)
    assert "the file has no column 'id' (its columns are 'text', 'label')" in str(error)


def test_a_header_repeating_a_column_is_named(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("id,text,text\na,x,y\n")
    assert "line 1: the header repeats the column(s) text" in str(failure(store, path))


def test_a_bad_byte_on_line_3_is_named_by_line_column_and_offset(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes(b"id,text,label\na,caf\xc3\xa9,pos\nb,caf\xe9 noir,neg\n")
    error = failure(store, path)
    assert (error.line, error.column) == (3, 6)
    assert "the bytes b'\\xe9' (byte offset 31) are not utf-8 text" in str(error)
    assert "--encoding" in str(error)


def test_a_bad_byte_far_down_a_long_file_is_named_on_its_own_line(
    store: Store, tmp_path: Path
) -> None:
    # Python's text reader decodes 8 KB ahead: its error would point at an early line
    rows = b"".join(b"r%d,text %d,pos\n" % (i, i) for i in range(2000))
    path = tmp_path / "d.csv"
    path.write_bytes(b"id,text,label\n" + rows + b"bad,\xff,neg\n")
    error = failure(store, path)
    assert (error.line, error.column) == (2002, 5)


def test_a_bad_byte_in_jsonl_is_named(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_bytes(b'{"id": "a", "text": "x"}\n{"id": "b", "text": "\xff"}\n')
    error = failure(store, path)
    assert (error.line, error.column) == (2, 22)


def test_an_encoding_reads_the_file(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes("id,text,label\na,café crème,pos\nb,naïve,neg\n".encode("latin-1"))
    report = import_samples(store, path, "p", labels=LABELS, encoding="latin-1")
    assert report.inserted == 2
    with store.read() as session:
        texts = session.scalars(select(Sample.text).order_by(Sample.external_id)).all()
    assert texts == ["café crème", "naïve"]


def test_a_utf16_file_reads_with_its_encoding(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes("id,text,label\r\na,ünïcode,pos\r\n".encode("utf-16"))
    assert import_samples(store, path, "p", labels=LABELS, encoding="utf-16").inserted == 1


def test_a_byte_order_mark_is_not_part_of_the_first_column(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes(b"\xef\xbb\xbfid,text,label\na,x,pos\n")
    assert import_samples(store, path, "p", labels=LABELS).inserted == 1


def test_an_unknown_encoding_is_refused_by_name(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("id,text\na,x\n")
    assert "unknown encoding 'klingon'" in str(failure(store, path, encoding="klingon"))


def test_a_row_with_too_many_fields_points_at_the_first_extra_one(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "d.csv"
    path.write_text('id,text,label\na,x,pos\nb,"y, with a comma",neg,extra\n')
    error = failure(store, path)
    assert (error.line, error.column) == (3, 25)  # "extra" starts there
    assert "4 fields where the header has 3" in str(error)


def test_a_row_with_too_few_fields_points_at_its_end(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("id,text,label\na,x,pos\nb,y\n")
    error = failure(store, path)
    assert (error.line, error.column) == (3, 4)


def test_bad_json_is_named_by_line_and_column(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"id": "a", "text": "x"}\n{"id": "b" "text": "y"}\n')
    error = failure(store, path)
    assert (error.line, error.column) == (2, 12)
    assert "not valid JSON: Expecting ',' delimiter" in str(error)


def test_a_label_space_mismatch_reads_without_doubled_quotes(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("id,text,label\na,x,pos\nb,y,neg\n")
    import_samples(store, path, "p", labels=LABELS)
    with pytest.raises(ImportFileError) as caught:
        import_samples(store, path, "p", labels=["a", "b"])
    assert "''" not in str(caught.value)
    assert "--labels differ from the label space of project 'p'" in str(caught.value)
