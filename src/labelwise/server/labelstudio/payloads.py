"""Reading Label Studio's payloads: task values, chosen labels, integer fields, the project's
``model_version`` through its API."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from labelwise.errors import InvalidInputError
from labelwise.server.labelstudio.label_config import LabelConfig

logger = logging.getLogger(__name__)

#: The most result regions one annotation may carry.
MAX_RESULT_REGIONS = 100
#: The most bytes read of Label Studio's answer about a project.
MAX_PROJECT_BYTES = 1024 * 1024


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
    """The first choice the annotation made in the config's ``<Choices>``, or None.

    Regions of other controls are skipped; a region of the config's ``<Choices>`` must label
    the config's object with choices from its label space (every one, not only the first).

    Raises
    ------
    InvalidInputError
        For a result that is not a list of at most :data:`MAX_RESULT_REGIONS` objects, or a
        ``<Choices>`` region with another ``to_name``, no list of choices, more choices than
        the label space has, or a choice outside it.
    """
    result = annotation.get("result") or []
    if not isinstance(result, list) or len(result) > MAX_RESULT_REGIONS:
        raise InvalidInputError(
            f"an annotation's 'result' must be a list of at most {MAX_RESULT_REGIONS} regions"
        )
    found: str | None = None
    for item in result:
        if not isinstance(item, Mapping):
            raise InvalidInputError("an annotation's 'result' holds something that is no object")
        if item.get("from_name") != config.from_name:
            continue
        if item.get("to_name") != config.to_name:
            raise InvalidInputError(
                f"the annotation's <Choices name={config.from_name!r}> region labels "
                f"{item.get('to_name')!r}, but the config's labels {config.to_name!r}"
            )
        value = item.get("value")
        choices = value.get("choices") if isinstance(value, Mapping) else None
        if not isinstance(choices, list) or len(choices) > len(config.labels):
            raise InvalidInputError(
                f"the annotation's <Choices name={config.from_name!r}> region needs "
                f"'value': {{'choices': [...]}} with at most {len(config.labels)} choices"
            )
        for choice in choices:
            if not isinstance(choice, str) or choice not in config.labels:
                raise InvalidInputError(
                    f"choice {choice!r} is not in the config's choices {list(config.labels)}"
                )
        if found is None and choices:
            found = choices[0]
    return found


def annotation_label(annotation: Mapping[str, Any], config: LabelConfig, value: str) -> str | None:
    """The label an annotation gives its task: the first choice (:func:`chosen_label`), or
    for a NER project the span label of its spans in ``value``, the task text
    (:func:`labelwise.server.labelstudio.ner.span_label`; ``"[]"``: no entity)."""
    if config.spans:
        from labelwise.server.labelstudio.ner import span_label

        return span_label(annotation, config, value)
    return chosen_label(annotation, config)


def ask_model_version(hostname: str, token: str, ls_id: int) -> str | None:
    """The project's ``model_version`` read from Label Studio's API, or None on any failure.

    ``hostname`` is the configured Label Studio URL: no redirect is followed, the answer is
    read up to :data:`MAX_PROJECT_BYTES` and each try has 3 s.
    """
    import httpx

    url = f"{hostname.rstrip('/')}/api/projects/{ls_id}"
    with httpx.Client(follow_redirects=False, timeout=3.0) as client:
        for scheme in ("Token", "Bearer"):
            try:
                with client.stream(
                    "GET", url, headers={"Authorization": f"{scheme} {token}"}
                ) as response:
                    if response.status_code != 200:
                        continue
                    body = bytearray()
                    for chunk in response.iter_bytes():
                        body += chunk
                        if len(body) > MAX_PROJECT_BYTES:
                            logger.info("project %d's answer from %s is too big", ls_id, hostname)
                            return None
            except httpx.HTTPError as exc:
                logger.info("cannot read project %d from %s: %s", ls_id, hostname, exc)
                return None
            try:
                found = json.loads(body).get("model_version")
            except (ValueError, AttributeError):
                return None
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
