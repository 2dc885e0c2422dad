"""Test data for tags. These build rows directly (no TagChangeLog rows): to test the log, call the services."""

import datetime

import factory

from apps.api.tests.factories import EmployeeFactory, PositionFactory
from apps.tags.choices import TagCategory
from apps.tags.models import EmployeeTag, PositionTag, TagCatalog


class TagCatalogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TagCatalog
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"tag-{n:04d}")
    name = factory.Sequence(lambda n: f"Tag {n}")
    category = TagCategory.SKILL
    is_active = True


class EmployeeTagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmployeeTag

    employee = factory.SubFactory(EmployeeFactory)
    tag = factory.SubFactory(TagCatalogFactory)
    level = 1
    valid_from = datetime.date(2026, 1, 1)
    valid_until = None


class PositionTagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PositionTag

    position = factory.SubFactory(PositionFactory)
    tag = factory.SubFactory(TagCatalogFactory)
    min_level = 1
    required = True
