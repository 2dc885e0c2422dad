"""Who may call what: every demand endpoint for every role (SPEC §3)."""

import pytest

from apps.demand.tests.conftest import ROLES, assert_error
from apps.demand.tests.factories import CoverageRequirementFactory

READ_REPORTS = {"admin", "hr", "manager", "auditor"}
WRITERS = {"admin", "hr"}


def _denied(response, role):
    if role == "anonymous":
        assert_error(response, 401, "not_authenticated")
    else:
        assert_error(response, 403, "permission_denied")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/api/coverage-requirements/", READ_REPORTS),
        ("/api/coverage/?from=2026-03-02&to=2026-03-08", READ_REPORTS),
        ("/api/coverage/org-units/?from=2026-03-02&to=2026-03-08", READ_REPORTS),
        ("/api/coverage/candidates/?position={pos}&from=2026-03-02&to=2026-03-08", READ_REPORTS),
        ("/api/kpis/?from=2026-03-02&to=2026-03-08", READ_REPORTS),
    ],
)
def test_reads(client_for, position_in, role, path, allowed):
    response = client_for(role).get(path.format(pos=position_in.pk))
    if role in allowed:
        assert response.status_code == 200, response.content
    else:
        _denied(response, role)


@pytest.mark.parametrize("role", ROLES)
def test_requirement_detail_read(client_for, position_in, role):
    requirement = CoverageRequirementFactory(position=position_in)
    response = client_for(role).get(f"/api/coverage-requirements/{requirement.pk}/")
    if role in READ_REPORTS:
        assert response.status_code == 200, response.content
    else:
        _denied(response, role)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_requirement_writes(client_for, position_in, role, method):
    requirement = CoverageRequirementFactory(position=position_in)
    body = {
        "position": position_in.pk,
        "valid_from": "2026-04-01",
        "valid_to": "2026-04-30",
        "required_headcount": 2,
        "required_weekly_hours": "60.00",
        "priority": 2,
    }
    url = "/api/coverage-requirements/" + ("" if method == "post" else f"{requirement.pk}/")
    response = getattr(client_for(role), method)(url, None if method == "delete" else body, format="json")
    if role in WRITERS:
        assert response.status_code == {"post": 201, "put": 200, "patch": 200, "delete": 204}[method], response.content
    else:
        _denied(response, role)


@pytest.mark.parametrize(
    "path", ["/api/coverage/", "/api/coverage/org-units/", "/api/coverage/candidates/", "/api/kpis/"]
)
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_reports_are_read_only(auth_client, tree, path, method):
    client, _ = auth_client("admin")
    assert_error(getattr(client, method)(path, {}, format="json"), 405, "method_not_allowed")
