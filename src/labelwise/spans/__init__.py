"""Sequence labeling and NER spans: taggers, sequence strategies, span formats and agreement.

- :mod:`~labelwise.spans.document`: :class:`Span`, :class:`Token`, :class:`Document`.
- :mod:`~labelwise.spans.tokens`, :mod:`~labelwise.spans.tags`: offset-keeping tokenizers,
  spans to BIO/BILUO tags and back.
- :mod:`~labelwise.spans.formats`: JSONL spans, CoNLL, spaCy JSON and DocBin.
- :mod:`~labelwise.spans.crf` (python-crfsuite), :mod:`~labelwise.spans.torch_tagger` (torch):
  taggers giving per-token marginals, best paths and (torch) MC-Dropout samples.
- :mod:`~labelwise.spans.strategies`: pure sequence scores (least confidence of the best path,
  MNLP, token entropy, sequence BALD, uncertain windows of long documents);
  :mod:`~labelwise.spans.selection`: the same behind ``select(inputs, batch_size, rng)`` and a
  registry of their own (why: see that module).
- :mod:`~labelwise.spans.agreement`: exact and overlap span F1, majority aggregation.
- :mod:`~labelwise.spans.suggest`: the model's spans with scores, as suggestions.
- :mod:`~labelwise.spans.inputs`: what a sequence strategy reads, from a tagger (the round is
  :class:`labelwise.loop.RoundEngine`'s, as for every model);
  :mod:`~labelwise.spans.corpora`: shipped NER corpora; span-F1 learning curves are in
  :mod:`labelwise.simulate.spans`.

The taggers, formats and corpora import their optional dependencies when used.
"""

from __future__ import annotations

from labelwise.spans.agreement import SpanScores, aggregate_spans, pairwise_span_f1, span_f1
from labelwise.spans.document import Document, Span, SpanError, Token, check_spans
from labelwise.spans.formats import (
    from_docbin,
    from_spacy_json,
    read_conll,
    read_jsonl,
    to_docbin,
    to_spacy_json,
    write_conll,
    write_jsonl,
)
from labelwise.spans.selection import (
    DEFAULT_SEQUENCE_STRATEGY,
    SequenceInputs,
    SequenceStrategy,
    available_sequence_strategies,
    get_sequence_strategy,
)
from labelwise.spans.strategies import (
    independent_path_log_proba,
    least_confidence_path,
    mnlp,
    sequence_bald,
    token_entropy,
    uncertain_windows,
)
from labelwise.spans.suggest import Suggestion, suggest_spans
from labelwise.spans.tags import spans_to_tags, tags_to_spans
from labelwise.spans.tokens import tokenize

__all__ = [
    "DEFAULT_SEQUENCE_STRATEGY",
    "Document",
    "SequenceInputs",
    "SequenceStrategy",
    "Span",
    "SpanError",
    "SpanScores",
    "Suggestion",
    "Token",
    "aggregate_spans",
    "available_sequence_strategies",
    "check_spans",
    "from_docbin",
    "from_spacy_json",
    "get_sequence_strategy",
    "independent_path_log_proba",
    "least_confidence_path",
    "mnlp",
    "pairwise_span_f1",
    "read_conll",
    "read_jsonl",
    "sequence_bald",
    "span_f1",
    "spans_to_tags",
    "suggest_spans",
    "tags_to_spans",
    "to_docbin",
    "to_spacy_json",
    "token_entropy",
    "tokenize",
    "uncertain_windows",
    "write_conll",
    "write_jsonl",
]
