"""Root URLconf: the admin, health checks, the schema, and every app's API under /api/."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from backend import views as backend_views
from backend.throttles import SchemaRateThrottle

api_patterns = [
    path("auth/", include("apps.users.api.urls")),
    path("", include("apps.api.api.urls")),
    path("", include("apps.tags.api.urls")),
    path("", include("apps.assignments.api.urls")),
    path("", include("apps.business_rules.api.urls")),
    path("", include("apps.offer.api.urls")),
    path("", include("apps.demand.api.urls")),
    path("audit/", include("apps.audit_log.api.urls")),
    # A budget of its own per address, not the anonymous one an office's page loads spend (issue 11 item 8).
    path("schema/", SpectacularAPIView.as_view(throttle_classes=[SchemaRateThrottle]), name="schema"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", backend_views.healthz, name="healthz"),
    path("readyz", backend_views.readyz, name="readyz"),
    path("api/", include(api_patterns)),
]

handler400 = "backend.views.handler400"
handler403 = "backend.views.handler403"
handler404 = "backend.views.handler404"
handler500 = "backend.views.handler500"
