"""Role permissions (SPEC §3). Views declare which roles read and which write; scoping is in querysets."""

from django.db.models import Q
from rest_framework.permissions import SAFE_METHODS, BasePermission

from apps.users.choices import Role

READ_ALL = frozenset({Role.ADMIN, Role.HR, Role.MANAGER, Role.AUDITOR})
WRITE_WORKFORCE = frozenset({Role.ADMIN, Role.HR})
AUDIT_READERS = frozenset({Role.ADMIN, Role.HR, Role.AUDITOR})


# ``Role.values`` builds a new list from the enum on every access (~30 µs, twice a request): read once.
ROLES = frozenset(Role.values)


def user_role(user) -> str | None:
    """The caller's role, or None for anonymous, inactive or role-less users (who read nothing)."""
    if not user or not user.is_authenticated or not user.is_active:
        return None
    role = getattr(user, "role", None)
    return role if role in ROLES else None


class RolePermission(BasePermission):
    """Default policy: ``read_roles`` may use safe methods, ``write_roles`` everything.

    A view narrows or widens it with ``read_roles`` / ``write_roles`` attributes, or per action with
    ``action_roles = {"transitions": {...}}``. Object-level scope (manager subtree, own record) is the
    queryset's job, so out-of-scope objects answer 404 rather than 403.
    """

    message = "Your role does not allow this action."

    def has_permission(self, request, view) -> bool:
        role = user_role(request.user)
        if role is None:
            return False
        action = getattr(view, "action", None)
        action_roles = getattr(view, "action_roles", {}) or {}
        if action in action_roles:
            allowed = action_roles[action]
            if isinstance(allowed, dict):
                allowed = allowed.get(request.method.upper(), allowed.get("*", frozenset()))
            return role in allowed
        if request.method in SAFE_METHODS:
            return role in getattr(view, "read_roles", READ_ALL)
        return role in getattr(view, "write_roles", WRITE_WORKFORCE)


class IsAuthenticatedWithRole(BasePermission):
    """Any signed-in active user, role or not: endpoints about the caller themself (``/api/auth/me/``).

    A role-less user reads no data, but may still see who they are, so the SPA can say "no access yet".
    """

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_active)


# --- row scope: what a role may read (out-of-scope rows simply are not there, so they answer 404) --------

SEE_EVERYTHING = frozenset({Role.ADMIN, Role.HR, Role.AUDITOR})


def manager_subtree_path(user) -> str | None:
    """The materialized path of a manager's own org unit ("/1/5/"), or None when they have none."""
    unit = user.org_unit if getattr(user, "org_unit_id", None) else None
    return unit.path if unit is not None and unit.path else None


def scope_for(user, queryset, *, unit_paths: str | tuple[str, ...], own: str | None = None):
    """Narrow ``queryset`` to the rows ``user`` may read (SPEC §3).

    admin, hr, auditor: everything. manager: rows whose org unit — reached through any of ``unit_paths``,
    e.g. ``"org_unit__path"`` or ``("position__org_unit__path", "employee__org_unit__path")`` — lies in the
    subtree of their own unit (one ``LIKE '/1/5/%'``, no recursion); a manager without a unit sees nothing.
    employee: the rows ``own`` links to them (e.g. ``"employee__user"``), nothing when ``own`` is None.
    Anyone else: nothing.
    """
    role = user_role(user)
    if role in SEE_EVERYTHING:
        return queryset
    if role == Role.MANAGER:
        root = manager_subtree_path(user)
        if root is None:
            return queryset.none()
        paths = (unit_paths,) if isinstance(unit_paths, str) else unit_paths
        condition = Q()
        for path in paths:
            condition |= Q(**{f"{path}__startswith": root})
        return queryset.filter(condition)
    if role == Role.EMPLOYEE and own:
        return queryset.filter(**{own: user})
    return queryset.none()
