"""Test data for the rule catalogue. Rules are built through ``rule_create`` so each has its v1 snapshot."""

import factory

from apps.business_rules.models import BusinessRule
from apps.business_rules.services import rule_create


class BusinessRuleFactory(factory.django.DjangoModelFactory):
    """A blocking ``assignment_hours_bounds`` rule on ``assignment.approve`` unless told otherwise."""

    class Meta:
        model = BusinessRule

    code = factory.Sequence(lambda n: f"RULE_{n:04d}")
    name = factory.Sequence(lambda n: f"Rule {n}")
    rule_type = "assignment_hours_bounds"
    params = factory.LazyFunction(lambda: {"max_hours": 40})
    severity = "block"
    events = factory.LazyFunction(lambda: ["assignment.approve"])

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return rule_create(**kwargs)
