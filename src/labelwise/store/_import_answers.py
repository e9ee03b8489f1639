"""The ``label`` cell of an imported row in a number, label-set or spans project, as the store
keeps it.

A classification project's label is checked against its label space (:mod:`labelwise.store._rows`);
a regression (``number``) or multi-label (``labels``) project's label goes through the same
rules as an annotator's answer (:func:`labelwise.store.answers.encode_answer`):

- ``number``: a number (``3.5``, ``"3.5"``, ``"1e3"``) within the project's ``min`` and ``max``,
  on its ``step``; kept as its shortest decimal text;
- ``labels``: labels joined by ``|`` (``"a|c"``) or a JSON list (``'["a","c"]'``, or a list in a
  JSONL file); ``"[]"`` is the empty set (a blank cell is no label). Each label must be in the
  label space and appear once; kept as a JSON array in label-space order;
- ``spans``: a list (or its JSON text) of ``[start, end, label]`` triples or ``{"start", "end",
  "label"}`` objects in the row's text, ``[]`` for a text without entities; checked against the
  text and the entity labels (:func:`~labelwise.store.answers.encode_spans`). The span files
  (CoNLL, spaCy JSON, DocBin, Prodigy's JSONL) come here as such rows
  (:mod:`labelwise.store._import_spans`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from labelwise.store.answers import AnswerError, encode_answer

if TYPE_CHECKING:
    from labelwise.store.answers import AnswerSpec

__all__ = ["LABEL_SET_SEPARATOR", "import_answer"]

#: The separator of a label set written as text (``"a|c"``).
LABEL_SET_SEPARATOR = "|"


def import_answer(spec: AnswerSpec, value: object, text: str | None = None) -> str:
    """The canonical stored text of an imported label ``value`` for a project of ``spec``.

    Parameters
    ----------
    spec : AnswerSpec
        The project's answer kind, label space, bounds and step.
    value : str, number, list of str or list of spans
        The file's ``label`` field, not blank.
    text : str, optional
        The row's text, which span offsets must lie within.

    Returns
    -------
    str
        What :func:`~labelwise.store.answers.encode_answer` keeps for it.

    Raises
    ------
    AnswerError
        Naming the problem: not a number, out of bounds, off the step, a label outside the
        label space, a repeated or empty label, a span outside the text or overlapping another.
    """
    if spec.kind == "labels" and isinstance(value, str):
        text = value.strip()
        if not text.startswith("["):
            parts = [part.strip() for part in text.split(LABEL_SET_SEPARATOR)]
            if any(not part for part in parts):
                raise AnswerError(
                    f"label set {value!r} has an empty label: write labels joined by "
                    f"{LABEL_SET_SEPARATOR!r} ('a|c') or a JSON list, '[]' for none"
                )
            value = parts
    elif spec.kind == "number" and isinstance(value, list):
        raise AnswerError(f"the answer must be a number, got {value!r}")
    return encode_answer(spec, value, text=text)
