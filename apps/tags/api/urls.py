from rest_framework.routers import SimpleRouter

from apps.tags.api.views import EmployeeTagViewSet, PositionTagViewSet, TagCatalogViewSet

router = SimpleRouter()
router.register("tags", TagCatalogViewSet, basename="tag")
router.register("employee-tags", EmployeeTagViewSet, basename="employee-tag")
router.register("position-tags", PositionTagViewSet, basename="position-tag")

urlpatterns = router.urls
