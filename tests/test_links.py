"""Links that reopen a view: query values are hostile input, parsed by the controls' own rules."""

import pytest

from playground.errors import PlaygroundError
from playground.ui import links


def test_numbers_must_parse_and_stay_in_the_control_range():
    assert links.number({"n": "4"}, "n", 10, 1, 100, integer=True) == 4
    assert links.number({}, "n", 10, 1, 100, integer=True) == 10
    assert links.number({"psi": "0.25"}, "psi", 1.0, -1, 1.5) == 0.25
    for bad in ("1e9", "-3", "nan", "inf", "ten", ""):
        with pytest.raises(PlaygroundError, match="n must be"):
            links.number({"n": bad}, "n", 10, 1, 100, integer=True)


def test_choices_must_be_offered_by_the_control():
    pairs = [("coffee, a 64x64 crop", "coffee-crop"), ("camera", "camera")]
    assert links.choice({"example": "camera"}, "example", pairs) == "camera"
    assert links.choice({}, "example", pairs) == "coffee-crop"
    assert links.choice({"class": ""}, "class", []) is None          # an unconditional model's class
    for bad in ("../../etc/passwd", "CAMERA", "<script>"):
        with pytest.raises(PlaygroundError, match="is not one of the choices"):
            links.choice({"example": bad}, "example", pairs)
