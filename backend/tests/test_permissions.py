"""RolePermission: which roles read, which write, per-action overrides; no role or inactive reads nothing."""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from rest_framework.test import APIRequestFactory

from apps.users.choices import Role
from apps.users.models import User
from backend.permissions import AUDIT_READERS, IsAuthenticatedWithRole, RolePermission, user_role

ALL_ROLES = [Role.ADMIN, Role.HR, Role.MANAGER, Role.AUDITOR, Role.EMPLOYEE]
factory = APIRequestFactory()


def _allowed(user, method: str = "GET", **view_attrs) -> bool:
    request = getattr(factory, method.lower())("/api/anything/")
    request.user = user
    return RolePermission().has_permission(request, SimpleNamespace(**view_attrs))


def _user(role: str = "admin", *, active: bool = True) -> User:
    return User(email=f"{role or 'none'}@coveris.test", role=role, is_active=active)


@pytest.mark.parametrize(
    ("role", "reads", "writes"),
    [
        (Role.ADMIN, True, True),
        (Role.HR, True, True),
        (Role.MANAGER, True, False),
        (Role.AUDITOR, True, False),
        (Role.EMPLOYEE, False, False),
    ],
)
def test_default_policy(role, reads, writes):
    user = _user(role)
    assert _allowed(user, "GET") is reads
    assert _allowed(user, "HEAD") is reads
    assert _allowed(user, "OPTIONS") is reads
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert _allowed(user, method) is writes, method


@pytest.mark.parametrize(
    "user",
    [AnonymousUser(), _user(""), _user("superhero"), _user(Role.ADMIN, active=False), None],
    ids=["anonymous", "no-role", "unknown-role", "inactive-admin", "no-user"],
)
def test_nobody_without_an_active_known_role_gets_anything(user):
    for method in ("GET", "POST"):
        assert _allowed(user, method) is False
        assert _allowed(user, method, read_roles=frozenset(ALL_ROLES), write_roles=frozenset(ALL_ROLES)) is False
        assert _allowed(user, method, action="list", action_roles={"list": frozenset(ALL_ROLES)}) is False
    assert user_role(user) is None


def test_view_narrows_readers_and_widens_writers():
    view = {"read_roles": AUDIT_READERS, "write_roles": frozenset({Role.ADMIN, Role.HR, Role.MANAGER})}
    assert _allowed(_user(Role.AUDITOR), "GET", **view)
    assert not _allowed(_user(Role.MANAGER), "GET", **view)
    assert _allowed(_user(Role.MANAGER), "POST", **view)
    assert not _allowed(_user(Role.AUDITOR), "POST", **view)


def test_action_roles_override_the_method_policy():
    view = {"action": "clock_in", "action_roles": {"clock_in": frozenset({Role.EMPLOYEE})}}
    assert _allowed(_user(Role.EMPLOYEE), "POST", **view)
    assert not _allowed(_user(Role.ADMIN), "POST", **view), "action_roles replace, not extend, the default"
    assert not _allowed(_user(Role.HR), "GET", **view)


def test_action_roles_per_method_with_a_wildcard():
    roles = {"GET": frozenset({Role.AUDITOR}), "*": frozenset({Role.HR})}
    view = {"action": "transitions", "action_roles": {"transitions": roles}}
    assert _allowed(_user(Role.AUDITOR), "GET", **view)
    assert not _allowed(_user(Role.HR), "GET", **view)
    assert _allowed(_user(Role.HR), "POST", **view)
    assert not _allowed(_user(Role.AUDITOR), "POST", **view)


def test_action_roles_per_method_without_a_wildcard_refuse_other_methods():
    view = {"action": "report", "action_roles": {"report": {"GET": frozenset(ALL_ROLES)}}}
    assert _allowed(_user(Role.EMPLOYEE), "GET", **view)
    assert not _allowed(_user(Role.ADMIN), "POST", **view)


def test_actions_not_listed_fall_back_to_the_default_policy():
    view = {"action": "list", "action_roles": {"clock_in": frozenset({Role.EMPLOYEE})}}
    assert _allowed(_user(Role.AUDITOR), "GET", **view)
    assert not _allowed(_user(Role.EMPLOYEE), "GET", **view)
    assert not _allowed(_user(Role.AUDITOR), "POST", **view)


def test_is_authenticated_with_role_admits_any_active_user():
    check = IsAuthenticatedWithRole()
    request = factory.get("/api/auth/me/")
    for user, expected in [(_user(Role.EMPLOYEE), True), (_user(""), True), (_user(active=False), False)]:
        request.user = user
        assert check.has_permission(request, None) is expected
    request.user = AnonymousUser()
    assert check.has_permission(request, None) is False


# --- scope_for: the one definition of "rows a role may read" --------------------------------------


@pytest.fixture
def scoped_world(db):
    from apps.api.tests.factories import EmployeeFactory, OrgUnitFactory

    root = OrgUnitFactory(code="S-ROOT")
    child = OrgUnitFactory(code="S-CHILD", parent=root)
    other = OrgUnitFactory(code="S-OTHER")
    return {
        "root": root,
        "child": child,
        "in_root": EmployeeFactory(org_unit=root),
        "in_child": EmployeeFactory(org_unit=child),
        "elsewhere": EmployeeFactory(org_unit=other),
    }


def _scoped_ids(user, **kwargs):
    from apps.api.models import Employee
    from backend.permissions import scope_for

    return set(scope_for(user, Employee.objects.all(), **kwargs).values_list("pk", flat=True))


@pytest.mark.parametrize("role", ["admin", "hr", "auditor"])
def test_scope_for_readers_of_everything(make_user, scoped_world, role):
    assert len(_scoped_ids(make_user(role), unit_paths="org_unit__path")) == 3


def test_scope_for_manager_reads_their_subtree_only(make_user, scoped_world):
    manager = make_user("manager", org_unit=scoped_world["root"])
    expected = {scoped_world["in_root"].pk, scoped_world["in_child"].pk}
    assert _scoped_ids(manager, unit_paths="org_unit__path") == expected
    lower = make_user("manager", org_unit=scoped_world["child"])
    assert _scoped_ids(lower, unit_paths="org_unit__path") == {scoped_world["in_child"].pk}
    assert _scoped_ids(make_user("manager"), unit_paths="org_unit__path") == set()


def test_scope_for_employee_reads_own_rows_only_when_told_how(make_user, scoped_world):
    user = make_user("employee")
    mine = scoped_world["elsewhere"]
    mine.user = user
    mine.save(update_fields=["user"])
    assert _scoped_ids(user, unit_paths="org_unit__path", own="user") == {mine.pk}
    assert _scoped_ids(user, unit_paths="org_unit__path") == set()


def test_scope_for_no_or_unknown_role_reads_nothing(make_user, scoped_world):
    user = make_user("")
    assert _scoped_ids(user, unit_paths="org_unit__path", own="user") == set()
    user.role = "owner"  # not a role Coveris knows (the database refuses it; in memory it must still read nothing)
    assert _scoped_ids(user, unit_paths="org_unit__path", own="user") == set()
