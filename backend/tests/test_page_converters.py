"""A list page's converters (``backend/statements.py``, ADR 0051): the fields' own converters are kept with the
compiled page when no backend converter is involved (PostgreSQL), asked of the running connection otherwise (SQLite),
and a JSON column is parsed by orjson only where that answers exactly what ``JSONField.from_db_value`` does."""

import json
import math
import random

import pytest
from django.db import connection
from django.db.models.sql.compiler import SQLCompiler

from apps.fsm.models import EmployeeTransitionLog
from backend import statements

pytestmark = pytest.mark.django_db

FIELD = EmployeeTransitionLog._meta.get_field("rule_results")


def _texts() -> list:
    """JSON texts of every kind a jsonb column (or a hand-written text column) could give back, and some it could
    not: floats of every magnitude, integers around the 64-bit edges, nesting, escapes, and what orjson refuses."""
    generator = random.Random(51)
    texts = [None, {"already": "decoded"}, 7, "", "null", "true", "[]", "{}", '"text"', '"\\u00e9\\ud83d\\ude00"']
    texts += [
        '"\\ud800"',
        "NaN",
        "[Infinity, -Infinity]",
        "1e400",
        "-1e400",
        "{bad",
        "[1,]",
        "01",
        "\ufeff1",
        " [1] ",
        '{"a": 1, "a": 2}',
    ]
    for edge in (2**63, 2**64):
        texts += [str(value) for value in (edge - 1, edge, edge + 1, -edge, -edge - 1)]
    texts += [str(10**40), str(-(10**40))]
    for _ in range(3000):
        value = generator.choice(
            [
                generator.random() * 10 ** generator.randint(-320, 308),
                -generator.random() * 10 ** generator.randint(-30, 30),
                generator.uniform(-1e6, 1e6),
                float(generator.randint(-(2**53), 2**53)),
            ]
        )
        texts.append(repr(value))
        texts.append(str(generator.randint(-(10**18), 10**18)))
        texts.append(f"{generator.randint(0, 10**17)}e{generator.randint(-340, 320)}")
        texts.append(f"-{generator.randint(0, 99)}.{generator.randint(0, 10**20):020d}E{generator.randint(-9, 9)}")
    texts.append(
        json.dumps(
            [{"rule": "r", "outcome": "fail", "observed": 1.5, "threshold": None, "related": {"ids": [1, 2]}}] * 3
        )
    )
    return texts


def _typed(value):
    """A value with the type of everything in it, so 1 and 1.0 (or True) are told apart."""
    if isinstance(value, dict):
        return ("dict", [(key, _typed(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("list", [_typed(item) for item in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


def _outcome(load, text):
    try:
        return _typed(load(text, None, connection))
    except Exception as exc:  # noqa: BLE001 (Django's own raises for some values: so must the fast path)
        return ("raises", type(exc))


def test_json_columns_parse_as_djangos_from_db_value():
    load = statements._json_loader(FIELD.from_db_value)
    for text in _texts():
        assert _outcome(load, text) == _outcome(FIELD.from_db_value, text), text


QUERYSET = EmployeeTransitionLog.objects.order_by("created_at", "id")
VALUES = ("id", "created_at", "rule_results")


def _warm_page(monkeypatch) -> tuple[statements.PageStatement, list]:
    """The page compiled and kept; then how often a request asks a compiler for converters."""
    statements._cache.clear()
    key = statements.statement_key(QUERYSET)
    assert statements.page_rows(QUERYSET, VALUES, 0, 26, key) == []
    (statement,) = statements._cache.values()
    asked = []
    get_converters = SQLCompiler.get_converters
    monkeypatch.setattr(
        SQLCompiler, "get_converters", lambda self, cols: asked.append(cols) or get_converters(self, cols)
    )
    assert statements.page_rows(QUERYSET, VALUES, 0, 26, key) == []
    return statement, asked


@pytest.mark.postgres  # PostgreSQL's backend adds no converter of its own: the fields' are kept with the page
def test_a_page_keeps_its_fields_converters_when_the_backend_adds_none(monkeypatch):
    statement, asked = _warm_page(monkeypatch)
    assert statement.converted
    ((position, (functions, expression)),) = statement.converters.items()
    assert statement.columns[position] is expression
    assert expression.target is FIELD
    assert [function.__qualname__ for function in functions] == ["_json_loader.<locals>.load"]
    assert asked == []  # a warm request asks nobody


def test_a_page_asks_the_running_connection_when_its_backend_converts(monkeypatch):
    """A backend's converters are bound to its connection object (SQLite's; here any backend made to add one): the
    page keeps none and asks the connection that runs it on every request (ADR 0044)."""
    own = connection.ops.get_db_converters
    monkeypatch.setattr(
        type(connection.ops),
        "get_db_converters",
        lambda self, expression: [*own(expression), lambda value, expression, connection: value],
    )
    statement, asked = _warm_page(monkeypatch)
    assert statement.converted
    assert statement.converters is None
    assert len(asked) == 1
