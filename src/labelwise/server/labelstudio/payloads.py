"""Reading Label Studio's payloads: task values, chosen labels, integer fields, the project's
``model_version`` through its API."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from labelwise.errors import InvalidInputError
from labelwise.server.labelstudio.label_config import LabelConfig

logger = logging.getLogger(__name__)


def int_field(obj: Any, key: str, what: str) -> int:
    value = obj.get(key) if isinstance(obj, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"the {what} needs an integer {key!r}, got {value!r}")
    return value


def task_value(task: Any, config: LabelConfig, position: int) -> str:
    """The task's text, or its image's URL / path / data URI, from ``data[config.data_key]``."""
    if not isinstance(task, Mapping):
        raise InvalidInputError(f"task {position} is not an object")
    data = task.get("data")
    value = data.get(config.data_key) if isinstance(data, Mapping) else None
    if not isinstance(value, str) or (config.kind == "image" and not value.strip()):
        name = task.get("id", position)
        raise InvalidInputError(
            f"task {name} has no {config.kind} in data[{config.data_key!r}] (the config's "
            f"<{config.kind.title()} name={config.to_name!r} value=${config.data_key}>)"
        )
    return value


def chosen_label(annotation: Mapping[str, Any], config: LabelConfig) -> str | None:
    """The first choice the annotation made in the config's ``<Choices>``, or None."""
    for item in annotation.get("result") or []:
        if not isinstance(item, Mapping) or item.get("from_name") != config.from_name:
            continue
        value = item.get("value")
        choices = value.get("choices") if isinstance(value, Mapping) else None
        if isinstance(choices, list) and choices:
            choice = str(choices[0])
            if choice not in config.labels:
                raise InvalidInputError(
                    f"choice {choice!r} is not in the config's choices {list(config.labels)}"
                )
            return choice
    return None


def ask_model_version(hostname: str, token: str, ls_id: int) -> str | None:
    """The project's ``model_version`` read from Label Studio's API, or None on any failure."""
    import httpx

    url = f"{hostname.rstrip('/')}/api/projects/{ls_id}"
    for scheme in ("Token", "Bearer"):
        try:
            response = httpx.get(url, headers={"Authorization": f"{scheme} {token}"}, timeout=3.0)
        except httpx.HTTPError as exc:
            logger.info("cannot read project %d from %s: %s", ls_id, hostname, exc)
            return None
        if response.status_code == 200:
            found = response.json().get("model_version")
            return str(found) if found else None
    return None


def stack_features(rows: Sequence[Any], ls_id: int) -> Any:
    """Image feature rows as one (N, D) array; refuses rows of different lengths."""
    lengths = {len(row) for row in rows}
    if len(lengths) > 1:
        raise InvalidInputError(
            f"the image features of project {ls_id} have different lengths "
            f"{sorted(lengths)}: image_features must give one length for every image"
        )
    return np.vstack(rows)
