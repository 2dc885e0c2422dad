"""drf-spectacular extensions: the cookie and bearer auth schemes, and every operation's error responses."""

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from backend.audit.context import REASON_HEADER, REASON_MAX_LENGTH, WRITE_METHODS
from backend.errors import ERROR_CODES  # the codes and their statuses: the ErrorCode enum

_REASON_PARAMETER = OpenApiParameter(
    REASON_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Why this change is made, percent-encoded UTF-8 text (at most "
        f"{REASON_MAX_LENGTH} characters): recorded as the reason of every change-history row the request writes. "
        "Optional; an unusable value is a 400 `validation_error` and nothing is written."
    ),
)


class CookieJWTScheme(OpenApiAuthenticationExtension):
    target_class = "backend.authentication.CookieJWTAuthentication"
    name = ["cookieJWT", "bearerJWT"]
    priority = 1

    def get_security_requirement(self, auto_schema):
        # Either scheme alone is enough: two alternatives, not one combined requirement.
        return [{"cookieJWT": []}, {"bearerJWT": []}]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "apiKey",
                "in": "cookie",
                "name": settings.AUTH_COOKIE_ACCESS,
                "description": "HttpOnly access cookie set by POST /api/auth/login/; unsafe methods also "
                "need the X-CSRFToken header (GET /api/auth/csrf/).",
            },
            {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "Authorization: Bearer <access> (or JWT <access>) from POST /api/auth/token/; "
                "no CSRF needed.",
            },
        ]


class CognitoJWTScheme(OpenApiAuthenticationExtension):
    target_class = "backend.authentication.CognitoJWTAuthentication"
    name = "cognitoJWT"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An AWS Cognito ID token (RS256) for the configured user pool (production).",
        }


# --- error responses ---------------------------------------------------------------------------------------------
#
# Every operation lists the errors it can really give (ADR 0010). Most are derived from the view itself — its
# authenticators (401), permissions and CSRF (403), path parameters and pagination (404), request body and query
# parameters (400, 415), model writes (409 conflict), throttles (429) and the database (503). Errors that only a
# service knows about (409 transition_not_allowed, 412, 422 rule_violation) are declared on the view with
# ``documents_errors(...)``. A domain app that types an error's ``details`` registers a serializer for them with
# ``register_error_details`` (backend imports no domain app).

# Codes whose ``details`` have their own component (``<Name>Error`` wrapping ``<Name>Details``).
TYPED_ERRORS = {
    "validation_error": "Validation",
    "transition_not_allowed": "TransitionNotAllowed",
    "rule_violation": "RuleViolation",
}

_ERROR_DETAILS: dict[str, Any] = {}

_CODE_MEANINGS = {
    "validation_error": "invalid input; details map each field to its messages",
    "not_authenticated": "not signed in, or wrong credentials",
    "token_invalid": "the token or cookie is invalid, expired or revoked",
    "permission_denied": "your role may not do this",
    "csrf_failed": "a cookie-authenticated unsafe request without a valid X-CSRFToken",
    "not_found": "no such object (or outside your scope), or no such page",
    "method_not_allowed": "method not allowed here",
    "not_acceptable": "no JSON in the Accept header",
    "transition_not_allowed": "the transition is not open from the current state; details say which are",
    "conflict": "conflicts with existing data or the object's current state",
    "precondition_failed": "a precondition of the request failed",
    "unsupported_media_type": "the body is not application/json",
    "rule_violation": "business rules refuse the change; details list the failing rule results",
    "throttled": "too many requests; retry after Retry-After seconds",
    "server_error": "an unexpected error",
    "service_unavailable": "overloaded, or the database or cache is unreachable; retry after Retry-After seconds",
}

_RETRY_AFTER = {
    "Retry-After": {"schema": {"type": "integer", "minimum": 0}, "description": "Seconds to wait before retrying."}
}


def register_error_details(code: str, serializer) -> None:
    """Type the ``details`` of error ``code`` in the schema with ``serializer`` (called by the domain app)."""
    if code not in TYPED_ERRORS:
        raise ValueError(f"{code!r} has no typed details; add it to backend.schema.TYPED_ERRORS first.")
    _ERROR_DETAILS[code] = serializer


