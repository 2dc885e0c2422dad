"""BusinessRuleVersion joins the hash chain: the rows already there are sealed in id order, then every insert is chained."""

from django.db import migrations, models

from backend.audit.chain import rechain_existing


class Migration(migrations.Migration):
    dependencies = [("business_rules", "0001_initial"), ("offer", "0002_default_clock_rule")]

    operations = [
        migrations.AddField(
            model_name="businessruleversion", name="prev_hash", field=models.CharField(blank=True, default="", max_length=64)
        ),
        migrations.AddField(model_name="businessruleversion", name="hash", field=models.CharField(default="", max_length=64)),
        migrations.RunPython(rechain_existing("business_rules", "BusinessRuleVersion"), migrations.RunPython.noop),
        migrations.AlterField(model_name="businessruleversion", name="hash", field=models.CharField(max_length=64, unique=True)),
    ]
