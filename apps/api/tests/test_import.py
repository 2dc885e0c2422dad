"""Employee import from CSV/XLSX: one service for the API and the admin, all or nothing, errors per row in words."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.api.imports import EmployeeResource, import_file
from apps.api.models import Employee
from apps.api.tests.conftest import EMPLOYEES_URL

pytestmark = pytest.mark.django_db
IMPORT_URL = f"{EMPLOYEES_URL}import/"
HEADER = "employee_number,first_name,last_name,email,org_unit,contracted_weekly_hours,hire_date\n"


def _csv(*rows: str) -> bytes:
    return (HEADER + "".join(f"{row}\n" for row in rows)).encode()


def _upload(content: bytes, name: str = "people.csv"):
    return SimpleUploadedFile(name, content, content_type="text/csv")


def _good(n: int) -> str:
    return f"N-{n},Ada{n},Byron,ada{n}@example.com,SALES,40,2026-03-02"


def test_a_bad_row_is_named_with_its_errors_and_nothing_is_written(auth_client, world):
    client, _ = auth_client("hr")
    content = _csv(_good(1), "N-2,Bob,Lee,not-an-email,NOPE,40,2026-02-30", _good(3))
    for dry_run in (True, False):
        response = client.post(IMPORT_URL, {"file": _upload(content), "dry_run": dry_run}, format="multipart")
        assert response.status_code == 400, response.content
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert error["details"]["file"] == ["1 row(s) have errors; nothing was imported."]
        messages = " ".join(error["details"]["row 3"])
        assert "email" in messages
        assert "No org unit with code 'NOPE'" in messages
        assert not Employee.objects.filter(employee_number__startswith="N-").exists()


def test_dry_run_then_import_creates_and_updates_through_the_service(auth_client, world):
    client, hr = auth_client("hr")
    content = _csv(_good(1), _good(2))
    response = client.post(IMPORT_URL, {"file": _upload(content), "dry_run": True}, format="multipart")
    assert response.status_code == 200, response.content
    assert response.json() == {"dry_run": True, "committed": False, "totals": {"new": 2}, "errors": []}
    assert not Employee.objects.filter(employee_number__startswith="N-").exists()

    response = client.post(IMPORT_URL, {"file": _upload(content)}, format="multipart")
    assert response.json()["committed"] is True
    created = Employee.objects.get(employee_number="N-1")
    assert (created.state, created.org_unit, created.email) == ("pending", world.child, "ada1@example.com")

    changed = _csv(_good(1).replace(",40,", ",30,"), _good(2))
    response = client.post(IMPORT_URL, {"file": _upload(changed)}, format="multipart")
    assert response.json()["totals"] == {"update": 1, "skip": 1}
    assert Employee.objects.get(employee_number="N-1").contracted_weekly_hours == 30


def test_xlsx_is_read_like_csv(hr_user, world):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(","))
    sheet.append(["N-9", "Xl", "Sx", "xl@example.com", "SALES", 20, "2026-04-01"])
    buffer = io.BytesIO()
    book.save(buffer)
    report = import_file(
        resource_class=EmployeeResource,
        content=buffer.getvalue(),
        file_name="people.xlsx",
        actor=hr_user,
        dry_run=False,
    )
    assert (report.committed, report.totals) == (True, {"new": 1})
    assert Employee.objects.get(employee_number="N-9").contracted_weekly_hours == 20


@pytest.fixture
def hr_user(make_user):
    return make_user("hr")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("people.txt", b"x", "send a .csv or .xlsx file"),
        ("people.xlsx", b"not a workbook", "could not be read as XLSX"),
        ("people.csv", b"first_name\nAda\n", "Missing column(s): employee_number"),
        ("people.csv", b"\xff\xfe\x00", "could not be read as CSV"),
    ],
)
def test_unreadable_files_are_400s_in_words(auth_client, world, name, content, message):
    client, _ = auth_client("hr")
    response = client.post(IMPORT_URL, {"file": _upload(content, name)}, format="multipart")
    assert response.status_code == 400, response.content
    assert message in " ".join(response.json()["error"]["details"]["file"])


@pytest.mark.parametrize(("role", "status"), [("employee", 403), ("auditor", 403), ("manager", 403), ("admin", 200)])
def test_only_workforce_writers_may_import(auth_client, world, role, status):
    client, _ = auth_client(role)
    response = client.post(IMPORT_URL, {"file": _upload(_csv(_good(5))), "dry_run": True}, format="multipart")
    assert response.status_code == status


def test_the_admin_import_page_previews_row_errors_then_imports(client, make_user, world):
    client.force_login(make_user("hr"))
    url = reverse("admin:api_employee_import")
    bad = _csv(_good(1), "N-2,Bob,Lee,not-an-email,SALES,40,2026-03-02")
    page = client.post(url, {"import_file": _upload(bad), "format": "0", "resource": "0"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Enter a valid email address" in html
    assert "confirm_form" not in page.context or page.context.get("confirm_form") is None
    assert not Employee.objects.filter(employee_number__startswith="N-").exists()

    good = _csv(_good(1), _good(2))
    page = client.post(url, {"import_file": _upload(good), "format": "0", "resource": "0"})
    confirm = page.context["confirm_form"]
    response = client.post(reverse("admin:api_employee_process_import"), {**confirm.initial, "resource": "0"})
    assert response.status_code == 302, response.content[:2000]
    assert Employee.objects.filter(employee_number__startswith="N-").count() == 2


def test_the_admin_exports_employees_with_org_unit_codes(client, make_user, world):
    client.force_login(make_user("hr"))
    response = client.post(
        reverse("admin:api_employee_export"),
        {
            "format": "0",
            "resource": "0",
            **{f"employeeresource_{f}": "on" for f in ("employee_number", "email", "org_unit", "state")},
        },
    )
    assert response.status_code == 200, response.content[:1500]
    text = response.content.decode()
    assert "E-CHILD" in text
    assert "SALES" in text
