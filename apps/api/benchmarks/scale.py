r"""Scale data in seconds: ``rows`` employees with one assignment, one employee and one assignment transition, one
tag change and one ledger entry each, inserted with ``generate_series`` (PostgreSQL only), then ``ANALYZE``\d.

Used by the index test (``apps/api/tests/test_list_plans.py``) and the list benchmark (``bench_lists.py``). The rows
satisfy every constraint but are not built by the services (no hash chain that verifies): they are for reading.
"""

import datetime

from django.db import connection

# The tables that grow with the headcount and that every list reads.
TABLES = (
    "api_employee",
    "assignments_assignment",
    "fsm_employeetransitionlog",
    "assignments_assignmenttransitionlog",
    "tags_tagchangelog",
    "offer_ledgerentry",
)


def scale_fill(*, rows: int, unit_id: int, position_id: int, tag_id: int, user_id: int) -> None:
    """``rows`` employees, one assignment, one transition of each kind, one tag change and one ledger entry each."""
    day0 = datetime.date(2020, 1, 6)
    with connection.cursor() as cursor:
        # Triggers off while loading (the weekly rollups' statement triggers would take minutes over 100,000 rows,
        # and the rows are consistent by construction): replica mode skips them, foreign-key checks included.
        cursor.execute("SET session_replication_role = replica")
        try:
            _insert(
                cursor, rows=rows, day0=day0, unit_id=unit_id, position_id=position_id, tag_id=tag_id, user_id=user_id
            )
        finally:
            cursor.execute("RESET session_replication_role")
        for table in (*TABLES, "tags_employeetag", "api_orgunit", "api_position", "tags_tagcatalog", "users_user"):
            cursor.execute(f"ANALYZE {table}")


def _insert(cursor, *, rows: int, day0: datetime.date, unit_id: int, position_id: int, tag_id: int, user_id: int):
    """The inserts, in dependency order."""
    cursor.execute(
        """
        INSERT INTO api_employee (state, employee_number, first_name, last_name, email, contracted_weekly_hours,
                                  hire_date, created_at, updated_at, org_unit_id)
        SELECT (ARRAY['active','active','active','pending','on_leave'])[1 + mod(g, 5)], 'G' || g,
               'First' || mod(g, 97), 'Last' || mod(g, 1009), 'g' || g || '@plans.test', 40,
               %s::date + mod(g, 2000), now(), now(), %s
        FROM generate_series(1, %s) g
        """,
        [day0, unit_id, rows],
    )
    cursor.execute(
        """
        INSERT INTO assignments_assignment (start_date, end_date, weekly_hours, notes, state, created_at,
                                            updated_at, employee_id, position_id)
        SELECT %s::date + mod(e.id, 2000)::int, %s::date + mod(e.id, 2000)::int + 30, 20, '', 'completed',
               now(), now(), e.id, %s
        FROM api_employee e
        """,
        [day0, day0, position_id],
    )
    cursor.execute(
        "INSERT INTO tags_employeetag (employee_id, tag_id, level, valid_from) "
        "SELECT id, %s, 2, %s FROM api_employee WHERE mod(id, 50) = 0",
        [tag_id, day0],
    )
    log_columns = (
        "transition, source_state, target_state, actor_id, actor_email, created_at, reason, rule_results, "
        "override_reason, request_id, prev_hash, hash"
    )
    log_values = (
        "%s, %s, %s, %s, 'hr@plans.test', '2026-01-01'::timestamptz + make_interval(mins => {id}::int), '', "
        "'[]'::jsonb, '', 'plans', '', md5('{table}' || {id})"
    )
    cursor.execute(
        f"INSERT INTO fsm_employeetransitionlog ({log_columns}, employee_id) "  # noqa: S608
        f"SELECT {log_values.format(id='e.id', table='e')}, e.id FROM api_employee e",
        ["activate", "pending", "active", user_id],
    )
    cursor.execute(
        f"INSERT INTO assignments_assignmenttransitionlog ({log_columns}, assignment_id) "  # noqa: S608
        f"SELECT {log_values.format(id='a.id', table='a')}, a.id FROM assignments_assignment a",
        ["approve", "proposed", "approved", user_id],
    )
    cursor.execute(
        """
        INSERT INTO tags_tagchangelog (action, target_type, target_id, employee_id, tag_id, after, actor_id,
                                       actor_email, created_at, request_id, prev_hash, hash)
        SELECT 'add', 'employee', e.id, e.id, %s, '{}'::jsonb, %s, 'hr@plans.test',
               '2026-01-01'::timestamptz + make_interval(mins => e.id::int), 'plans', '', md5('t' || e.id)
        FROM api_employee e
        """,
        [tag_id, user_id],
    )
    cursor.execute(
        """
        INSERT INTO offer_ledgerentry (kind, adjusts, basis, hours, period_start, source, reason, actor_email,
                                       created_at, request_id, employee_id, prev_hash, hash)
        SELECT 'contracted', '', 'weekly_rate', 40, e.hire_date, 'employee', '', '', now(), 'plans', e.id,
               '', md5('l' || e.id)
        FROM api_employee e
        """
    )
