from rest_framework.routers import SimpleRouter

from apps.assignments.api.views import AssignmentViewSet

router = SimpleRouter()
router.register("assignments", AssignmentViewSet, basename="assignment")

urlpatterns = router.urls
