"""The import graph keeps its shape: ``backend`` is plumbing every app may depend on, so it depends on no domain app
(the audit machinery in ``backend/audit`` included); and the rules engine does not import the state machines that
ask it (no app-level cycle between ``apps/business_rules`` and ``apps/fsm``)."""

import ast
from pathlib import Path

import backend

BACKEND = Path(backend.__file__).parent
APPS = BACKEND.parent / "apps"

# What backend's authentication may know of the users app (the custom user model's helpers, as it would know
# django.contrib.auth). Nothing else of any domain app; the list may shrink, never grow.
BACKEND_MAY_IMPORT = {"apps.users.choices", "apps.users.emails", "apps.users.snapshots"}


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def code_files(root: Path):
    """The application code under ``root``: tests, which may import anything, left out."""
    return (path for path in root.rglob("*.py") if "tests" not in path.parts)


def test_backend_imports_no_domain_app():
    offenders = {
        (str(path.relative_to(BACKEND)), module)
        for path in code_files(BACKEND)
        for module in imported_modules(path)
        if module.startswith("apps.") and module not in BACKEND_MAY_IMPORT
    }
    assert offenders == set()


def test_the_audit_machinery_imports_no_app_at_all():
    offenders = {
        (str(path.relative_to(BACKEND)), module)
        for path in code_files(BACKEND / "audit")
        for module in imported_modules(path)
        if module.startswith("apps.")
    }
    assert offenders == set()


def test_no_app_takes_the_audit_machinery_from_elsewhere():
    offenders = {
        str(path.relative_to(APPS))
        for path in APPS.rglob("*.py")
        for module in imported_modules(path)
        if module.split(".")[:2] in (["apps", "audit_core"], ["apps", "fsm"]) and module.endswith((".db", ".chain"))
    }
    assert offenders == set()


def app_edges() -> dict[tuple[str, str], set[str]]:
    """``(app, other app) → {"path: module", ...}`` for every import of one app's code from another's."""
    edges: dict[tuple[str, str], set[str]] = {}
    for path in code_files(APPS):
        if "migrations" in path.parts:
            continue
        app = path.relative_to(APPS).parts[0]
        for module in imported_modules(path):
            parts = module.split(".")
            if parts[0] == "apps" and len(parts) > 1 and parts[1] != app:
                edges.setdefault((app, parts[1]), set()).add(f"{path.relative_to(APPS)}: {module}")
    return edges


def test_the_rules_engine_does_not_import_the_state_machine():
    # apps/fsm asks the rules engine before a transition; the engine imports nothing of it back (the employee's
    # states and transition names live with the employee, in apps.api.choices).
    edges = app_edges()
    assert ("fsm", "business_rules") in edges  # the allowed direction is really there: the check looks at the right
    assert edges.get(("business_rules", "fsm"), set()) == set()


def test_the_import_check_sees_function_level_imports(tmp_path):
    # The checks above would be blind to lazy imports if this failed.
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from apps.fsm.choices import EmployeeState\n")
    assert imported_modules(module) == {"apps.fsm.choices"}
