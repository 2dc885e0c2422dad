from django.db import migrations, models

from apps.demand import candidate_bounds


def build(apps, schema_editor):
    """The triggers' functions again (they now write the week bound too), its index, and every row (ADR 0042)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for statement in [*candidate_bounds.install_sql(), *candidate_bounds.rebuild_sql()]:
            cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("demand", "0008_candidate_bounds"),
    ]

    operations = [
        migrations.AddField(
            model_name="candidatebound",
            name="week_bound",
            field=models.BigIntegerField(default=-1),
        ),
        # Irreversible: going back would leave 0008's triggers calling functions that write a dropped column, and the
        # functions of 0008's day are not kept anywhere to reinstall.
        migrations.RunPython(build),
    ]
