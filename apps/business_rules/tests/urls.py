"""Test URLconf: the rule catalogue under /api/ (until config.urls includes it, and independently after)."""

from django.urls import include, path

urlpatterns = [path("api/", include("apps.business_rules.api.urls"))]

handler404 = "backend.views.handler404"
handler500 = "backend.views.handler500"
