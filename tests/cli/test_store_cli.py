"""The store's commands: a round trip through init, import, status, versions, checkout, export;
bad input gives one error line on stderr, a non-zero exit and an unchanged store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import labelwise.cli.store_cmd  # noqa: F401 - registers the commands
from labelwise.cli import app, main
from labelwise.store import create_dataset_version, init_store
from tests.store.databases import BACKENDS, fresh_database_url
from tests.store.factories import snapshot

CSV = "id,text,label,split\na,good,pos,\nb,bad,neg,\nc,meh,,\nd,held out,neg,eval\n"


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from fresh_database_url(request.param, tmp_path)


def run_ok(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run the real entry point (its error handling included); exit code and stderr."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    code = exited.value.code
    return (code if isinstance(code, int) else 1), capsys.readouterr().err


def one_error_line(stderr: str) -> str:
    """The error message; rich may wrap a long line at the console width, so join it back."""
    assert stderr.startswith("error:") and "Traceback" not in stderr, stderr
    return " ".join(stderr.split())


def test_round_trip(url: str, tmp_path: Path) -> None:
    data = tmp_path / "reviews.csv"
    data.write_text(CSV)
    run_ok("init", "--store", url)
    assert "4 new samples" in run_ok("import", str(data), "--store", url)
    counts = json.loads(run_ok("status", "--json", "--store", url))
    assert counts["samples"] == 4
    assert counts["by_state"]["labeled"] == 3 and counts["by_state"]["unlabeled"] == 1
    store = init_store(url)
    create_dataset_version(store, "reviews")
    store.close()
    versions = json.loads(run_ok("versions", "--json", "--store", url))
    assert [(v["number"], v["n_members"]) for v in versions] == [(1, 3)]
    assert "version 1" in run_ok("checkout", "1", "--store", url)
    out = tmp_path / "labels.jsonl"
    run_ok("export", "--format", "jsonl", "--out", str(out), "--store", url)
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == ["a", "b", "d"]
    assert "samples" in run_ok("status", "--store", url)  # the rich table


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["import", "{bad}"], "label 'maybe' is not in the label space"),
        (["import", "{missing}"], "no such file"),
        (["checkout", "9"], "no dataset version 9"),
        (["status", "--project", "nope"], "no project named 'nope'"),
    ],
)
def test_bad_input_is_one_error_line_and_leaves_the_store_unchanged(
    url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "reviews.csv"
    data.write_text(CSV)
    (tmp_path / "bad.csv").write_text("id,text,label\nz,x,pos\ny,y,maybe\n")
    run_ok("init", "--store", url)
    run_ok("import", str(data), "--store", url)
    store = init_store(url)
    before = snapshot(store)
    names = {"bad": str(tmp_path / "bad.csv"), "missing": str(tmp_path / "none.csv")}
    code, stderr = run_main(capsys, *[a.format(**names) for a in args], "--store", url)
    assert code == 1
    assert message in one_error_line(stderr)
    assert snapshot(store) == before
    store.close()


def test_commands_on_a_missing_store_say_to_run_init(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, stderr = run_main(capsys, "status", "--store", f"sqlite:///{tmp_path / 'x.db'}")
    assert code == 1
    assert "labelwise init" in one_error_line(stderr)
    assert not (tmp_path / "x.db").exists()


def test_an_unknown_export_format_is_a_usage_error_naming_the_formats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, stderr = run_main(capsys, "export", "--format", "xml", "--out", str(tmp_path / "x"))
    assert code == 2  # click's usage errors, as for an unknown option
    plain = " ".join(stderr.replace("│", " ").split())
    assert "'xml' is not one of 'jsonl', 'csv', 'parquet'" in plain


def test_export_writes_a_spans_project_as_conll_and_spacy_json(url: str, tmp_path: Path) -> None:
    from labelwise.spans import Span
    from labelwise.spans.formats import from_spacy_json, read_conll
    from labelwise.store import (
        add_annotator,
        add_samples,
        create_project,
        enqueue,
        lease_next_task,
        submit_annotation,
    )

    text = "Zoë Müller flew to 北京 😀"
    store = init_store(url)
    create_project(store, "ner", ["PER", "LOC"], answer_kind="spans")
    ids = add_samples(store, "ner", [{"id": "s", "text": text}])
    add_annotator(store, "a")
    enqueue(store, "ner", ids, scores=[1.0])
    lease = lease_next_task(store, "ner", "a")
    assert lease is not None
    submit_annotation(store, lease.task_id, "a", [[0, 10, "PER"], [19, 21, "LOC"]])
    store.close()
    conll, spacy_json = tmp_path / "ner.conll", tmp_path / "ner.json"
    assert "wrote 1" in run_ok("export", "--format", "conll", "--out", str(conll), "--store", url)
    run_ok("export", "--format", "spacy-json", "--out", str(spacy_json), "--store", url)
    [read] = read_conll(conll.read_text(encoding="utf-8"))
    assert [(read.text[s.start : s.end], s.label) for s in read.spans] == [
        ("Zoë Müller", "PER"),
        ("北京", "LOC"),
    ]
    [document] = from_spacy_json(json.loads(spacy_json.read_text(encoding="utf-8")))
    assert (document.text, list(document.spans)) == (
        text,
        [Span(0, 10, "PER"), Span(19, 21, "LOC")],
    )


def test_span_formats_on_a_label_project_are_one_error_naming_the_answer_kind(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "reviews.csv"
    data.write_text(CSV)
    run_ok("init", "--store", url)
    run_ok("import", str(data), "--store", url)
    out = tmp_path / "x.conll"
    code, stderr = run_main(
        capsys, "export", "--format", "conll", "--out", str(out), "--store", url
    )
    assert code == 1
    assert "has answer kind 'label'" in one_error_line(stderr)
    assert not out.exists()
