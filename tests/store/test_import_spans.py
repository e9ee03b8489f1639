"""Span files imported into a spans project: export, import into a fresh project, the same
spans; a bad file names its place and leaves the store as it was."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from labelwise.store import (
    ImportFileError,
    Store,
    create_project,
    export_labeled,
    get_project,
    import_samples,
    init_store,
    list_projects,
    list_samples,
)
from labelwise.store._import_spans import file_digest
from tests.store.databases import BACKENDS, fresh_database_url
from tests.store.test_export_spans import LABELS, _fill, _samples, _squeezed

Labeled = list[tuple[str, str, list[tuple[int, int, str]]]]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = init_store(f"sqlite:///{tmp_path / 'spans.db'}")
    yield opened
    opened.close()


@pytest.fixture(params=BACKENDS)
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    for url in fresh_database_url(request.param, tmp_path):
        opened = init_store(url)
        yield opened
        opened.close()


def _labeled(store: Store, project: str, tmp_path: Path) -> Labeled:
    """``(id, text, spans)`` of the project's labeled set, as its JSONL export gives them."""
    out = tmp_path / f"{project}-check.jsonl"
    export_labeled(store, project, out, "jsonl")
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return [
        (r["id"], r["text"], [(s["start"], s["end"], s["label"]) for s in r["label"]]) for r in rows
    ]


@pytest.mark.parametrize("file_format", ["jsonl", "spacy-json", "docbin"])
def test_an_export_imports_into_a_fresh_project_with_the_same_spans(
    store: Store, tmp_path: Path, file_format: str
) -> None:
    if file_format == "docbin":
        pytest.importorskip("spacy")
    _fill(store, _samples(0))
    suffix = {"jsonl": ".jsonl", "spacy-json": ".json", "docbin": ".spacy"}[file_format]
    out = tmp_path / f"export{suffix}"
    export_labeled(store, "p", out, file_format)  # type: ignore[arg-type]
    report = import_samples(store, out, "q", labels=LABELS)
    assert report.created_project and report.inserted == report.labeled == len(_samples(0))
    info = get_project(store, "q")
    assert (info.answer_kind, info.label_space) == ("spans", tuple(LABELS))
    before, after = _labeled(store, "p", tmp_path), _labeled(store, "q", tmp_path)
    assert [(t, s) for _, t, s in after] == [(t, s) for _, t, s in before]
    if file_format != "spacy-json":  # spaCy's JSON keeps no ids: the file's digest and places
        assert [i for i, _, _ in after] == [i for i, _, _ in before]
    else:
        prefix = file_digest(out)
        assert [i for i, _, _ in after] == [f"{prefix}-{n}" for n in range(len(before))]


def test_a_conll_export_imports_with_the_same_span_words_and_labels(
    store: Store, tmp_path: Path
) -> None:
    _fill(store, _samples(1))
    out = tmp_path / "export.conll"
    export_labeled(store, "p", out, "conll")
    import_samples(store, out, "q")  # the labels are the ones the file names
    assert get_project(store, "q").answer_kind == "spans"
    before, after = _labeled(store, "p", tmp_path), _labeled(store, "q", tmp_path)
    assert len(after) == len(before)
    for (_, text, spans), (_, new_text, new_spans) in zip(before, after, strict=True):
        # CoNLL keeps no spacing: the words and labels of each span are what must survive
        assert _squeezed(new_text, [_span(s) for s in new_spans]) == _squeezed(
            text, [_span(s) for s in spans]
        )


def _span(triple: tuple[int, int, str]) -> object:
    from labelwise.spans import Span

    return Span(*triple)


def test_importing_the_same_span_file_again_changes_nothing(
    any_store: Store, tmp_path: Path
) -> None:
    store = any_store
    _fill(store, _samples(0))
    out = tmp_path / "export.jsonl"
    export_labeled(store, "p", out, "jsonl")
    first = import_samples(store, out, "q")
    again = import_samples(store, out, "q")
    assert (again.inserted, again.unchanged, again.labeled) == (0, first.inserted, 0)
    assert len(list_samples(store, "q")) == first.inserted


