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

A named-entity (NER) config pairs a ``<Labels>`` control with a ``<Text>``::

    <View>
      <Labels name="label" toName="text">
        <Label value="PER"/>
        <Label value="ORG"/>
      </Labels>
      <Text name="text" value="$text"/>
    </View>

Its label space is the ``value`` (or ``alias``) of each ``<Label>``: the entity types, one or
more; ``control`` is ``"labels"``. A config with both takes its ``<Choices>``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Literal

from labelwise.errors import InvalidInputError

ObjectKind = Literal["text", "image"]
#: The control a project labels with: whole-task choices, or spans of its text (NER).
Control = Literal["choices", "labels"]

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
    labels : the choice values, in the config's order (at least two); for ``<Labels>``, the
        entity types (at least one).
    multiple : whether the control allows several choices (``choice="multiple"``).
    control : ``"choices"`` (classification) or ``"labels"`` (spans of a text: NER).
    """

    from_name: str
    to_name: str
    data_key: str
    kind: ObjectKind
    labels: tuple[str, ...]
    multiple: bool = False
    control: Control = "choices"

    @property
    def spans(self) -> bool:
        """Whether the project labels spans of its text (a ``<Labels>`` config: NER)."""
        return self.control == "labels"


def parse_label_config(xml: str) -> LabelConfig:
    """Find the first ``<Choices>`` of a text or image object in a labeling config, or else
    its first ``<Labels>`` of a ``<Text>`` (NER).

    Raises
    ------
    InvalidInputError
        For XML that does not parse, or a config with neither a ``<Choices>`` of two or more
        choices tied to a ``<Text>``/``<Image>`` nor a ``<Labels>`` of one or more labels tied
        to a ``<Text>``, whose ``value`` names a task field.

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
    found = _span_config(root, objects, problems)
    if found is not None:
        return found
    why = "; ".join(problems) if problems else "it has no <Choices> or <Labels> tag"
    raise InvalidInputError(
        f"the label config is not a text or image classification config, nor a NER config "
        f"(<Labels> over <Text>): {why}"
    )


def _span_config(
    root: ET.Element, objects: dict[str, tuple[ObjectKind, str]], problems: list[str]
) -> LabelConfig | None:
    """The first ``<Labels>`` over a ``<Text>``; its problems are added to ``problems``."""
    for control in root.iter():
        if control.tag.lower() != "labels":
            continue
        name = control.get("name") or ""
        target = control.get("toName") or ""
        kind, value = objects.get(target, ("image", ""))
        if target not in objects or kind != "text":
            problems.append(f"<Labels name={name!r}> labels {target!r}, not a <Text>")
            continue
        if not value.startswith("$") or len(value) < 2:
            problems.append(f"<Text name={target!r}> has value {value!r}, not $field")
            continue
        labels = [
            label.get("alias") or label.get("value") or ""
            for label in control.iter()
            if label.tag.lower() == "label"
        ]
        labels = [label for label in labels if label]
        if not labels:
            problems.append(f"<Labels name={name!r}> has no <Label value=...>")
            continue
        return LabelConfig(
            from_name=name,
            to_name=target,
            data_key=value[1:],
            kind="text",
            labels=tuple(dict.fromkeys(labels)),
            control="labels",
        )
    return None
