"""PostgreSQL only: no two open assignments of one employee to one position over overlapping dates.

Kept out of the model's Meta (SQLite cannot hold it); see Assignment's docstring and docs/adr.
"""

from django.db import migrations


class PostgresOnlyRunSQL(migrations.RunSQL):
    """RunSQL that does nothing on databases other than PostgreSQL."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("assignments", "0001_initial")]

    operations = [
        PostgresOnlyRunSQL(
            sql=[
                "CREATE EXTENSION IF NOT EXISTS btree_gist",
                """
                ALTER TABLE assignments_assignment
                ADD CONSTRAINT assignments_no_overlap_same_position
                EXCLUDE USING gist (
                    employee_id WITH =,
                    position_id WITH =,
                    daterange(start_date, COALESCE(end_date, 'infinity'::date), '[]') WITH &&
                ) WHERE (state IN ('proposed', 'approved', 'active'))
                """,
            ],
            reverse_sql=[
                "ALTER TABLE assignments_assignment DROP CONSTRAINT IF EXISTS assignments_no_overlap_same_position",
            ],
        ),
    ]
