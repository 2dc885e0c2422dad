"""Renderers: JSON through orjson with DRF's exact bytes, and CSV for auditors (SPEC §2: JSON only, "audit
endpoints may add CSV")."""

import csv
import io
import json
import re

import orjson
from rest_framework import renderers
from rest_framework.renderers import BaseRenderer

# orjson writes some floats differently from Python's json (0.00001 for 1e-05, 2.5e-9 for 2.5e-09). Output with
# either spelling goes through DRF's encoder instead; a string that merely looks alike costs only that fallback.
_FLOAT_SPELLING = re.compile(rb"0\.0000|e-[0-9](?![0-9])")
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class JSONRenderer(renderers.JSONRenderer):
    """DRF's JSONRenderer, encoding with orjson (ADR 0031): the same bytes, about ten times faster.

    Used only for what DRF itself would write compactly in UTF-8 (its defaults: ``COMPACT_JSON``, ``UNICODE_JSON``,
    no indent asked for); dates, times, decimals, lazy strings and anything else orjson does not write natively go
    through DRF's own encoder (``default``); whatever orjson refuses (non-string keys, integers beyond 64 bits) and
    output carrying a float orjson spells differently are rendered by DRF. One difference remains, on a path that
    is already a bug: a NaN or infinite float, which DRF refuses with an error (a 500), is written as ``null`` (and a
    plain ``Enum`` member, which DRF's encoder cannot write, as its value).
    """

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        indent = self.get_indent(accepted_media_type, renderer_context or {})
        if indent is not None or self.ensure_ascii or not self.compact:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            content = orjson.dumps(data, default=self.encoder_class().default, option=_ORJSON_OPTIONS)
        except TypeError:  # orjson.JSONEncodeError: keys, big integers, depth, or a type DRF's encoder refuses too
            return super().render(data, accepted_media_type, renderer_context)
        if _FLOAT_SPELLING.search(content):
            return super().render(data, accepted_media_type, renderer_context)
        # DRF escapes the two JavaScript line terminators JSON allows raw.
        return content.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")


# A cell starting with one of these is a formula to a spreadsheet (CSV injection); it is quoted with a '.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


class CSVRenderer(BaseRenderer):
    """Rows as CSV, one column per field (nested values as JSON); ``?format=csv`` or ``Accept: text/csv``."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if isinstance(data, dict) and "results" in data:
            rows = data["results"]
        elif isinstance(data, list):
            rows = data
        else:
            rows = [data]
        columns: list[str] = []
        for row in rows:
            columns += [key for key in row if key not in columns]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(column)) for column in columns])
        return out.getvalue().encode(self.charset)
