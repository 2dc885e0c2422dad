import importlib

from django.db import migrations

# The same build as 0009 (the triggers' functions again, then every row), now writing a bound for every state instead
# of −1 for anyone not active (ADR 0045); a no-op since migration 0011 (which builds them with its column).
build = importlib.import_module("apps.demand.migrations.0009_candidate_week_bounds").build


class Migration(migrations.Migration):
    dependencies = [
        ("demand", "0009_candidate_week_bounds"),
    ]

    operations = [
        # Irreversible: 0009's functions (−1 for anyone not active) are not kept anywhere to reinstall.
        migrations.RunPython(build),
    ]
