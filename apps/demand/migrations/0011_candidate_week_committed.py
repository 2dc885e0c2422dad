from django.db import migrations, models


def build(apps, schema_editor):
    """The triggers' functions again (the assignments' too: the committed-hours bound reads them), the indexes, and
    every row (ADR 0049): installed and written by migration 0012 now, whose column the current functions also write
    (on databases migrated before 0012 existed, this ran then and 0012 installs them again)."""


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
