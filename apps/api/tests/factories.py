import datetime

import factory

from apps.api.models import Employee, OrgUnit, Position
from apps.api.services import org_unit_create


class OrgUnitFactory(factory.django.DjangoModelFactory):
    """Builds units through the service so their materialized path is right."""

    class Meta:
        model = OrgUnit

    code = factory.Sequence(lambda n: f"OU{n:04d}")
    name = factory.Sequence(lambda n: f"Unit {n}")
    parent = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return org_unit_create(**kwargs)


class PositionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Position

    code = factory.Sequence(lambda n: f"POS{n:04d}")
    title = factory.Sequence(lambda n: f"Position {n}")
    org_unit = factory.SubFactory(OrgUnitFactory)
    standard_weekly_hours = 40


class EmployeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employee

    employee_number = factory.Sequence(lambda n: f"E{n:05d}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"employee{n}@coveris.test")
    org_unit = factory.SubFactory(OrgUnitFactory)
    contracted_weekly_hours = 40
    hire_date = datetime.date(2026, 1, 5)
