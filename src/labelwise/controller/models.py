"""The models the annotation service can train, by name, and which strategies each serves.

The service's features are dense (sentence embeddings, pixels or standardised columns, see
:mod:`labelwise.controller.features`), so embeddings for diversity strategies always come from
them; what differs between the models is the rest:

* ``logreg``: logistic regression, warm-started between rounds; probabilities only.
* ``committee``: a bootstrap committee of 5 logistic regressions (query-by-committee; its
  members are also the samples that BALD-style strategies read).
* ``mc_dropout``: a one-hidden-layer network with dropout (PyTorch; Gal & Ghahramani 2016): MC
  Dropout samples, its own embeddings and BADGE's gradient embeddings.
* ``auto``: the first of these that serves the strategy (``logreg`` whenever it does).

:func:`resolve_model` is where a (strategy, model) pair is refused, with what is missing and
which model choice supplies it, when a setting is made.

Regression and multi-label projects (answer kinds ``number`` and ``labels``, see
:mod:`labelwise.store.answers`) have one service model each (:data:`TASK_MODELS`):

* ``bootstrap_ridge``: ridge regression with 8 bootstrap members (their spread is what
  ``qbc_variance``, the default, and ``predictive_variance`` read);
* ``one_vs_rest``: one logistic regression per label (label probabilities; the default
  strategy is ``multilabel_adaptive``, Li & Guo 2013).

NER projects (answer kind ``spans``) train a linear-chain CRF
(:class:`labelwise.spans.CRFTagger`, ``crf``) on the labeled texts' tokens and BIO tags
(:func:`span_sequences`, :func:`span_targets`); their default strategy is ``mnlp``
(maximum normalized log-probability, Shen et al. 2017), one of
:func:`labelwise.spans.available_sequence_strategies`.

The loop's ``strategy`` setting is used when it serves the project's task
(:func:`task_strategy`); otherwise the task's default runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from labelwise.errors import InvalidInputError
from labelwise.loop.capabilities import what_supplies
from labelwise.models.base import Model
from labelwise.spans.document import Token
from labelwise.strategies import get_strategy

__all__ = [
    "MODEL_CHOICES",
    "SERVICE_MODELS",
    "TASK_MODELS",
    "build_model",
    "build_task_model",
    "resolve_model",
    "runnable_strategies",
    "span_sequences",
    "span_targets",
    "task_strategy",
    "task_targets",
]

#: What each service model supplies besides the features' embeddings (checked against the built
#: models in the tests).
SERVICE_MODELS: dict[str, frozenset[str]] = {
    "logreg": frozenset({"proba"}),
    "committee": frozenset({"proba", "samples", "committee_proba"}),
    "mc_dropout": frozenset(
        {
            "proba",
            "samples",
            "committee_proba",
            "embeddings",
            "labeled_embeddings",
            "grad_embeddings",
        }
    ),
}
#: Every value the ``model`` setting takes.
MODEL_CHOICES: tuple[str, ...] = ("auto", *SERVICE_MODELS)
_FROM_FEATURES = frozenset({"embeddings", "labeled_embeddings"})


def _torch_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def _serves(model: str, needs: frozenset[str]) -> list[str]:
    return sorted(needs - SERVICE_MODELS[model] - _FROM_FEATURES)


def resolve_model(strategy: str, model: str = "auto") -> str:
    """The service model that runs ``strategy``: ``model`` itself, checked, or ``auto``'s pick.

    Raises :class:`InvalidInputError` naming what the strategy needs, what the model lacks and
    which model choice supplies it.
    """
    needs = frozenset(get_strategy(strategy).needs)
    if model not in MODEL_CHOICES:
        raise InvalidInputError(
            f"unknown model {model!r}; choose one of {', '.join(MODEL_CHOICES)}"
        )
    if model != "auto":
        missing = _serves(model, needs)
        if missing:
            fits = [m for m in SERVICE_MODELS if not _serves(m, needs)]
            raise InvalidInputError(
                f"strategy {strategy!r} needs {', '.join(missing)}, which model {model!r} cannot "
                f"supply ({what_supplies(missing)}); choose model "
                + " or ".join(repr(m) for m in fits)
                + " (or 'auto')"
            )
        return model
    for name in ("logreg", "committee", "mc_dropout"):
        if not _serves(name, needs) and (name != "mc_dropout" or _torch_available()):
            return name
    raise InvalidInputError(
        f"strategy {strategy!r} needs {', '.join(sorted(needs))}: only the 'mc_dropout' model "
        "supplies them and it needs PyTorch (pip install labelwise[torch])"
    )


def runnable_strategies(model: str = "auto") -> list[str]:
    """The registered strategies the model choice can run (for the settings' select box)."""
    from labelwise.strategies import available_strategies

    found = []
    for name in available_strategies():
        try:
            resolve_model(name, model)
        except InvalidInputError:
            continue
        found.append(name)
    return found


def build_model(name: str, classes: Sequence[str], n_features: int, seed: int) -> Model:
    """A fresh, unfitted service model ``name`` over the label space ``classes``."""
    from sklearn.linear_model import LogisticRegression

    from labelwise.models import BootstrapCommittee, SklearnModel

    estimator: Any = LogisticRegression(C=3.0, max_iter=500)
    if name == "logreg":
        return SklearnModel(estimator, classes=list(classes), warm_start=True)
    if name == "committee":
        return BootstrapCommittee(estimator, 5, classes=list(classes), random_state=seed)
    if name == "mc_dropout":
        from labelwise.models import TorchModel, mlp

        return TorchModel(
            mlp(n_features, len(classes), hidden=128, dropout=0.5),
            classes=list(classes),
            epochs=30,
            batch_size=32,
            weight_decay=1e-4,
            warm_start=True,
            random_state=seed,
        )
    raise InvalidInputError(f"unknown model {name!r}; choose one of {', '.join(SERVICE_MODELS)}")


#: Per answer kind of a non-classification project: (task, service model, default strategy).
TASK_MODELS: dict[str, tuple[str, str, str]] = {
    "number": ("regression", "bootstrap_ridge", "qbc_variance"),
    "labels": ("multilabel", "one_vs_rest", "multilabel_adaptive"),
    "spans": ("sequence", "crf", "mnlp"),
}


def task_strategy(answer_kind: str, strategy: str) -> str:
    """The strategy a project of ``answer_kind`` runs: ``strategy`` when it serves the task,
    else the task's default (:data:`TASK_MODELS`)."""
    from labelwise.strategies import available_strategies

    if answer_kind not in TASK_MODELS:
        return strategy
    task, _, default = TASK_MODELS[answer_kind]
    if task == "sequence":
        from labelwise.spans import available_sequence_strategies

        return strategy if strategy in available_sequence_strategies() else default
    return strategy if strategy in available_strategies(task) else default  # type: ignore[arg-type]


def build_task_model(answer_kind: str, seed: int) -> Model:
    """A fresh, unfitted service model of a regression (``number``), multi-label (``labels``)
    or NER (``spans``: a :class:`~labelwise.spans.CRFTagger`) project."""
    from sklearn.linear_model import LogisticRegression, Ridge

    from labelwise.models import SklearnMultilabel, SklearnRegressor

    if answer_kind == "spans":
        from labelwise.spans.crf import CRFTagger

        return CRFTagger(max_iterations=50)  # type: ignore[return-value]
    if answer_kind == "number":
        return SklearnRegressor(Ridge(alpha=1.0), n_bootstrap=8, random_state=seed)  # type: ignore[return-value]
    if answer_kind == "labels":
        return SklearnMultilabel(LogisticRegression(C=3.0, max_iter=500))  # type: ignore[return-value]
    raise InvalidInputError(f"no task model for answer kind {answer_kind!r}")


def task_targets(answer_kind: str, values: Sequence[str], classes: Sequence[str]) -> Any:
    """The training targets of stored labels: the labels themselves (classification), floats
    (regression) or an (N, Q) 0/1 matrix in label-space order (multi-label)."""
    import json

    import numpy as np

    if answer_kind == "number":
        return np.asarray([float(v) for v in values], dtype=np.float64)
    if answer_kind == "labels":
        column = {label: q for q, label in enumerate(classes)}
        out = np.zeros((len(values), len(classes)), dtype=np.int64)
        for i, text in enumerate(values):
            for label in json.loads(text):
                out[i, column[label]] = 1
        return out
    return np.asarray(list(values), dtype=object)


def span_sequences(texts: Sequence[str | None]) -> tuple[list[list[Token]], list[list[str]]]:
    """The tokens (with their character offsets) and the token texts of each text: what a
    tagger of a ``spans`` project reads (:func:`labelwise.spans.tokenize`, regex)."""
    from labelwise.spans.tokens import tokenize

    tokens = [tokenize(text or "") for text in texts]
    return tokens, [[t.text for t in toks] for toks in tokens]


def span_targets(tokens: Sequence[Sequence[Token]], values: Sequence[str]) -> list[list[str]]:
    """BIO tags of stored span answers over the texts' tokens; a span off token boundaries
    is widened to the tokens it touches (an annotator's selection may cut a token)."""
    from labelwise.spans.tags import spans_to_tags
    from labelwise.store.answers import decode_spans

    return [
        spans_to_tags(toks, decode_spans(value), alignment="expand")
        for toks, value in zip(tokens, values, strict=True)
    ]
