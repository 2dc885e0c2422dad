"""The hand-written "floor" of every list: the least any implementation must do for the same answer.

The same counting strategy as ``backend.pagination`` (a bounded ``COUNT``, then ``EXPLAIN`` above the limit), one
``SELECT`` of the page's columns joined, a dict per row built in a loop, JSON as DRF renders it (compact, UTF-8).
Used over a psycopg connection of its own by ``bench_lists.py`` (in process) and over Django's connection by the
HTTP benchmark's baseline view (``http_urls.py``). Imports nothing of Django at module level.
"""

import datetime
import json
from collections.abc import Callable
from decimal import Decimal

PAGE = 25
BALANCE_FROM, BALANCE_TO = "2026-11-02", "2026-11-29"
BALANCES_URL = f"/api/hours-ledger/balances/?from={BALANCE_FROM}&to={BALANCE_TO}"

# endpoint → (table the count runs over, page SQL: the serializer's fields by name, in its default order)
LISTS = {
    "/api/employees/": (
        "api_employee",
        """SELECT e.id, e.employee_number, e.first_name, e.last_name, e.first_name || ' ' || e.last_name AS full_name,
                  e.email, e.user_id AS "user", e.org_unit_id AS org_unit, u.code AS org_unit_code,
                  u.name AS org_unit_name, e.contracted_weekly_hours, e.hire_date, e.termination_date, e.state,
                  e.created_at, e.updated_at
           FROM api_employee e JOIN api_orgunit u ON u.id = e.org_unit_id
           ORDER BY e.last_name, e.first_name, e.id LIMIT %s OFFSET %s""",
    ),
    "/api/assignments/": (
        "assignments_assignment",
        """SELECT a.id, a.employee_id AS employee, e.first_name || ' ' || e.last_name AS employee_name,
                  a.position_id AS position, p.code AS position_code, p.title AS position_title,
                  p.org_unit_id AS org_unit, a.start_date, a.end_date, a.weekly_hours, a.notes, a.state,
                  a.created_by_id AS created_by, a.created_at, a.updated_at
           FROM assignments_assignment a JOIN api_employee e ON e.id = a.employee_id
           JOIN api_position p ON p.id = a.position_id
           ORDER BY a.start_date DESC, a.id LIMIT %s OFFSET %s""",
    ),
    "/api/audit/employee-transitions/": (
        "fsm_employeetransitionlog",
        """SELECT id, transition, source_state AS source, target_state AS target, actor_id AS actor, actor_email,
                  created_at, reason, effective_date, rule_results, override_reason, request_id, prev_hash, hash,
                  employee_id AS employee
           FROM fsm_employeetransitionlog ORDER BY created_at, id LIMIT %s OFFSET %s""",
    ),
    "/api/audit/assignment-transitions/": (
        "assignments_assignmenttransitionlog",
        """SELECT id, transition, source_state AS source, target_state AS target, actor_id AS actor, actor_email,
                  created_at, reason, effective_date, rule_results, override_reason, request_id, prev_hash, hash,
                  assignment_id AS assignment
           FROM assignments_assignmenttransitionlog ORDER BY created_at, id LIMIT %s OFFSET %s""",
    ),
    "/api/audit/tag-changes/": (
        "tags_tagchangelog",
        """SELECT l.id, l.action, l.target_type, l.target_id, l.employee_id AS employee, l.position_id AS position,
                  l.tag_id AS tag, t.code AS tag_code, l.before, l.after, l.actor_id AS actor, l.actor_email,
                  l.created_at, l.request_id
           FROM tags_tagchangelog l JOIN tags_tagcatalog t ON t.id = l.tag_id
           ORDER BY l.created_at, l.id LIMIT %s OFFSET %s""",
    ),
    "/api/hours-ledger/entries/": (
        "offer_ledgerentry",
        """SELECT l.id, l.employee_id AS employee, l.kind, l.adjusts,
                  CASE WHEN l.kind = 'adjustment' THEN l.adjusts ELSE l.kind END AS "column", l.basis, l.hours,
                  l.period_start, l.period_end, l.source, l.assignment_id AS assignment,
                  l.clock_event_id AS clock_event, l.reverses_id AS reverses,
                  ARRAY(SELECT r.id FROM offer_ledgerentry r WHERE r.reverses_id = l.id ORDER BY r.id) AS reversed_by,
                  l.reason, l.actor_id AS actor, l.actor_email, l.created_at, l.request_id
           FROM offer_ledgerentry l ORDER BY l.id LIMIT %s OFFSET %s""",
    ),
}

