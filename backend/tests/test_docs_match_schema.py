"""The stack docs name only what the API has: every endpoint path, query parameter and error code that
``docs/stack/*.md`` mentions must exist in the OpenAPI schema (a doc naming something gone fails CI).

How mentions are read: paths are ``/api/...`` tokens (numbers, ``{id}`` and ``<name>`` are placeholders; a path
may also be a prefix of documented paths, as ``/api/auth/`` is); query parameters are ``?name=`` / ``&name=``
(checked against the operations of the path they follow, else against every operation); error codes are
``"code": "..."`` in examples and a status followed by a backticked code (``409 `conflict```).
"""

import re
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from backend.schema import ERROR_CODES

pytestmark = pytest.mark.django_db

DOCS = sorted((Path(__file__).resolve().parents[2] / "docs" / "stack").glob("*.md"))
# Served under /api/ but, by design, not an operation of the document.
OUTSIDE_THE_SCHEMA = {"/api/schema/": {"format"}}

PATH = re.compile(r"/api/[A-Za-z0-9_\-/{}<>.?=&,…]*")
PARAM = re.compile(r"[?&]([a-z_]+)=")
CODE = re.compile(r'"code":\s*"([a-z_]+)"|\b[1-5]\d\d\s+`([a-z_]+)`')
PLACEHOLDER = re.compile(r"^(\d+|\{[^}]+\}|<[^>]+>)$")


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        return APIClient().get("/api/schema/", {"format": "json"}).json()


def _segments(path: str) -> list[str]:
    return path.strip("/").split("/")


def _matches(mentioned: list[str], documented: list[str]) -> bool:
    """Segment by segment, a placeholder on either side matches anything."""
    if len(mentioned) > len(documented):
        return False
    return all(
        m == d or PLACEHOLDER.match(m) or PLACEHOLDER.match(d) for m, d in zip(mentioned, documented, strict=False)
    )


def _mentions() -> list[tuple[str, int, str]]:
    found = []
    for doc in DOCS:
        for number, line in enumerate(doc.read_text().splitlines(), start=1):
            found += [(f"{doc.name}:{number}", kind, text) for kind, text in _scan(line)]
    return found


def _scan(line: str):
    for match in PATH.finditer(line):
        yield "path", match.group(0)
    for match in CODE.finditer(line):
        yield "code", match.group(1) or match.group(2)
    for match in PARAM.finditer(PATH.sub(" ", line)):  # parameters not attached to a path
        yield "param", match.group(1)


def _operations_for(schema: dict, path: str) -> list[dict]:
    wanted = _segments(path)
    return [
        operation
        for documented, operations in schema["paths"].items()
        if len(_segments(documented)) == len(wanted) and _matches(wanted, _segments(documented))
        for method, operation in operations.items()
        if isinstance(operation, dict) and "responses" in operation
    ]


def _params(operations: list[dict]) -> set[str]:
    return {p["name"] for op in operations for p in op.get("parameters", []) if p.get("in") == "query"}


def test_the_docs_are_read():
    kinds = {kind for _, kind, _ in _mentions()}
    assert DOCS
    assert kinds == {"path", "param", "code"}


def test_every_path_query_parameter_and_error_code_in_the_docs_exists(schema):
    problems = []
    every_param = _params([op for ops in schema["paths"].values() for op in ops.values() if isinstance(op, dict)])
    documented_paths = [_segments(p) for p in schema["paths"]]
    for where, kind, text in _mentions():
        if kind == "code":
            if text not in ERROR_CODES:
                problems.append(f"{where}: error code `{text}` is not one the API answers ({sorted(ERROR_CODES)})")
            continue
        if kind == "param":
            if text not in every_param:
                problems.append(f"{where}: query parameter `{text}` is on no operation of the schema")
            continue
        raw_path, _, query = text.partition("?")
        if "…" in raw_path or "..." in raw_path:
            continue  # an elided path ("/api/…") names nothing in particular
        path = raw_path.rstrip(".,")
        if path in OUTSIDE_THE_SCHEMA:
            unknown = set(PARAM.findall("?" + query)) - OUTSIDE_THE_SCHEMA[path]
            problems += [f"{where}: `{path}` takes no query parameter `{name}`" for name in sorted(unknown)]
            continue
        segments = _segments(path)
        operations = _operations_for(schema, path)
        if not operations and not any(_matches(segments, d) for d in documented_paths):
            problems.append(f"{where}: path `{path}` is not in the schema (nor a prefix of a path that is)")
            continue
        if query:
            allowed = _params(operations) if operations else every_param
            for name in PARAM.findall("?" + query):
                if name not in allowed:
                    problems.append(f"{where}: `{path}` has no query parameter `{name}` in the schema")
    assert not problems, (
        "docs/stack/*.md name things the API does not have. Fix the doc (or the API), or if a path is served "
        "outside the schema on purpose, add it to OUTSIDE_THE_SCHEMA in this test:\n" + "\n".join(problems)
    )
