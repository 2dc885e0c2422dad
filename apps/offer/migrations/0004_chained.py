"""LedgerEntry joins the hash chain: the rows already there are sealed in id order, then every insert is chained."""

from django.db import migrations, models

from backend.audit.chain import rechain_existing


class Migration(migrations.Migration):
    dependencies = [("offer", "0003_one_manual_reversal")]

    operations = [
        migrations.AddField(
            model_name="ledgerentry", name="prev_hash", field=models.CharField(blank=True, default="", max_length=64)
        ),
        migrations.AddField(model_name="ledgerentry", name="hash", field=models.CharField(default="", max_length=64)),
        migrations.RunPython(rechain_existing("offer", "LedgerEntry"), migrations.RunPython.noop),
        migrations.AlterField(model_name="ledgerentry", name="hash", field=models.CharField(max_length=64, unique=True)),
    ]
