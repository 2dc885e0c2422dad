from rest_framework.routers import SimpleRouter

from apps.business_rules.api.views import BusinessRuleViewSet

router = SimpleRouter()
router.register("business-rules", BusinessRuleViewSet, basename="business-rule")

urlpatterns = router.urls
