from rest_framework.routers import SimpleRouter

from apps.demand.api.views import CoverageRequirementViewSet, CoverageViewSet, KpiViewSet
from apps.demand.planning.views import PlanViewSet

router = SimpleRouter()
router.register("coverage-requirements", CoverageRequirementViewSet, basename="coverage-requirement")
router.register("coverage/plans", PlanViewSet, basename="plan")
router.register("coverage", CoverageViewSet, basename="coverage")
router.register("kpis", KpiViewSet, basename="kpi")

urlpatterns = router.urls