# The lists in the order the HTTP benchmark runs them; its baseline view is addressed by position in this list.
HTTP_LISTS = [*LISTS, BALANCES_URL]


def _value(value):
    """A column value as DRF renders it."""
    if isinstance(value, datetime.datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


class Floor:
    """The hand-written answers over ``cursor()`` (a DB-API cursor factory usable as a context manager)."""

    def __init__(self, cursor: Callable, limit: int, origin: str = "http://testserver"):
        self.cursor = cursor
        self.limit = limit
        self.origin = origin  # scheme and host of the next link, as the request that asked for the page saw them

    def count(self, cur, table: str) -> tuple[int, bool]:
        cur.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT %s) s", [self.limit + 1])  # noqa: S608
        bounded = cur.fetchone()[0]
        if bounded <= self.limit:
            return bounded, False
        cur.execute(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {table}")  # noqa: S608
        return max(int(cur.fetchone()[0][0]["Plan"]["Plan Rows"]), bounded), True

    def page_body(self, url: str, count: int, results: list) -> dict:
        pages = max(1, -(-count // PAGE))
        return {
            "count": count,
            "total_pages": pages,
            "page": 1,
            "page_size": PAGE,
            "next": self.next_link(url) if len(results) > PAGE else None,
            "previous": None,
            "results": results[:PAGE],
        }

    def next_link(self, url: str) -> str:
        path, _, query = url.partition("?")
        params = sorted([*filter(None, query.split("&")), "page=2"])  # DRF's replace_query_param sorts them
        return f"{self.origin}{path}?{'&'.join(params)}"

    def list_page(self, url: str) -> bytes:
        table, sql = LISTS[url]
        with self.cursor() as cur:
            count, _ = self.count(cur, table)
            cur.execute(sql, [PAGE + 1, 0])
            names = [c.name for c in cur.description]
            results = [{name: _value(v) for name, v in zip(names, row, strict=True)} for row in cur.fetchall()]
        return render(self.page_body(url, count, results))

    def balances(self, url: str, statements: list[str]) -> bytes:
        """The endpoint's balance SQL replayed: the page of employee ids, the weekly rows, the totals."""
        from apps.offer.selectors import COLUMNS

        with self.cursor() as cur:
            count, _ = self.count(cur, "api_employee")
            cur.execute(
                "SELECT id FROM api_employee ORDER BY last_name, first_name, id LIMIT %s", [PAGE + 1]
            )  # the page of employees
            ids = [row[0] for row in cur.fetchall()]
            rows_sql, totals_sql = statements
            cur.execute(rows_sql)
            found = {(e, w): values for e, w, *values in cur.fetchall()}
            cur.execute(totals_sql)
            totals = cur.fetchone()
        first = datetime.date.fromisoformat(BALANCE_FROM)
        weeks = [first + datetime.timedelta(weeks=n) for n in range(4)]

        def balance(values):
            row = {n: Decimal(str(v or 0)).quantize(Decimal("0.01")) + 0 for n, v in zip(COLUMNS, values, strict=True)}
            row["available"] = row["contracted"] - row["leave"] - row["assigned"]
            return {k: str(v) for k, v in row.items()}

        results = [
            {"employee": e, "week": w.isoformat(), **balance(found.get((e, w), (0,) * len(COLUMNS)))}
            for e in ids[:PAGE]
            for w in weeks
        ]
        body = self.page_body(url, count, [None] * len(ids))
        del body["results"]  # after the period and the totals, as the endpoint writes them
        body.update(
            {
                "week_from": BALANCE_FROM,
                "week_to": BALANCE_TO,
                "weeks": 4,
                "totals": balance(totals),
                "results": results,
            }
        )
        return render(body)


def render(data) -> bytes:
    """JSON bytes as DRF's JSONRenderer writes them (compact, UTF-8, U+2028/U+2029 escaped)."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()
