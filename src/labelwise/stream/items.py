"""What flows through a stream: one item, with what an annotator sees and what a model reads."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from labelwise.errors import InvalidInputError


@dataclass(frozen=True)
class StreamItem:
    """One arriving item.

    Parameters
    ----------
    id : the item's id, unique in the stream (the store's external id when it is asked).
    text : the text an annotator reads and, without ``features``, the model's input (hashed).
    image : a path or URI of an image an annotator looks at (needs ``features`` for the model).
    features : numbers the model reads, when the item brings its own.
    label : the known answer, when there is one (simulation, or items labeled upstream).
    """

    id: str
    text: str | None = None
    image: str | None = None
    features: tuple[float, ...] | None = None
    label: str | None = None

    @property
    def viewable(self) -> bool:
        """Whether an annotator has something to look at (a text or an image)."""
        return self.text is not None or self.image is not None


def item_from_record(record: Any, position: int = 0) -> StreamItem:
    """A :class:`StreamItem` from a JSON object ``{"id", "text" | "image" | "features",
    "label"?}``; a :class:`StreamItem` is returned as it is.

    Raises
    ------
    InvalidInputError
        Naming the record's position, for a record without an id or without any content.
    """
    if isinstance(record, StreamItem):
        return record
    if not isinstance(record, Mapping):
        raise InvalidInputError(f"stream record {position} is not an object: {record!r:.80}")
    raw_id = record.get("id")
    if raw_id is None or isinstance(raw_id, bool) or str(raw_id).strip() == "":
        raise InvalidInputError(f"stream record {position} has no 'id'")
    text = record.get("text")
    image = record.get("image")
    if text is not None and not isinstance(text, str):
        raise InvalidInputError(f"stream record {raw_id!r}: 'text' must be a string")
    if image is not None and not isinstance(image, str):
        raise InvalidInputError(f"stream record {raw_id!r}: 'image' must be a string")
    features = record.get("features")
    values: tuple[float, ...] | None = None
    if features is not None:
        try:
            values = tuple(float(v) for v in features)
        except (TypeError, ValueError):
            raise InvalidInputError(
                f"stream record {raw_id!r}: 'features' must be a list of numbers"
            ) from None
        if not values or not all(math.isfinite(v) for v in values):
            raise InvalidInputError(
                f"stream record {raw_id!r}: 'features' must be a non-empty list of finite numbers"
            )
    if text is None and values is None:
        raise InvalidInputError(
            f"stream record {raw_id!r} has neither 'text' nor 'features': nothing to score"
        )
    label = record.get("label")
    return StreamItem(
        id=str(raw_id).strip(),
        text=text,
        image=image,
        features=values,
        label=None if label is None else str(label),
    )
