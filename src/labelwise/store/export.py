"""``export``: the labeled set, or any dataset version, as JSONL, CSV or Parquet (and a spans
project's as CoNLL, spaCy JSON or DocBin: :mod:`labelwise.store.export_spans`).

One row per labeled sample: ``id``, ``text``, ``image``, ``split``, ``label``, ``method``,
``agreement``, ``n_annotations``, ``annotations`` (each annotator's answer, time and seconds
spent; for a version, the annotations made up to that version) and ``meta``. CSV holds
``annotations`` and ``meta`` as JSON text. In a number project ``label`` and each answer are
numbers, in a multi-label project lists of labels (JSON text in a CSV cell); Parquet keeps the
stored text (see :mod:`labelwise.store.answers`).

``annotations`` lists the answers that stand: an answer taken back by an undo is left out (as
it is from the label). With ``include_retracted=True`` the list is each annotator's whole
history: retracted answers appear too, marked with ``retracted_at`` and ``retracted_by``
(None on the answers that stand). For a version, an answer retracted after the version was
made counts as standing, as it did then.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import aliased

from labelwise.store.answers import AnswerSpec, decode_answer
from labelwise.store.engine import Store
from labelwise.store.errors import StoreError
from labelwise.store.projects import project_row
from labelwise.store.schema import (
    Annotation,
    Annotator,
    DatasetVersionMember,
    Label,
    Sample,
)
from labelwise.store.versions import version_row

__all__ = ["EXPORT_FORMATS", "ExportFormat", "export_labeled"]

ExportFormat = Literal["jsonl", "csv", "parquet", "conll", "spacy-json", "docbin"]
#: The last three are for spans projects only (:mod:`labelwise.store.export_spans`).
EXPORT_FORMATS: tuple[str, ...] = ("jsonl", "csv", "parquet", "conll", "spacy-json", "docbin")
COLUMNS = (
    "id",
    "text",
    "image",
    "split",
    "label",
    "method",
    "agreement",
    "n_annotations",
    "annotations",
    "meta",
)


def export_labeled(
    store: Store,
    project: str,
    out: str | Path,
    file_format: ExportFormat = "jsonl",
    *,
    version: int | None = None,
    include_retracted: bool = False,
) -> int:
    """Write the labeled set (or dataset version ``version``) to ``out``.

    ``include_retracted`` adds the answers taken back by an undo to each sample's
    ``annotations``, marked with ``retracted_at`` and ``retracted_by`` (see the module's notes).
    ``conll``, ``spacy-json`` and ``docbin`` write a spans project's samples and aggregated
    spans (:func:`labelwise.store.export_spans.export_spans`); they hold no annotations.

    Returns
    -------
    int
        The number of samples written.
    """
    if file_format not in EXPORT_FORMATS:
        raise StoreError(f"export format must be one of {', '.join(EXPORT_FORMATS)}")
    if file_format in ("conll", "spacy-json", "docbin"):
        from labelwise.store.export_spans import export_spans

        if include_retracted:
            raise StoreError(
                f"--include-retracted needs the answers, which {file_format} does not hold; "
                "export as jsonl, csv or parquet"
            )
        return export_spans(store, project, out, file_format, version=version)
    out = Path(out)
    if not out.parent.is_dir():
        raise StoreError(f"cannot write {out}: folder {out.parent} does not exist")
    rows = _rows(store, project, version, include_retracted, native=file_format != "parquet")
    if file_format == "jsonl":
        with out.open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    elif file_format == "csv":
        with out.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            for row in rows:
                writer.writerow(
                    {
                        **row,
                        "label": _cell(row["label"]),
                        "annotations": json.dumps(row["annotations"], default=str),
                        "meta": None if row["meta"] is None else json.dumps(row["meta"]),
                    }
                )
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        for row in rows:
            row["meta"] = None if row["meta"] is None else json.dumps(row["meta"], default=str)
        schema = _parquet_schema(pa, include_retracted)
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), out)
    return len(rows)


def _parquet_schema(pa: Any, include_retracted: bool) -> Any:
    fields = [
        ("annotator", pa.string()),
        ("label", pa.string()),
        ("at", pa.timestamp("us")),
        ("seconds_spent", pa.float64()),
    ]
    if include_retracted:
        fields += [("retracted_at", pa.timestamp("us")), ("retracted_by", pa.string())]
    annotation = pa.struct(fields)
    return pa.schema(
        [
            ("id", pa.string()),
            ("text", pa.string()),
            ("image", pa.string()),
            ("split", pa.string()),
            ("label", pa.string()),
            ("method", pa.string()),
            ("agreement", pa.float64()),
            ("n_annotations", pa.int64()),
            ("annotations", pa.list_(annotation)),
            ("meta", pa.string()),
        ]
    )


def _cell(value: object) -> object:
    """A label in a CSV cell: a set of labels as its JSON text, anything else as is."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list) else value


def _rows(
    store: Store, project: str, version: int | None, include_retracted: bool, native: bool
) -> list[dict[str, Any]]:
    with store.read() as session:
        row = project_row(session, project)
        spec = AnswerSpec.of(row.answer_kind, row.label_space, row.settings)

        def value_of(text: str | None) -> object:
            return text if text is None or not native else decode_answer(spec, text)

        if version is None:
            source: Any = Label
            query = select(Sample, Label.value, Label.method, Label.agreement, Label.n_annotations)
            query = query.join(Label, Label.sample_id == Sample.id).where(
                Label.project_id == row.id
            )
            until = None
        else:
            found = version_row(session, row.id, version)
            source = DatasetVersionMember
            query = select(
                Sample,
                source.value,
                source.method,
                source.agreement,
                source.n_annotations,
            )
            query = query.join(source, source.sample_id == Sample.id).where(
                source.version_id == found.id
            )
            until = found.created_at
        votes: dict[int, list[dict[str, Any]]] = defaultdict(list)
        retractor = aliased(Annotator)
        annotations = (
            select(Annotation, Annotator.name, retractor.name)
            .join(Annotator, Annotator.id == Annotation.annotator_id)
            .outerjoin(retractor, retractor.id == Annotation.retracted_by)
            .where(Annotation.project_id == row.id)
            .order_by(Annotation.created_at, Annotation.id)
        )
        if until is not None:
            annotations = annotations.where(Annotation.created_at <= until)
        for annotation, name, retractor_name in session.execute(annotations):
            retracted_at: datetime | None = annotation.retracted_at
            retracted_by: str | None = retractor_name
            if until is not None and retracted_at is not None and retracted_at > until:
                retracted_at = retracted_by = None  # it still stood when the version was made
            if retracted_at is not None and not include_retracted:
                continue
            vote = {
                "annotator": name,
                "label": value_of(annotation.value),
                "at": annotation.created_at,
                "seconds_spent": annotation.seconds_spent,
            }
            if include_retracted:
                vote |= {"retracted_at": retracted_at, "retracted_by": retracted_by}
            votes[annotation.sample_id].append(vote)
        return [
            {
                "id": sample.external_id,
                "text": sample.text,
                "image": sample.uri,
                "split": sample.split,
                "label": value_of(value),
                "method": method,
                "agreement": agreement,
                "n_annotations": n,
                "annotations": votes.get(sample.id, []),
                "meta": sample.meta,
            }
            for sample, value, method, agreement, n in session.execute(query.order_by(Sample.id))
        ]
