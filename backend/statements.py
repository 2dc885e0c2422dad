"""Compiled list statements kept per query state (ADR 0039): a list page's two statements compiled once, not per
request.

Every list request builds its queryset (selector, scope, filters, order) and Django then compiles two statements from
it: the light ``SELECT pk …`` that counts (``backend.pagination.key_rows``) and the page's ``values_list`` (ADR 0035).
Building the ``values_list`` and compiling both is about a third of the page's CPU, and it gives the same text for
the same query state every time. Compiling is a function of the query's state, the database connection, the current
time zone and the settings, so this module keys the compiled statement on exactly those:

- ``query_state(query)`` walks the whole state of a ``Query`` — every attribute its instance holds (what the class
  holds is the same for all), through its where tree, joins, annotations, ordering and subqueries — down to plain
  values (numbers, text, dates, model classes, model fields), each with its type. Anything it does not know (a model
  instance, an unresolved reference, a class of its own) makes the state unkeyable, and the statement is compiled as
  before: an unknown never shares an entry, it only misses;
- the key adds the database alias (compiling reads the connection's features and time zone, which every connection
  object of one alias shares in a process: one settings entry, one server) and the current time zone's name; any
  settings change (tests) empties the cache. Not the connection object itself: under ASGI Django makes a new one for
  every request (its connections are context-local), so a key holding it never hit in production (ADR 0044). A page
  whose columns need converters (SQLite's) gets them from the connection that runs it, on every request;
- the filter values are part of the state, so an entry's parameters are the very parameters Django would compile.

``COVERIS_STATEMENT_CACHE = False`` switches it off (the benchmark's "0039 off"). ``backend/tests/test_statements.py``
holds every list, for every role and every documented filter and ordering, to the same SQL, parameters and body with
the cache cold, warm and off.
"""

import datetime
import decimal
import enum
import re
import uuid
from contextlib import suppress
from typing import Any, NamedTuple

import orjson
from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.core.signals import setting_changed
from django.db import connections
from django.db.models import F, Field, JSONField, Model, QuerySet
from django.db.models.expressions import BaseExpression
from django.db.models.fields.reverse_related import ForeignObjectRel
from django.db.models.sql import Query
from django.db.models.sql.datastructures import BaseTable, Join
from django.db.models.sql.where import WhereNode
from django.utils import timezone

# Plain values keyed as (type, value): equal values of one type are adapted to the same SQL parameter.
_ATOMS = (str, int, bytes, datetime.date, datetime.time, datetime.timedelta, uuid.UUID)
_EXACT_ATOMS = frozenset({int, bool, bytes, datetime.date, datetime.time, datetime.timedelta, uuid.UUID})
# Objects whose state is their attributes: walked attribute by attribute.
_NODES = (Query, WhereNode, BaseExpression, Join, BaseTable)
# What an expression was built from (``deconstructible``) and the equality key Django derives from it (cached on the
# instance once compared); its state is in its other attributes.
_SKIPPED = frozenset({"_constructor_args", "identity"})
# Bounded: a new key when full drops the oldest (dicts keep insertion order).
_MAX_ENTRIES = 512

_cache: dict[tuple, Any] = {}


class _Unkeyable(Exception):
    """A query state holding something ``query_state`` does not know."""


def _state(value) -> Any:
    kind = type(value)
    if kind is str or value is None:  # the commonest; no other state is a bare string or None
        return value
    if kind in _EXACT_ATOMS:
        return (kind, value)  # with its type: True == 1 == 1.0
    if kind is tuple or kind is list:
        return (kind, *map(_state, value))
    if kind is dict:
        return (kind, *((_state(k), _state(v)) for k, v in value.items()))
    if isinstance(value, _NODES):
        return (kind, *((name, _state(v)) for name, v in value.__dict__.items() if name not in _SKIPPED))
    if kind is set or kind is frozenset:
        return (kind, frozenset(map(_state, value)))
    if isinstance(value, enum.Enum):  # TextChoices members: singletons
        return (kind, value)
    if isinstance(value, datetime.datetime):
        return (kind, value, value.tzinfo)  # equal instants in two zones are not the same parameter
    if isinstance(value, _ATOMS):
        return (kind, value)
    if isinstance(value, float | decimal.Decimal):
        return (kind, str(value))  # 1.0 and 1.00, 0.0 and -0.0 compare equal but are not the same parameter
    if isinstance(value, Field):
        if getattr(value, "model", None) is not None:
            return (kind, value.model, value.name)  # a model's own field
        return (kind, *map(_state, value.deconstruct()[1:]))  # an output field built for an expression
    if isinstance(value, ForeignObjectRel):
        return (kind, value.model, value.field.name)  # a reverse relation, known by its forward field
    if isinstance(value, F):
        return (kind, value.name)
    if isinstance(value, type) and issubclass(value, Model):
        return value
    raise _Unkeyable(kind)


def query_state(query: Query) -> tuple | None:
    """Everything in ``query`` that its compiled SQL and parameters depend on, as a hashable key; None when it holds
    something not known to be plain."""
    try:
        return _state(query)
    except _Unkeyable:
        return None


