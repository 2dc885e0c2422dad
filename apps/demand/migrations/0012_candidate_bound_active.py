from django.db import migrations, models

from apps.demand import candidate_bounds


def build(apps, schema_editor):
    """The triggers' functions again (they write ``active``), the partial indexes of the first visit, and every row
    (ADR 0050)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for statement in [*candidate_bounds.install_sql(), *candidate_bounds.rebuild_sql()]:
            cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("demand", "0011_candidate_week_committed"),
    ]

    operations = [
        migrations.AddField(
            model_name="candidatebound",
            name="active",
            field=models.BooleanField(default=False),
        ),
        # Irreversible: 0011's functions (without the column) are not kept anywhere to reinstall.
        migrations.RunPython(build),
    ]