def test_prodigy_jsonl_spans_make_a_spans_project(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "prodigy.jsonl"
    rows = [
        {
            "id": "a",
            "text": "Ada Lovelace visited Paris",
            "spans": [
                {"start": 0, "end": 12, "label": "PER", "token_start": 0, "token_end": 1},
                {"start": 21, "end": 26, "label": "LOC", "token_start": 3, "token_end": 3},
            ],
            "tokens": [{"text": "Ada", "start": 0, "end": 3, "id": 0}],
            "answer": "accept",
        },
        {"id": "b", "text": "nothing here", "spans": []},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    report = import_samples(store, path, "ner")
    assert report.labeled == 2
    info = get_project(store, "ner")
    assert (info.answer_kind, info.label_space) == ("spans", ("LOC", "PER"))
    labeled = _labeled(store, "ner", tmp_path)
    assert labeled == [
        ("a", "Ada Lovelace visited Paris", [(0, 12, "PER"), (21, 26, "LOC")]),
        ("b", "nothing here", []),
    ]
    export_labeled(store, "ner", tmp_path / "again.jsonl", "jsonl")
    first = json.loads((tmp_path / "again.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert first["meta"] == {"answer": "accept"}  # Prodigy's other fields kept, not its tokens


@pytest.mark.parametrize("file_format", ["conll", "spacy-json"])
def test_two_files_without_ids_import_into_one_project_and_export_back(
    any_store: Store, tmp_path: Path, file_format: str
) -> None:
    store = any_store
    suffix = {"conll": ".conll", "spacy-json": ".json"}[file_format]
    paths = []
    for name, samples in (("p1", _samples(2)[:5]), ("p2", _samples(3)[:5])):
        _fill(store, samples, project=name, annotator=f"a-{name}")
        paths.append(tmp_path / f"{name}{suffix}")
        export_labeled(store, name, paths[-1], file_format)  # type: ignore[arg-type]
    alone = []  # each file in a project of its own: what the shared project must hold
    for n, path in enumerate(paths):
        import_samples(store, path, f"alone{n}", labels=LABELS)
        alone += _labeled(store, f"alone{n}", tmp_path)
    reports = [import_samples(store, path, "both", labels=LABELS) for path in paths]
    assert [(r.inserted, r.labeled) for r in reports] == [(5, 5), (5, 5)]
    both = _labeled(store, "both", tmp_path)
    assert both == alone and len({i for i, _, _ in both}) == 10
    again = import_samples(store, paths[1], "both")  # the same file: the same ids, nothing new
    assert (again.inserted, again.unchanged) == (0, 5)
    out = tmp_path / f"both{suffix}"  # the shared project exports and imports back whole
    export_labeled(store, "both", out, file_format)  # type: ignore[arg-type]
    assert import_samples(store, out, "copy", labels=LABELS).labeled == 10
    assert [(t, s) for _, t, s in _labeled(store, "copy", tmp_path)] == [(t, s) for _, t, s in both]


BAD_CONLL = "Ada\tB-PER\nLovelace\tI-PER\n\nin\tO\nParis\tI-LOC\n"


@pytest.mark.parametrize(
    ("name", "content", "where", "problem"),
    [
        ("bad.conll", BAD_CONLL, "line 4", "the sentence here"),
        ("short.conll", "Ada\tB-PER\nLovelace\n", "line 2", "expected a word and a tag"),
        (
            "far.jsonl",
            '{"id": "a", "text": "Ada", "label": [[0, 3, "PER"]]}\n'
            '{"id": "b", "text": "Ada", "label": [[0, 9, "PER"]]}\n',
            "line 2",
            "outside the text",
        ),
        (
            "unknown.jsonl",
            '{"id": "a", "text": "Ada", "label": [[0, 3, "DATE"]]}\n',
            "line 1",
            "'DATE', not in",
        ),
        ("broken.json", '[{"id": 0, "paragraphs": [}]', "line 1", "not valid JSON"),
        ("notes.spacy", "not a docbin", "notes.spacy", "not spaCy DocBin"),
    ],
)
def test_a_bad_span_file_names_its_place_and_leaves_the_store_untouched(
    store: Store, tmp_path: Path, name: str, content: str, where: str, problem: str
) -> None:
    if name.endswith(".spacy"):
        pytest.importorskip("spacy")
    create_project(store, "p", LABELS, answer_kind="spans")
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ImportFileError) as raised:
        import_samples(store, path, "p")
    message = str(raised.value)
    assert message.startswith(str(path)) and where in message and problem in message
    assert list_samples(store, "p") == []
    with pytest.raises(ImportFileError):
        import_samples(store, path, "fresh")
    assert [p.name for p in list_projects(store)] == ["p"]


def test_a_span_file_is_refused_by_a_label_project(store: Store, tmp_path: Path) -> None:
    create_project(store, "c", ["neg", "pos"])
    path = tmp_path / "some.conll"
    path.write_text("Ada\tB-PER\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="span file imports into a spans project"):
        import_samples(store, path, "c")


def test_the_cli_imports_a_conll_file(tmp_path: Path) -> None:
    from tests.cli.test_store_cli import run_ok

    path = tmp_path / "train.conll"
    path.write_text("Ada\tB-PER\nLovelace\tI-PER\nin\tO\nParis\tB-LOC\n\nhi\tO\n", "utf-8")
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    run_ok("init", "--store", url)
    said = run_ok("import", str(path), "--project", "ner", "--store", url)
    assert "2 rows, 2 new samples" in said and "(created)" in said
    opened = init_store(url)
    try:
        labeled = _labeled(opened, "ner", tmp_path)
    finally:
        opened.close()
    prefix = file_digest(path)
    assert labeled == [
        (f"{prefix}-1", "Ada Lovelace in Paris", [(0, 12, "PER"), (16, 21, "LOC")]),
        (f"{prefix}-2", "hi", []),
    ]


def test_a_gold_document_with_many_entities_is_kept_whole(any_store: Store, tmp_path: Path) -> None:
    # 20 entities: 276 characters of spans, past the 200 a gold label had before 0009
    text = " ".join(["Ada"] * 20)
    spans = [[4 * i, 4 * i + 3, "PER"] for i in range(20)]
    path = tmp_path / "gold.jsonl"
    row = {"id": "g0", "text": text, "split": "gold", "label": spans}
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    create_project(any_store, "long", ["PER", "LOC"], answer_kind="spans")
    assert import_samples(any_store, path, "long").inserted == 1
    from sqlalchemy import select

    from labelwise.store.schema import Sample

    with any_store.read() as session:
        stored = session.scalar(select(Sample.gold_label).where(Sample.external_id == "g0"))
    assert stored is not None and len(stored) > 200
    assert [list(s) for s in json.loads(stored)] == spans
