"""TagChangeLog joins the hash chain: the rows already there are sealed in id order, then every insert is chained."""

from django.db import migrations, models

from backend.audit.chain import rechain_existing


class Migration(migrations.Migration):
    dependencies = [("tags", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="tagchangelog", name="prev_hash", field=models.CharField(blank=True, default="", max_length=64)
        ),
        migrations.AddField(model_name="tagchangelog", name="hash", field=models.CharField(default="", max_length=64)),
        migrations.RunPython(rechain_existing("tags", "TagChangeLog"), migrations.RunPython.noop),
        migrations.AlterField(model_name="tagchangelog", name="hash", field=models.CharField(max_length=64, unique=True)),
    ]