def statement_key(queryset: QuerySet) -> tuple | None:
    """The key of ``queryset``'s statements: its query state, its database alias and the current time zone; None when
    the cache is off or the state is unkeyable."""
    if not settings.COVERIS_STATEMENT_CACHE:
        return None
    state = query_state(queryset.query)
    return None if state is None else (queryset.db, timezone.get_current_timezone_name(), state)


def _remember(key: tuple, entry) -> None:
    if len(_cache) >= _MAX_ENTRIES:
        # another thread (ASGI runs views on several) may change it meanwhile: then nothing is dropped this time
        with suppress(RuntimeError, StopIteration):
            _cache.pop(next(iter(_cache)), None)
    _cache[key] = entry


def cached(key: tuple | None, compile_):
    """``compile_()``, kept under ``key`` (compiled again on every call when ``key`` is None)."""
    if key is None:
        return compile_()
    entry = _cache.get(key)
    if entry is None:
        entry = compile_()
        _remember(key, entry)
    return entry


class PageStatement(NamedTuple):
    """A ``values_list`` page compiled: SQL, parameters, its columns, whether Django converts any of them, and the
    converters themselves when no connection object's backend adds one (``_kept_converters``)."""

    sql: str
    params: tuple
    columns: tuple
    converted: bool
    converters: dict | None = None


# orjson reads an integer outside 64 bits as a float (json.loads: an int): any run of 19 digits or more (every such
# integer has one; so may a long string or fraction, which then only takes the slower path) goes to Django's method.
_LONG_DIGITS = re.compile(r"\d{19}")


def _json_loader(original):
    """``JSONField.from_db_value`` (no custom decoder) parsing text with orjson: where orjson parses the text at all,
    it answers what ``json.loads`` does (the same values and types, ``backend/tests/test_page_converters.py``);
    anything else — ``None``, a non-text value, text with a long run of digits, text orjson refuses (``NaN``, lone
    surrogates, malformed JSON) — goes to Django's own method, which decides as before."""

    def load(value, expression, connection):
        if type(value) is str and _LONG_DIGITS.search(value) is None:
            try:
                return orjson.loads(value)
            except orjson.JSONDecodeError:
                pass
        return original(value, expression, connection)

    return load


def _fast(function):
    if getattr(function, "__func__", None) is JSONField.from_db_value and function.__self__.decoder is None:
        return _json_loader(function)
    return function


def _kept_converters(compiler, columns: list) -> dict | None:
    """The page's converters, kept with its statement, when they are the fields' own (a field's ``from_db_value``
    takes the connection as an argument and holds none): None when the compiling connection's backend adds any
    (SQLite's are bound to their connection object, so each request asks its own connection, ADR 0044). PostgreSQL's
    backend adds none, so its pages skip the search on every request (~0.1 ms a page with JSON columns)."""
    converters = {}
    for position, (functions, expression) in compiler.get_converters(columns).items():
        if compiler.connection.ops.get_db_converters(expression):
            return None
        converters[position] = (tuple(_fast(function) for function in functions), expression)
    return converters


def _compile_page(queryset: QuerySet, values: tuple[str, ...], low: int, high: int) -> PageStatement | None:
    query = queryset.values_list(*values)[low:high].query
    compiler = query.get_compiler(queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return None
    columns = [s[0] for s in compiler.select]
    if compiler.has_extra_select or compiler.has_composite_fields(columns):  # rows Django reshapes: its own path
        return None
    converted = bool(compiler.get_converters(columns))
    kept = _kept_converters(compiler, columns) if converted else None
    return PageStatement(sql, tuple(params), tuple(columns), converted, kept)


def page_rows(queryset: QuerySet, values: tuple[str, ...], low: int, high: int, key: tuple | None) -> list[tuple]:
    """``list(queryset.values_list(*values)[low:high])``, with the statement compiled once per ``key``
    (``statement_key(queryset)``)."""
    statement = cached(
        None if key is None else (key, "page", values, low, high), lambda: _compile_page(queryset, values, low, high)
    )
    if statement is None:  # matches nothing, or rows Django trims: Django's own path
        return list(queryset.values_list(*values)[low:high])
    connection = connections[queryset.db]
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, statement.params)
        rows = cursor.fetchall()
    if statement.converted:  # as SQLCompiler.apply_converters: the fields' own converters kept with the statement,
        # or (a backend's converters are bound to its connection object) this connection's, asked on every request;
        # columns no connection of this alias converts skip both
        converters = statement.converters
        if converters is None:
            compiler = connection.ops.compiler("SQLCompiler")(None, connection, queryset.db)
            converters = compiler.get_converters(statement.columns)
        converted = []
        for row in rows:
            row = list(row)
            for position, (functions, expression) in converters.items():
                value = row[position]
                for function in functions:
                    value = function(value, expression, connection)
                row[position] = value
            converted.append(tuple(row))
        rows = converted
    return rows


def _clear(**kwargs) -> None:
    _cache.clear()


setting_changed.connect(_clear)
