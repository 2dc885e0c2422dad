"""CSV for auditors (SPEC §2: JSON only, "audit endpoints may add CSV")."""

import csv
import io
import json

from rest_framework.renderers import BaseRenderer

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
