from rest_framework.routers import SimpleRouter

from apps.api.api.imports import ImportJobViewSet
from apps.api.api.views import EmployeeViewSet, OrgUnitViewSet, PositionViewSet

router = SimpleRouter()
router.register("org-units", OrgUnitViewSet, basename="org-unit")
router.register("positions", PositionViewSet, basename="position")
router.register("employees", EmployeeViewSet, basename="employee")
router.register("import-jobs", ImportJobViewSet, basename="import-job")

urlpatterns = router.urls
