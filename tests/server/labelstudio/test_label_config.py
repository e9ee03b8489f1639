from __future__ import annotations

import pytest

from labelwise.errors import InvalidInputError
from labelwise.server.labelstudio import parse_label_config
from tests.server.labelstudio.conftest import CONFIG


def test_text_classification_config_gives_names_key_and_choices() -> None:
    config = parse_label_config(CONFIG)
    assert (config.from_name, config.to_name, config.data_key) == ("sentiment", "text", "text")
    assert config.kind == "text"
    assert config.labels == ("Positive", "Negative")
    assert not config.multiple


def test_image_config_and_aliases() -> None:
    config = parse_label_config(
        '<View><Image name="img" value="$image"/>'
        '<Choices name="kind" toName="img" choice="multiple">'
        '<Choice value="Cat" alias="cat"/><Choice value="Dog"/></Choices></View>'
    )
    assert config.kind == "image"
    assert config.data_key == "image"
    assert config.labels == ("cat", "Dog")
    assert config.multiple


@pytest.mark.parametrize(
    ("xml", "words"),
    [
        ("<View><Text", "not valid XML"),
        ("", "empty"),
        ('<View><Text name="t" value="$t"/></View>', "no <Choices>"),
        (
            '<View><Text name="t" value="$t"/><Choices name="c" toName="x">'
            '<Choice value="a"/><Choice value="b"/></Choices></View>',
            "not a <Text>",
        ),
        (
            '<View><Text name="t" value="$t"/><Choices name="c" toName="t">'
            '<Choice value="a"/></Choices></View>',
            "fewer than 2",
        ),
        (
            '<View><Text name="t" value="plain"/><Choices name="c" toName="t">'
            '<Choice value="a"/><Choice value="b"/></Choices></View>',
            "not $field",
        ),
    ],
)
def test_configs_that_are_not_classification_are_refused(xml: str, words: str) -> None:
    with pytest.raises(InvalidInputError, match=words.replace("$", r"\$")):
        parse_label_config(xml)
