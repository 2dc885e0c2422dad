"""The audit machinery stays neutral: it imports no other app, so every app may depend on it without a cycle."""

import ast
from pathlib import Path

import apps.audit_core

ROOT = Path(apps.audit_core.__file__).parent
APPS_DIR = ROOT.parent


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_audit_core_imports_no_other_app():
    offenders = {
        (str(path.relative_to(ROOT)), module)
        for path in ROOT.rglob("*.py")
        if "tests" not in path.parts
        for module in imported_modules(path)
        if module.startswith("apps.") and not module.startswith("apps.audit_core")
    }
    assert offenders == set()


def test_no_app_takes_the_audit_machinery_from_the_state_machine_app():
    offenders = {
        str(path.relative_to(APPS_DIR))
        for path in APPS_DIR.rglob("*.py")
        if ".venv" not in path.parts
        for module in imported_modules(path)
        if module in {"apps.fsm.db", "apps.fsm.chain"}
    }
    assert offenders == set()
