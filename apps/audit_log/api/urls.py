from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.audit_log.api import views

router = SimpleRouter()
router.register("employee-transitions", views.EmployeeTransitionLogViewSet)
router.register("assignment-transitions", views.AssignmentTransitionLogViewSet)
router.register("tag-changes", views.TagChangeLogViewSet)
router.register("changes", views.ChangeViewSet, basename="audit-change")
router.register("verifications", views.ChainVerificationViewSet, basename="audit-verification")

urlpatterns = [
    path("verify/", views.AuditChainVerifyView.as_view(), name="audit-verify"),
    path("digest/", views.AuditDigestView.as_view(), name="audit-digest"),
    path("employees/<int:pk>/state-at/", views.EmployeeStateAtView.as_view(), name="audit-employee-state-at"),
    path("employees/<int:pk>/as-of/", views.EmployeeAsOfView.as_view(), name="audit-employee-as-of"),
    path("<slug:model>/<int:pk>/history/", views.RecordHistoryView.as_view(), name="audit-record-history"),
    *router.urls,
]
