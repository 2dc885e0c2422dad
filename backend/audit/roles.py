"""Least privilege in the database: the application's role may only read and append audit rows.

Migrations run as the owner of the tables (``DATABASE_OWNER_URL``, alias ``owner``); the application connects as
another role (``DATABASE_URL``) that ``app_role_grants`` sets up: full DML on the domain tables, but on every audit
table only ``SELECT`` and ``INSERT`` — no ``UPDATE``, ``DELETE``, ``TRUNCATE``, ``TRIGGER``, ``REFERENCES`` and no
ownership. Then no statement the application can send changes an audit row: ``SET pgtrigger.ignore`` only skips a
trigger, the privilege check comes first; ``ALTER TABLE ... DISABLE TRIGGER`` needs ownership;
``session_replication_role`` needs superuser. Tested in ``backend/tests/test_audit_roles.py``.
"""

from django.apps import apps
from django.db import connection

from backend.audit.chain import chained_log_models
from backend.audit.db import AppendOnlyModel


def audit_tables() -> list[str]:
    """Every append-only audit table: the chained ones (some chained by trigger only) and every other
    ``AppendOnlyModel`` — the checkpoints, the records of the nightly chain walk."""
    append_only = {m for m in apps.get_models() if issubclass(m, AppendOnlyModel) and not m._meta.abstract}
    return sorted({m._meta.db_table for m in chained_log_models()} | {m._meta.db_table for m in append_only})


def app_role_grants(role: str, *, using=connection) -> list[str]:
    """The statements that give ``role`` what the application needs and no more on the audit tables.

    Run them as the owner after every ``migrate`` (new tables need their grants): ``manage.py grant_app_role``.
    """
    qn = using.ops.quote_name
    role_q = qn(role)
    domain = sorted(
        {m._meta.db_table for m in apps.get_models(include_auto_created=True) if m._meta.managed}
        - set(audit_tables())
        - {"pghistory_context"}
    )
    statements = [
        f"GRANT USAGE ON SCHEMA public TO {role_q}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role_q}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role_q}",
    ]
    existing = set(using.introspection.table_names())
    statements += [
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {qn(table)} TO {role_q}" for table in domain if table in existing
    ]
    statements += ["GRANT SELECT, INSERT, UPDATE, DELETE ON django_migrations TO " + role_q]
    statements += [f"GRANT SELECT, INSERT ON {qn(table)} TO {role_q}" for table in audit_tables() if table in existing]
    return statements


def grant_app_role(role: str, *, using=connection) -> None:
    with using.cursor() as cursor:
        for statement in app_role_grants(role, using=using):
            cursor.execute(statement)
