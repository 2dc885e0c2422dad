"""The checkpoints table, owned by ``backend`` since the audit machinery moved out of ``apps/audit_core``.

The table keeps its name (``audit_core_checkpoint``), so no row moves. A database migrated before the move already
has the table (created by the old ``audit_core.0001_checkpoint``): the model is added to the migration state only, the
table is created only where it is missing, and the old app's triggers (named after ``audit_core.Checkpoint``) are
replaced by this app's. The old app's rows in ``django_migrations`` are left alone: Django ignores them.
"""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models


OLD_TRIGGERS = ("pgtrigger_append_only_45f31", "pgtrigger_append_only_truncate_6f2fb")


def create_table_if_missing(apps, schema_editor):
    """Create ``audit_core_checkpoint`` unless the pre-move migration did; drop the old app's triggers."""
    model = apps.get_model("backend", "Checkpoint")
    table = model._meta.db_table
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        exists = table in connection.introspection.table_names(cursor)
    if not exists:
        schema_editor.create_model(model)
    elif connection.vendor == "postgresql":
        for pgid in OLD_TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {pgid} ON {schema_editor.quote_name(table)}")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {pgid}()")


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Checkpoint",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("created_at", models.DateTimeField()),
                        ("tables", models.JSONField()),
                        ("key_id", models.CharField(max_length=64)),
                        ("signature", models.CharField(max_length=64)),
                    ],
                    options={
                        "db_table": "audit_core_checkpoint",
                        "ordering": ["id"],
                    },
                )
            ]
        ),
        migrations.RunPython(create_table_if_missing, migrations.RunPython.noop),
        pgtrigger.migrations.AddTrigger(
            model_name="checkpoint",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="ae72c7fb965c5a4a592f4099cabe573b62d7d1fc",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_ce4dc",
                    table="audit_core_checkpoint",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="checkpoint",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only_truncate",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="IF current_database() LIKE 'test\\_%' THEN RETURN NULL; END IF; RAISE EXCEPTION 'Coveris: % on % is refused: the table is append-only', TG_OP, TG_TABLE_NAME; RETURN NULL;",
                    hash="6ba116e7702f6303a243dc3404d0d4f1771d3caf",
                    level="STATEMENT",
                    operation="TRUNCATE",
                    pgid="pgtrigger_append_only_truncate_cc003",
                    table="audit_core_checkpoint",
                    when="BEFORE",
                ),
            ),
        ),
    ]
