"""Test-only URLconf: the bare ``TransitionActionMixin`` on a tiny employee viewset, beside the real routes.

``/api/fsm-test/employees/{id}/transitions/`` lets every reading role reach the action and applies no scope, so
the API tests show that the service itself refuses roles (403), states (409), names and dates (400) and rules
(422), whatever the viewset in front of it does. The real ``/api/employees/`` routes stay mounted, so the same
tests run against the production viewset too.
"""

from django.urls import include, path
from rest_framework import mixins, serializers, viewsets
from rest_framework.routers import SimpleRouter

from apps.api.models import Employee
from apps.fsm.api.views import TransitionActionMixin
from apps.fsm.services import EMPLOYEE_TRANSITIONS
from backend.permissions import READ_ALL, RolePermission
from config import urls as root_urls


class BareEmployeeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Employee
        fields = ["id", "employee_number", "state", "hire_date", "termination_date"]


class BareEmployeeViewSet(TransitionActionMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Employee.objects.all()
    serializer_class = BareEmployeeSerializer
    permission_classes = [RolePermission]
    action_roles = {"transitions": READ_ALL}
    transition_kind = EMPLOYEE_TRANSITIONS


router = SimpleRouter()
router.register("employees", BareEmployeeViewSet, basename="fsm-test-employee")

urlpatterns = [path("api/fsm-test/", include(router.urls)), *root_urls.urlpatterns]
handler404 = root_urls.handler404
handler500 = root_urls.handler500
