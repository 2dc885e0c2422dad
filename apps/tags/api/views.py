"""Tag endpoints: thin viewsets whose writes all go through apps.tags.services (so each writes its log row)."""

from rest_framework import viewsets

from apps.api.api.imports import ImportActionMixin
from apps.tags import selectors, services
from apps.tags.api.serializers import EmployeeTagSerializer, PositionTagSerializer, TagCatalogSerializer
from apps.tags.filtersets import EmployeeTagFilterSet, PositionTagFilterSet, TagCatalogFilterSet
from apps.tags.imports import EmployeeTagResource, TagCatalogResource
from apps.users.choices import Role
from backend.permissions import READ_ALL, WRITE_WORKFORCE


class TagCatalogViewSet(ImportActionMixin, viewsets.ModelViewSet):
    """The tag catalogue: every role reads it, admin and hr keep it."""

    serializer_class = TagCatalogSerializer
    filterset_class = TagCatalogFilterSet
    import_resource = TagCatalogResource
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name", "category"]
    read_roles = READ_ALL | {Role.EMPLOYEE}
    write_roles = WRITE_WORKFORCE

    def get_queryset(self):
        return selectors.tag_catalog_list()

    def perform_create(self, serializer):
        serializer.instance = services.tag_catalog_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.tag_catalog_update(tag=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.tag_catalog_delete(tag=instance)


class EmployeeTagViewSet(ImportActionMixin, viewsets.ModelViewSet):
    """Tags employees hold; a manager sees their subtree's, an employee their own."""

    serializer_class = EmployeeTagSerializer
    filterset_class = EmployeeTagFilterSet
    import_resource = EmployeeTagResource
    search_fields = ["tag__code", "tag__name", "employee__employee_number", "employee__last_name"]
    ordering_fields = ["tag__code", "level", "valid_from", "valid_until", "employee"]
    read_roles = READ_ALL | {Role.EMPLOYEE}
    write_roles = WRITE_WORKFORCE

    def get_queryset(self):
        return selectors.employee_tag_list(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.employee_tag_add(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.employee_tag_change(
            employee_tag=serializer.instance, actor=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.employee_tag_remove(employee_tag=instance, actor=self.request.user)


class PositionTagViewSet(viewsets.ModelViewSet):
    """Tags positions ask for; a manager sees their subtree's positions'."""

    serializer_class = PositionTagSerializer
    filterset_class = PositionTagFilterSet
    search_fields = ["tag__code", "tag__name", "position__code", "position__title"]
    ordering_fields = ["tag__code", "min_level", "required", "position"]
    read_roles = READ_ALL
    write_roles = WRITE_WORKFORCE

    def get_queryset(self):
        return selectors.position_tag_list(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.position_tag_add(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.position_tag_change(
            position_tag=serializer.instance, actor=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.position_tag_remove(position_tag=instance, actor=self.request.user)
