"""The catalogue starts with the rule that refuses a second clock-in the same day (SPEC §4: it is refused).

HR may edit or deactivate it like any rule; it is data, not code.
"""

from django.db import migrations

CODE = "CLOCK_ONCE_PER_DAY"


def create_rule(apps, schema_editor):
    BusinessRule = apps.get_model("business_rules", "BusinessRule")
    BusinessRuleVersion = apps.get_model("business_rules", "BusinessRuleVersion")
    if BusinessRule.objects.filter(code=CODE).exists():
        return
    fields = {
        "code": CODE,
        "name": "One clock-in per day",
        "description": "An employee clocks in at most once per calendar day.",
        "rule_type": "single_clock_in_per_day",
        "params": {},
        "severity": "block",
        "events": ["clock.in"],
        "is_active": True,
    }
    rule = BusinessRule.objects.create(**fields, version=1)
    snapshot = {**fields, "org_unit_id": None, "position_id": None, "valid_from": None, "valid_to": None}
    BusinessRuleVersion.objects.create(rule=rule, version=1, snapshot=snapshot)


class Migration(migrations.Migration):
    dependencies = [("offer", "0001_initial"), ("business_rules", "0001_initial")]

    operations = [migrations.RunPython(create_rule, migrations.RunPython.noop)]
