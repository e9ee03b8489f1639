"""Names served on first use: the module is imported then, and unknown names still fail."""

from __future__ import annotations

import sys

import pytest

from labelwise._lazy import lazy_attributes


def test_a_name_is_served_from_its_module_on_first_use() -> None:
    sys.modules.pop("colorsys", None)
    getattr_ = lazy_attributes("somepkg", {"rgb_to_hsv": "colorsys"})
    assert "colorsys" not in sys.modules
    fn = getattr_("rgb_to_hsv")
    assert fn(1.0, 0.0, 0.0) == (0.0, 1.0, 1.0)
    assert "colorsys" in sys.modules


def test_an_unknown_name_is_an_attribute_error_naming_the_package() -> None:
    with pytest.raises(AttributeError, match="module 'somepkg' has no attribute 'nope'"):
        lazy_attributes("somepkg", {})("nope")


def test_a_name_that_is_the_submodule_is_served_as_the_module() -> None:
    getattr_ = lazy_attributes("wsgiref", {"util": "wsgiref.util"})
    module = getattr_("util")
    assert module is sys.modules["wsgiref.util"]
    assert module.guess_scheme({}) == "http"


def test_importing_labelwise_imports_no_numpy_until_a_strategy_is_used() -> None:
    import subprocess

    script = (
        "import sys, labelwise\n"
        "assert 'numpy' not in sys.modules, 'numpy at import'\n"
        "assert labelwise.get_strategy('margin').needs == {'proba'}\n"
        "assert 'numpy' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
