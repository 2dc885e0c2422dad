import datetime

import factory

from apps.api.tests.factories import EmployeeFactory, PositionFactory
from apps.assignments.models import Assignment


class AssignmentFactory(factory.django.DjangoModelFactory):
    """A proposed assignment (move it on with apps.assignments.services.assignment_transition)."""

    class Meta:
        model = Assignment

    employee = factory.SubFactory(EmployeeFactory)
    position = factory.SubFactory(PositionFactory)
    start_date = datetime.date(2026, 2, 2)
    end_date = None
    weekly_hours = 20
