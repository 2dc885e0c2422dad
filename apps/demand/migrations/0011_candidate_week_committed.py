from django.db import migrations, models

from apps.demand import candidate_bounds


def build(apps, schema_editor):
    """The triggers' functions again (the assignments' too: the committed-hours bound reads them), the indexes, and
    every row (ADR 0049)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for statement in [*candidate_bounds.install_sql(), *candidate_bounds.rebuild_sql()]:
            cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("demand", "0010_candidate_bounds_every_state"),
    ]

    operations = [
        migrations.AddField(
            model_name="candidatebound",
            name="week_committed",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="candidatebound",
            name="least_committed",
            field=models.BigIntegerField(default=0),
        ),
        # Irreversible: 0010's functions (without the column) are not kept anywhere to reinstall.
        migrations.RunPython(build),
    ]
