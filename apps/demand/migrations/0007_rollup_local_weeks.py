from django.db import migrations, models
from django.utils import timezone

from apps.demand import rollups


def build(apps, schema_editor):
    """Install the triggers (apps/demand/rollups.py: transition weeks are now local weeks) and rebuild every rollup
    over the horizon already held (the default one when there is none), on PostgreSQL."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for statement in rollups.install_sql():
            cursor.execute(statement)
    horizon = apps.get_model("demand", "RollupHorizon").objects.first()
    if horizon is not None:
        first, last = horizon.first_week, horizon.last_week
    else:
        first, last = rollups.default_horizon(timezone.now().date())
    rollups.rollup_rebuild(first_week=first, last_week=last)


class Migration(migrations.Migration):

    dependencies = [
        ("api", "0005_list_order_indexes"),
        ("demand", "0006_ledgerless_employees"),
    ]

    operations = [
        migrations.AddField(
            model_name="rolluphorizon",
            name="time_zone",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RunPython(build, migrations.RunPython.noop),
    ]
