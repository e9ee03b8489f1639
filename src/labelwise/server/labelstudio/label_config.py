"""Reading a Label Studio labeling config: which tag holds the data, which tag the choices.

A classification config pairs a ``<Choices>`` control with the object it labels::

    <View>
      <Text name="text" value="$text"/>
      <Choices name="sentiment" toName="text" choice="single">
        <Choice value="Positive"/>
        <Choice value="Negative"/>
      </Choices>
    </View>

``from_name`` is the control's ``name``, ``to_name`` its ``toName``, ``data_key`` the task
field named by the object's ``value`` (``$text`` -> ``text``), and the label space the
``value`` of each ``<Choice>`` (its ``alias`` when one is given, as Label Studio stores it).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Literal

from labelwise.errors import InvalidInputError

ObjectKind = Literal["text", "image"]

#: Object tags whose content labelwise can turn into features, by kind.
OBJECT_TAGS: dict[str, ObjectKind] = {
    "text": "text",
    "hypertext": "text",
    "paragraphs": "text",
    "image": "image",
}


@dataclass(frozen=True)
class LabelConfig:
    """The classification part of a labeling config.

    Attributes
    ----------
    from_name : the ``<Choices>`` tag's name (``from_name`` of a result).
    to_name : the object tag it labels (``to_name`` of a result).
    data_key : the task ``data`` field that holds the object's content.
    kind : ``"text"`` or ``"image"``.
    labels : the choice values, in the config's order (at least two).
    multiple : whether the control allows several choices (``choice="multiple"``).
    """

    from_name: str
    to_name: str
    data_key: str
    kind: ObjectKind
    labels: tuple[str, ...]
    multiple: bool = False


def parse_label_config(xml: str) -> LabelConfig:
    """Find the first ``<Choices>`` of a text or image object in a labeling config.

    Raises
    ------
    InvalidInputError
        For XML that does not parse, or a config without a ``<Choices>`` of two or more
        choices tied to a ``<Text>``/``<Image>`` whose ``value`` names a task field.

    Examples
    --------
    >>> config = parse_label_config(
    ...     '<View><Text name="t" value="$review"/><Choices name="c" toName="t">'
    ...     '<Choice value="neg"/><Choice value="pos"/></Choices></View>'
    ... )
    >>> config.data_key, config.labels
    ('review', ('neg', 'pos'))
    """
    if not isinstance(xml, str) or not xml.strip():
        raise InvalidInputError("the label config is empty: send the project's XML config")
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise InvalidInputError(f"the label config is not valid XML: {exc}") from None
    objects: dict[str, tuple[ObjectKind, str]] = {}
    for element in root.iter():
        kind = OBJECT_TAGS.get(element.tag.lower())
        name = element.get("name")
        if kind is not None and name:
            objects[name] = (kind, element.get("value", ""))
    problems: list[str] = []
    for control in root.iter():
        if control.tag.lower() != "choices":
            continue
        name = control.get("name") or ""
        target = control.get("toName") or ""
        if target not in objects:
            problems.append(f"<Choices name={name!r}> labels {target!r}, not a <Text> or <Image>")
            continue
        kind, value = objects[target]
        if not value.startswith("$") or len(value) < 2:
            problems.append(f"<{kind.title()} name={target!r}> has value {value!r}, not $field")
            continue
        labels = [
            choice.get("alias") or choice.get("value") or ""
            for choice in control.iter()
            if choice.tag.lower() == "choice"
        ]
        labels = [label for label in labels if label]
        if len(set(labels)) < 2:
            problems.append(f"<Choices name={name!r}> has fewer than 2 distinct choices")
            continue
        return LabelConfig(
            from_name=name,
            to_name=target,
            data_key=value[1:],
            kind=kind,
            labels=tuple(dict.fromkeys(labels)),
            multiple=control.get("choice", "single").lower() == "multiple",
        )
    why = "; ".join(problems) if problems else "it has no <Choices> tag"
    raise InvalidInputError(f"the label config is not a text or image classification config: {why}")
