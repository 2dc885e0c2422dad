"""``backend.renderers.JSONRenderer``: orjson, with DRF's JSONRenderer's bytes exactly (ADR 0031)."""

import datetime
import decimal
import uuid

import pytest
from django.utils.translation import gettext_lazy
from rest_framework import renderers
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from backend.renderers import JSONRenderer

VALUES = {
    "plain": {"count": 3, "next": None, "ok": True, "name": "Zoë Ångström", "list": [1, 2.5, "x"]},
    "small floats": [1e-05, 2.5e-09, -3.7e-07, 0.0001, 0.00012, 1e-10, 5e-324],
    "big floats": [1e16, 1.5e300, 1e15, 123456789.123, -0.0, 0.1, 100.0],
    "decimals": [decimal.Decimal("12.50"), decimal.Decimal("0.00001"), decimal.Decimal("1E+3")],
    "datetimes": [
        datetime.datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=datetime.UTC),
        datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
        datetime.datetime(2026, 11, 30, 12, 0),
        datetime.date(2026, 11, 30),
        datetime.time(8, 30, 15, 500),
        datetime.timedelta(hours=1, seconds=3),
    ],
    "uuid and lazy text": [uuid.UUID(int=42), gettext_lazy("Permission denied.")],
    "escapes": ["line\u2028sep\u2029", 'quote " back \\ slash / tab \t nl \n cr \r ctl \x1f del \x7f', "e-5 0.00001"],
    "int keys and big ints": {1: "one", "big": 2**70, "neg": -(2**63)},
    "nested drf containers": ReturnDict({"results": ReturnList([{"a": 1}], serializer=None)}, serializer=None),
    "tuples and sets of one": {"t": (1, 2), "s": frozenset([3])},
    "bytes": {"b": b"raw bytes"},
}


@pytest.mark.parametrize("name", list(VALUES))
def test_the_same_bytes_as_drf(name):
    value = VALUES[name]
    try:
        expected = renderers.JSONRenderer().render(value)
    except (TypeError, ValueError) as exc:
        with pytest.raises(type(exc)):
            JSONRenderer().render(value)
    else:
        assert JSONRenderer().render(value) == expected


def test_nothing_renders_as_nothing():
    assert JSONRenderer().render(None) == b""


def test_an_indented_answer_is_drfs():
    value = {"a": [1, {"b": 2}]}
    context = {"indent": 2}
    assert JSONRenderer().render(value, "application/json; indent=2", context) == renderers.JSONRenderer().render(
        value, "application/json; indent=2", context
    )
    assert b"\n" in JSONRenderer().render(value, "application/json; indent=2", context)


def test_an_unencodable_value_fails_as_drf_fails():
    with pytest.raises(TypeError):
        JSONRenderer().render({"x": object()})
