"""The compiled rendering of a ChoiceField (``backend.serializers._plain_choices``, ADR 0046) is DRF's, value for
value, and only for choices that are strings standing for themselves."""

import pytest
from django.db import models
from rest_framework import serializers

from backend.serializers import _plain_choices


class Kind(models.TextChoices):
    CONTRACTED = "contracted", "Contracted"
    LEAVE = "leave", "Leave"


class Level(models.IntegerChoices):
    LOW = 1, "Low"
    HIGH = 2, "High"


VALUES = ["contracted", "leave", "", "not-a-choice", Kind.LEAVE, 1, 2, 3, 1.0, True, "1", "2"]


@pytest.mark.parametrize("choices", [Kind.choices, [("a", "A"), ("b", "B")]], ids=["text choices", "pairs"])
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_plain_choices_render_as_drf(choices, value):
    field = serializers.ChoiceField(choices=choices)
    render = _plain_choices(field)
    assert render is not None
    assert render(value) == field.to_representation(value)
    assert type(render(value)) is type(field.to_representation(value))


@pytest.mark.parametrize(
    "field",
    [
        serializers.ChoiceField(choices=Level.choices),  # "1" renders as 1: a lookup that changes the value
        serializers.ChoiceField(choices=[("1", "One"), (2, "Two")]),
        serializers.MultipleChoiceField(choices=Kind.choices),  # renders a set
        serializers.CharField(),
    ],
    ids=["integer choices", "mixed choices", "multiple choice", "not a choice field"],
)
def test_other_fields_render_through_drf(field):
    assert _plain_choices(field) is None
