from django.db import migrations, models


def build(apps, schema_editor):
    """The triggers' functions again (they now write the week bound too), its index, and every row (ADR 0042):
    installed and written by migration 0011 now, whose column the current functions also write (on databases migrated
    before 0011 existed, this ran then and 0011 installs them again)."""


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
