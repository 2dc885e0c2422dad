"""Domain errors (ADR 0027): services raise them, knowing nothing of DRF; the API answers them exactly as before."""

import ast
import json
from pathlib import Path

import pytest
from rest_framework import exceptions

import apps
from backend import errors
from backend.exceptions import coveris_exception_handler, plain_error_response

APPS_DIR = Path(apps.__file__).parent
BACKEND_DIR = Path(errors.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def _domain_modules() -> list[Path]:
    """Services, selectors and the planner (not its views and serializers), tests apart; and backend.errors."""
    paths = [*APPS_DIR.glob("*/services*.py"), *APPS_DIR.glob("*/selectors*.py")]
    paths += [*APPS_DIR.glob("*/services/**/*.py"), *APPS_DIR.glob("*/selectors/**/*.py")]
    paths += [
        path
        for path in (APPS_DIR / "demand" / "planning").rglob("*.py")
        if path.stem not in ("views", "serializers") and "tests" not in path.parts
    ]
    return sorted(set(paths)) + [BACKEND_DIR / "errors.py"]


def test_domain_modules_import_no_rest_framework():
    modules = _domain_modules()
    assert len(modules) >= 15, modules  # the globs still find the services
    offenders = {
        (str(path.relative_to(APPS_DIR.parent)), module)
        for path in modules
        for module in _imported_modules(path)
        if module == "rest_framework" or module.startswith("rest_framework.")
    }
    assert offenders == set()


def test_the_check_would_catch_an_import_of_rest_framework(tmp_path):
    sample = tmp_path / "services.py"
    sample.write_text("from rest_framework import exceptions\nimport rest_framework.exceptions as e\n")
    assert _imported_modules(sample) >= {"rest_framework", "rest_framework.exceptions"}


def _answer(exc, view=None) -> tuple[int, str, dict]:
    response = coveris_exception_handler(exc, {"view": view, "request": object() if view else None})
    return response.status_code, json.dumps(response.data), dict(response.items())


@pytest.mark.parametrize(
    "errors_given",
    [
        {"employee": ["Unknown employee."]},
        {"transition": ["Unknown transition 'x'. Known: a, b."], "other": ["Second."]},
        {"code": "A single string, not a list."},
        {"params": {"max_hours": ["Must be positive."]}},
        {"non_field_errors": ["About no field."]},
        ["First.", "Second."],
        ("As a tuple.",),
        "A plain sentence.",
    ],
)
def test_invalid_input_answers_exactly_as_drfs_validation_error(errors_given):
    assert _answer(errors.InvalidInputError(errors_given)) == _answer(exceptions.ValidationError(errors_given))


@pytest.mark.parametrize(
    ("domain", "drf"),
    [
        (errors.PermissionDeniedError(), exceptions.PermissionDenied()),
        (
            errors.PermissionDeniedError("Your role may not perform 'end'."),
            exceptions.PermissionDenied("Your role may not perform 'end'."),
        ),
        (errors.NotFoundError(), exceptions.NotFound()),
        (errors.NotFoundError("No assignment with id 9."), exceptions.NotFound("No assignment with id 9.")),
        (errors.ThrottledError(retry_after=30), exceptions.Throttled(wait=30)),
        (errors.ThrottledError(retry_after=2.5), exceptions.Throttled(wait=2.5)),
    ],
)
def test_domain_errors_answer_exactly_as_the_drf_errors_they_replace(domain, drf):
    assert _answer(domain) == _answer(drf)


def test_a_domain_error_answers_its_codes_status_with_code_message_and_details():
    status, body, _ = _answer(
        errors.RuleViolationError("Business rules forbid this change.", details={"violations": []})
    )
    assert status == 422
    assert json.loads(body) == {
        "error": {
            "code": "rule_violation",
            "message": "Business rules forbid this change.",
            "details": {"violations": []},
        }
    }
    status, body, headers = _answer(errors.ServiceUnavailableError(retry_after=7))
    assert (status, headers["Retry-After"]) == (503, "7")
    assert json.loads(body)["error"]["details"] == {"retry_after_seconds": 7}


class _View:
    def __init__(self, header):
        self.header = header

    def get_authenticate_header(self, request):
        return self.header


def test_a_domain_401_names_the_views_scheme_or_is_a_403_without_one():
    status, body, headers = _answer(errors.TokenInvalidError("Token is blacklisted."), view=_View('Bearer realm="api"'))
    assert (status, headers["WWW-Authenticate"]) == (401, 'Bearer realm="api"')
    assert json.loads(body)["error"] == {"code": "token_invalid", "message": "Token is blacklisted.", "details": None}
    status, _, headers = _answer(errors.NotAuthenticatedError("Invalid email or password."), view=_View(None))
    assert status == 403  # as DRF does for its own 401s
    assert "WWW-Authenticate" not in headers


def test_outside_drf_a_domain_error_is_answered_in_the_shape_and_anything_else_is_not():
    response = plain_error_response(errors.ConflictError("Position is already filled.", details={"position": 7}))
    assert response.status_code == 409
    assert json.loads(response.content) == {
        "error": {"code": "conflict", "message": "Position is already filled.", "details": {"position": 7}}
    }
    assert plain_error_response(ValueError("a bug")) is None


def test_invalid_input_keeps_field_errors_apart_from_a_message_about_no_field():
    named = errors.InvalidInputError({"employee": ["Unknown employee."]})
    assert (named.message, named.field_errors) == ("Invalid input: employee: Unknown employee.", named.details)
    general = errors.InvalidInputError(message="A manager without an org unit cannot plan.", details={"org_unit": []})
    assert (general.message, general.details, general.field_errors) == (
        "A manager without an org unit cannot plan.",
        {"org_unit": []},
        None,
    )
    assert errors.InvalidInputError().details == {"non_field_errors": ["Bad request."]}
