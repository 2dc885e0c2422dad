"""Test-only URLconf: tiny views under /api/test/ that exercise the plumbing (pagination, errors, throttles).

Used with ``@pytest.mark.urls("backend.tests.urls")``. The real URLconf's routes and error handlers are kept,
so the views here run behind exactly the middleware and handlers production uses.
"""

from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import include, path
from django.views.decorators.http import require_POST
from drf_spectacular.renderers import OpenApiYamlRenderer
from rest_framework import exceptions, serializers, viewsets
from rest_framework.filters import SearchFilter
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from apps.users.models import User
from backend.errors import ConflictError, RuleViolationError
from backend.permissions import RolePermission
from config import urls as root_urls


class UserRowSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email"]


class UserViewSet(viewsets.ReadOnlyModelViewSet):
    """Read-only users, paginated by the default CoverisPagination, guarded by RolePermission."""

    queryset = User.objects.order_by("id")
    serializer_class = UserRowSerializer
    permission_classes = [RolePermission]
    filter_backends = [SearchFilter]
    search_fields = ["email"]


class EchoInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=20)
    count = serializers.IntegerField(min_value=1)


class EchoView(APIView):
    """POST JSON {name, count}: validates and echoes it back (parser, media type and validation errors)."""

    permission_classes = [AllowAny]

    def post(self, request):
        serializer = EchoInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)


class ErrorView(APIView):
    """GET raises the error named in the URL, the way a real view or service would."""

    permission_classes = [AllowAny]

    def get(self, request, kind: str):
        if kind == "integrity":
            # A real constraint violation (duplicate email), inside a savepoint as a service would do it.
            with transaction.atomic():
                User.objects.create(email="twin@coveris.test")
                User.objects.create(email="twin@coveris.test")
        if kind == "conflict":
            raise ConflictError("Position is already filled.", details={"position": 7})
        if kind == "rule":
            raise RuleViolationError(details=[{"rule": "max_hours", "message": "Over 40 hours a week."}])
        if kind == "not-found":
            raise exceptions.NotFound()
        if kind == "http404":
            raise Http404("no such thing")
        if kind == "django-denied":
            raise PermissionDenied
        if kind == "django-validation":
            raise DjangoValidationError({"start": ["Start must be before end."]})
        if kind == "django-bad-request":
            raise BadRequest("The week must be an ISO week like 2025-W07.")
        if kind == "suspicious":
            raise SuspiciousOperation("Attempted access to /etc/passwd denied.")
        if kind == "throttled-no-wait":
            raise exceptions.Throttled()
        if kind == "crash":
            raise RuntimeError("secret internal detail")
        return Response({"kind": kind})


class YamlErrorView(APIView):
    """An error rendered by a non-JSON renderer, as the schema view renders its 401s."""

    permission_classes = [AllowAny]
    renderer_classes = [OpenApiYamlRenderer]

    def get(self, request):
        raise exceptions.Throttled(wait=30)


class TinyThrottle(AnonRateThrottle):
    scope = "plumbing-test"
    rate = "2/minute"


class ThrottledView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [TinyThrottle]

    def get(self, request):
        return Response({"ok": True})


def plain_crash(request: HttpRequest):
    raise RuntimeError("secret internal detail")


def plain_missing(request: HttpRequest):
    raise Http404("nothing here")


def plain_denied(request: HttpRequest):
    raise PermissionDenied


def plain_suspicious(request: HttpRequest):
    raise SuspiciousOperation("odd request")


@require_POST
def plain_post_only(request: HttpRequest):
    return JsonResponse({"ok": True})


router = SimpleRouter()
router.register("users", UserViewSet, basename="test-user")

test_patterns = [
    *router.urls,
    path("echo/", EchoView.as_view()),
    path("errors/<slug:kind>/", ErrorView.as_view()),
    path("throttled/", ThrottledView.as_view()),
    path("yaml-error/", YamlErrorView.as_view()),
    path("plain/crash/", plain_crash),
    path("plain/missing/", plain_missing),
    path("plain/denied/", plain_denied),
    path("plain/suspicious/", plain_suspicious),
    path("plain/post-only/", plain_post_only),
]

urlpatterns = [path("api/test/", include(test_patterns)), *root_urls.urlpatterns]

# config/urls.py does not declare these two yet (see the plumbing report); the views are tested here.
handler400 = "backend.views.handler400"
handler403 = "backend.views.handler403"
handler404 = root_urls.handler404
handler500 = root_urls.handler500
