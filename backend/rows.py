"""Rows instead of model instances (ADR 0035): what a list page rendered from ``values_list`` tuples needs to know.

A model property or a serializer method that renders a field reads attributes of one row. ``@reads(...)`` names
them, so a page fetched as tuples fetches just those for it (without it: every column of the model); the function
then gets a ``RowObject`` holding them in place of the model instance. No Django or DRF import: models may use it.
"""


class RowObject:
    """A row's columns under the model's attribute names (and ``pk``): it has no relations, methods or state, so a
    property or method reading anything else fails loudly (``AttributeError``) instead of answering differently."""


def reads(*names: str):
    """``@reads("first_name", "last_name")`` under ``@property``, or on a ``SerializerMethodField``'s method: the
    function reads only these attributes of the row (columns by attribute name, or the queryset's annotations)."""

    def mark(function):
        function.row_reads = names
        return function

    return mark
