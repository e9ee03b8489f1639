"""labelwise's exception types: each message says what was wrong and what to do."""

from __future__ import annotations


class LabelwiseError(Exception):
    """Base class of every error labelwise raises on purpose."""


class InvalidInputError(LabelwiseError, ValueError):
    """An array, argument or file does not have the shape, range or content expected."""


class BatchSizeError(InvalidInputError):
    """A batch size that is not positive or exceeds the items available to select from."""


class NotFittedError(LabelwiseError, RuntimeError):
    """A model was asked for predictions before it was fitted."""


class UnknownStrategyError(LabelwiseError, KeyError):
    """A strategy name that the registry does not know."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class MissingInputError(InvalidInputError):
    """A strategy was called without an input it declared it needs."""


class StoreError(LabelwiseError):
    """A store operation that cannot be carried out; the store is left unchanged."""
