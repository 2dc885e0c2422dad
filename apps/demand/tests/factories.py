import datetime

import factory

from apps.api.tests.factories import PositionFactory
from apps.demand.models import CoverageRequirement


class CoverageRequirementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CoverageRequirement

    position = factory.SubFactory(PositionFactory)
    valid_from = datetime.date(2026, 3, 2)
    valid_to = None
    required_headcount = 1
    required_weekly_hours = 40
    priority = 3
