"""The compiled rendering of a DecimalField (``backend.serializers._fixed_decimals``) is DRF's, value for value."""

from decimal import Decimal

import pytest
from rest_framework import serializers

from backend.serializers import _fixed_decimals

VALUES = [
    Decimal("7.50"),
    Decimal("0.00"),
    Decimal("-0.00"),
    Decimal("-3.25"),
    Decimal("999999.99"),
    Decimal("7.5"),
    Decimal("7.505"),
    Decimal("7"),
    Decimal("1E+2"),
    Decimal("12345678.90"),
    Decimal("NaN"),
    3,
    2.5,
    "4.10",
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_fixed_decimals_render_as_drf(value):
    field = serializers.DecimalField(max_digits=8, decimal_places=2)
    render = _fixed_decimals(field)
    try:
        expected = field.to_representation(value)
    except Exception as error:  # noqa: BLE001 - the same error either way
        with pytest.raises(type(error)):
            render(value)
    else:
        assert render(value) == expected
        assert type(render(value)) is str


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_digits": 8, "decimal_places": 2, "coerce_to_string": False},
        {"max_digits": 8, "decimal_places": 2, "localize": True},
        {"max_digits": 8, "decimal_places": 2, "normalize_output": True},
        {"max_digits": None, "decimal_places": 2},
    ],
)
def test_other_decimal_fields_render_through_drf(kwargs):
    assert _fixed_decimals(serializers.DecimalField(**kwargs)) is None
