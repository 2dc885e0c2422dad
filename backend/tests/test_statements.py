"""``backend.statements.query_state``: equal for queries built alike, different when anything compiled differs (a
value, its type, its zone, its places), None for anything it does not know; the cache follows the setting."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Value
from django.test import override_settings

from backend import statements
from backend.statements import query_state, statement_key


def _users():
    return get_user_model().objects.all()


def test_queries_built_alike_have_one_state():
    one = _users().filter(email__startswith="a", pk__gt=3).order_by("email")
    other = _users().filter(email__startswith="a", pk__gt=3).order_by("email")
    assert query_state(one.query) is not None
    assert query_state(one.query) == query_state(other.query)
    assert hash(query_state(one.query)) == hash(query_state(other.query))


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ({"pk": 1}, {"pk": 2}),
        ({"email": "a"}, {"email": "b"}),
        ({"email__startswith": "a"}, {"email__istartswith": "a"}),
        ({"pk__in": [1, 2]}, {"pk__in": [1, 3]}),
        (
            {"date_joined__gte": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)},
            {"date_joined__gte": datetime.datetime(2026, 1, 1, 1, tzinfo=ZoneInfo("Europe/Paris"))},  # same instant
        ),
    ],
)
def test_a_different_filter_is_a_different_state(one, other):
    assert query_state(_users().filter(**one).query) != query_state(_users().filter(**other).query)


def test_values_of_other_types_or_places_are_other_states():
    def annotated(value):
        return query_state(_users().annotate(x=Value(value)).query)

    assert annotated(1) != annotated(True)
    assert annotated(Decimal("1.0")) != annotated(Decimal("1.00"))
    assert annotated(1.0) != annotated(1)


def test_order_and_joins_are_part_of_the_state():
    plain = _users().order_by("email")
    assert query_state(plain.query) != query_state(_users().order_by("-email").query)
    assert query_state(plain.query) != query_state(_users().filter(org_unit__code="x").order_by("email").query)


def test_anything_unknown_is_unkeyable():
    assert query_state(_users().annotate(x=Value(object())).query) is None


def test_the_setting_switches_the_cache_off_and_a_settings_change_empties_it():
    statements._cache["sentinel"] = "kept"
    with override_settings(COVERIS_STATEMENT_CACHE=False):
        assert "sentinel" not in statements._cache
        assert statement_key(_users()) is None
    assert statement_key(_users()) is not None