def documents_errors(*codes: str, methods: list[str] | None = None):
    """Declare the service errors an API method or view class can answer, beyond those the schema derives.

    ``@documents_errors("transition_not_allowed", "rule_violation")`` on a view method (or an ``@action``; for an
    action serving several methods, ``methods=["POST"]`` narrows it), or on the view class for all its operations.
    Each code must be one of ``ERROR_CODES``.
    """
    unknown = [code for code in codes if code not in ERROR_CODES]
    if unknown:
        raise ValueError(f"Unknown error code(s) {unknown}: use one of {sorted(ERROR_CODES)}.")
    only = frozenset(m.upper() for m in methods) if methods else None

    def decorate(target):
        entries = tuple(getattr(target, "coveris_error_codes", ()))
        target.coveris_error_codes = entries + tuple((code, only) for code in codes)
        return target

    return decorate


def _validation_details_schema() -> dict:
    messages = {"type": "array", "items": {"type": "string"}}
    return {
        "type": "object",
        "description": "Field name (or non_field_errors) → its messages; nested input nests the same way.",
        "additionalProperties": {
            "oneOf": [
                messages,
                {"type": "object", "additionalProperties": True},
                {"type": "array", "items": {"type": "object", "additionalProperties": True}},
            ]
        },
        "example": {"email": ["This field is required."]},
    }


class CoverisAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the error responses each operation can give (SPEC §3's one shape).

    Also gives every operation a summary (Redocly's ``operation-summary`` rule; generated clients name things by it).
    """

    _ACTION_SUMMARIES = {
        "list": "List {plural}",
        "create": "Create a {name}",
        "retrieve": "Retrieve a {name}",
        "update": "Replace a {name}",
        "partial_update": "Update a {name}",
        "destroy": "Delete a {name}",
    }

    def get_override_parameters(self):
        """Every write may say why (``X-Change-Reason``, read by ``backend.middleware.HistoryContextMiddleware``)."""
        parameters = list(super().get_override_parameters())
        if self.method in WRITE_METHODS:
            parameters.append(_REASON_PARAMETER)
        return parameters

    def get_summary(self):
        summary = super().get_summary()
        if summary:
            return summary
        action = getattr(self.view, "action", None)
        model = getattr(getattr(self.view, "queryset", None), "model", None)
        if model is None and hasattr(self.view, "get_serializer_class"):
            try:
                model = getattr(getattr(self.view.get_serializer_class(), "Meta", None), "model", None)
            except AssertionError:  # a view without serializer_class
                model = None
        if action in self._ACTION_SUMMARIES and model is not None:
            meta = model._meta
            return self._ACTION_SUMMARIES[action].format(name=meta.verbose_name, plural=meta.verbose_name_plural)
        handler = getattr(self.view, action or self.method.lower(), None)
        doc = (getattr(handler, "__doc__", None) or type(self.view).__doc__ or "").strip()
        if doc:
            return doc.splitlines()[0].strip().rstrip(".")
        return self.get_operation_id().replace("_", " ").capitalize()

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction=direction)
        if direction != "response":
            return responses
        by_status: dict[int, list[str]] = {}
        for code in self.error_codes():
            by_status.setdefault(ERROR_CODES[code], []).append(code)
        for status_code, codes in sorted(by_status.items()):
            if str(status_code) in responses:  # an explicit extend_schema wins
                continue
            responses[str(status_code)] = self._error_response(status_code, codes)
        return responses

    # -- which errors ------------------------------------------------------------------------------------------
    def error_codes(self) -> list[str]:
        """The error codes this operation can answer, derived from the view and its declarations."""
        view, method = self.view, self.method
        codes: list[str] = []
        has_body = method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None
        query = [p for p in self._get_parameters() if p.get("in") in ("query", "header")]
        if has_body or query:
            codes.append("validation_error")
        if view.get_authenticators():
            codes += ["not_authenticated", "token_invalid"]
        permissions = view.get_permissions()
        if permissions and not all(isinstance(p, AllowAny) for p in permissions):
            codes.append("permission_denied")
        if method not in ("GET", "HEAD", "OPTIONS") and any(
            hasattr(a, "enforce_csrf") or type(a).__name__.startswith("Cookie") for a in view.get_authenticators()
        ):
            codes.append("csrf_failed")
        has_path_params = any(p.get("in") == "path" for p in self._get_parameters())
        if has_path_params or (self._is_list_view() and self._get_paginator() is not None):
            codes.append("not_found")
        if method == "DELETE" or (has_body and self._writes_model()):
            codes.append("conflict")  # a row still referring to it, or a unique/exclusion constraint
        if has_body and view.get_parsers():
            codes.append("unsupported_media_type")
        codes += self._declared_codes()
        if view.get_throttles():
            codes.append("throttled")
        if not getattr(view, "schema_without_database", False):
            codes.append("service_unavailable")
        return list(dict.fromkeys(code for code in ERROR_CODES if code in codes))

    def _declared_codes(self) -> list[str]:
        view = self.view
        handler_name = getattr(view, "action", None) or self.method.lower()
        targets = [type(view), getattr(view, handler_name, None)]
        if handler_name == "partial_update":  # ModelViewSet's PATCH runs update()
            targets.append(getattr(view, "update", None))
        return [
            code
            for target in targets
            for code, only in getattr(target, "coveris_error_codes", ())
            if only is None or self.method in only
        ]

    def _writes_model(self) -> bool:
        serializer = self.get_request_serializer()
        serializer = serializer() if isinstance(serializer, type) else serializer
        return isinstance(serializer, serializers.ModelSerializer)

    # -- how they look -----------------------------------------------------------------------------------------
    def _error_response(self, status_code: int, codes: list[str]) -> dict:
        refs = [self._error_component(code) for code in codes]
        refs = list(dict.fromkeys(refs))  # codes without typed details share the generic Error
        # anyOf, not oneOf: a transition_not_allowed body is also a valid generic Error.
        schema = {"$ref": refs[0]} if len(refs) == 1 else {"anyOf": [{"$ref": ref} for ref in refs]}
        response = {
            "description": "; ".join(f"{code}: {_CODE_MEANINGS[code]}" for code in codes),
            "content": {"application/json": {"schema": schema}},
        }
        if status_code in (429, 503):
            response["headers"] = dict(_RETRY_AFTER)
        return response

    def _register(self, name: str, schema: dict) -> str:
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema)
        self.registry.register_on_missing(component)
        return component.ref["$ref"]

    def _error_component(self, code: str) -> str:
        code_ref = self._register("ErrorCode", {"type": "string", "enum": list(ERROR_CODES)})
        if code not in TYPED_ERRORS:
            return self._register(
                "Error",
                {
                    "type": "object",
                    "description": "The one error shape of every error answer (SPEC §3).",
                    "properties": {
                        "error": {
                            "type": "object",
                            "properties": {
                                "code": {"$ref": code_ref},
                                "message": {"type": "string", "description": "For people; may change."},
                                "details": {
                                    "type": "object",
                                    "nullable": True,
                                    "additionalProperties": True,
                                    "description": "Structured detail, by code; often null.",
                                },
                            },
                            "required": ["code", "message", "details"],
                        }
                    },
                    "required": ["error"],
                },
            )
        name = TYPED_ERRORS[code]
        serializer = _ERROR_DETAILS.get(code)
        if serializer is not None:
            details = self.resolve_serializer(serializer, "response").ref
        elif code == "validation_error":
            details = {"$ref": self._register(f"{name}Details", _validation_details_schema())}
        else:
            details = {"type": "object", "additionalProperties": True}
        return self._register(
            f"{name}Error",
            {
                "type": "object",
                "description": f"The error shape when the code is {code}: details typed.",
                "properties": {
                    "error": {
                        "type": "object",
                        "properties": {
                            "code": {"type": "string", "enum": [code]},
                            "message": {"type": "string"},
                            "details": details,
                        },
                        "required": ["code", "message", "details"],
                    }
                },
                "required": ["error"],
            },
        )


def postprocess_lint_fixes(result, generator, request, public):
    """What Redocly's recommended rules ask of the document that spectacular leaves out.

    - Drop ``nullable`` where a schema has no ``type`` (a JSONField, a nullable choice's oneOf): OpenAPI 3.0.3
      defines ``nullable`` only beside ``type``; without one it has no effect (the schema already admits null, or
      its oneOf lists NullEnum), and the ``nullable-type-sibling`` rule rejects it.
    - A public operation (``auth=[]``) says so with ``security: [{}]`` (no credentials needed) rather than leaving
      security out (``security-defined``).
    """

    def visit(node):
        if isinstance(node, dict):
            if node.get("nullable") is True and "type" not in node:
                del node["nullable"]
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(result.get("components", {}).get("schemas", {}))
    visit(result.get("paths", {}))
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method in ("get", "put", "post", "delete", "patch", "head", "options") and not operation.get("security"):
                operation["security"] = [{}]
    return result
