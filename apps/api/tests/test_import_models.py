"""Imports beyond employees — positions, coverage requirements, the tag catalogue, employee tags — through the one
generic service: all or nothing, rows through the services, errors per row and column in words, bad files 400."""

import datetime
import io
from dataclasses import dataclass
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.api.models import Position
from apps.demand.models import CoverageRequirement
from apps.demand.tests.factories import CoverageRequirementFactory
from apps.tags.models import EmployeeTag, TagCatalog, TagChangeLog
from apps.tags.tests.factories import EmployeeTagFactory, TagCatalogFactory

pytestmark = pytest.mark.django_db


@dataclass
class Case:
    url: str
    header: str
    good: list[str]
    bad: str
    messages: list[str]  # each in the bad row's errors, "column: words"
    written: object  # () -> the rows the good lines create


CASES = {
    "positions": Case(
        url="/api/positions/import/",
        header="code,title,org_unit,standard_weekly_hours,is_active",
        good=["P-1,Picker,SALES,38.5,true", "P-2,Packer,SALES-N,20,yes"],
        bad="P-3,Loader,NOPE,200,maybe",
        messages=[
            "org_unit: No org unit with code 'NOPE'.",
            "is_active: 'maybe' is not true or false",
            "standard_weekly_hours: Must be more than 0 and at most 168.",
        ],
        written=lambda: Position.objects.filter(code__startswith="P-"),
    ),
    "coverage requirements": Case(
        url="/api/coverage-requirements/import/",
        header="position,valid_from,valid_to,required_headcount,required_weekly_hours,priority,notes",
        good=["SELLER,2026-03-02,,2,80,1,Spring", "SELLER,2026-06-01,2026-08-30,1,40,3,"],
        bad="NOPE,2026-03-02,2026-03-01,2.5,40,9,",
        messages=[
            "position: No position with code 'NOPE'.",
            "required_headcount: '2.5' is not a whole number.",
            "priority: Must be from 1 (highest) to 5 (lowest).",
            "valid_to: Must be on or after valid_from.",
        ],
        written=lambda: CoverageRequirement.objects.all(),
    ),
    "tags": Case(
        url="/api/tags/import/",
        header="code,name,category,is_active",
        good=["FORK,Forklift licence,certification,true", "FR,French,language,1"],
        bad="SPANISH,Spanish,colour,1",
        messages=["category: Value 'colour' is not a valid choice."],
        written=lambda: TagCatalog.objects.filter(code__in=["FORK", "FR"]),
    ),
    "employee tags": Case(
        url="/api/employee-tags/import/",
        header="employee_number,tag,level,valid_from,valid_until",
        good=["E-CHILD,WELD,2,2026-01-01,", "E-GRAND,WELD,1,2026-02-01,2026-12-31"],
        bad="E-NOPE,WELD,11,2026-01-01,2025-01-01",
        messages=[
            "employee_number: No employee with number 'E-NOPE'.",
            "level: Must be a whole number from 1 to 10.",
            "valid_until: Must be on or after valid_from.",
        ],
        written=lambda: EmployeeTag.objects.filter(tag__code="WELD"),
    ),
}


@pytest.fixture
def catalogue(world):
    return TagCatalogFactory(code="WELD", name="Welding")


def _file(case: Case, *rows: str, name: str = "rows.csv") -> SimpleUploadedFile:
    content = "\n".join([case.header, *rows]) + "\n"
    return SimpleUploadedFile(name, content.encode(), content_type="text/csv")


def _post(client, url, upload, **data):
    return client.post(url, {"file": upload, **data}, format="multipart")


@pytest.mark.parametrize("name", CASES)
def test_dry_run_previews_then_the_import_writes_every_row(auth_client, catalogue, name):
    case = CASES[name]
    client, _ = auth_client("hr")
    before = case.written().count()
    response = _post(client, case.url, _file(case, *case.good), dry_run=True)
    assert response.status_code == 200, response.content
    assert response.json() == {"dry_run": True, "committed": False, "totals": {"new": 2}, "errors": []}
    assert case.written().count() == before

    response = _post(client, case.url, _file(case, *case.good))
    assert response.json()["committed"] is True, response.content
    assert case.written().count() == before + 2
    again = _post(client, case.url, _file(case, *case.good))  # the same file again changes nothing
    assert again.json()["totals"] == {"skip": 2}


@pytest.mark.parametrize("name", CASES)
def test_a_bad_row_is_named_by_row_and_column_in_words_and_nothing_is_written(auth_client, catalogue, name):
    case = CASES[name]
    client, _ = auth_client("hr")
    before = case.written().count()
    for dry_run in (True, False):
        response = _post(client, case.url, _file(case, case.good[0], case.bad, case.good[1]), dry_run=dry_run)
        assert response.status_code == 400, response.content
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert error["details"]["file"] == ["1 row(s) have errors; nothing was imported."]
        assert set(error["details"]) == {"file", "row 3"}
        text = " | ".join(error["details"]["row 3"])
        for message in case.messages:
            assert message in text, text
        assert " id " not in text  # people's identifiers, never database ids
        assert "pk" not in text
        assert case.written().count() == before


BAD_FILES = [
    ("rows.txt", None, "send a .csv or .xlsx file"),
    ("rows.xlsx", b"not a workbook", "could not be read as XLSX"),
    ("rows.csv", b"\xff\xfe\x00", "could not be read as CSV"),
    ("rows.csv", b"title\nNo key\n", "Missing column(s): "),
    ("rows.csv", "extra", "Unknown column(s): colour"),
]


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize(("file_name", "content", "message"), BAD_FILES)
def test_a_bad_file_is_a_400_on_file_in_words(auth_client, catalogue, name, file_name, content, message):
    case = CASES[name]
    client, _ = auth_client("hr")
    if content is None:
        content = f"{case.header}\n{case.good[0]}\n".encode()
    elif content == "extra":
        content = f"{case.header},colour\n{case.good[0]},red\n".encode()
    before = case.written().count()
    response = _post(client, case.url, SimpleUploadedFile(file_name, content))
    assert response.status_code == 400, response.content
    assert list(response.json()["error"]["details"]) == ["file"]
    assert message in " ".join(response.json()["error"]["details"]["file"])
    assert case.written().count() == before


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(auth_client, catalogue, monkeypatch):
    case = CASES["positions"]
    client, _ = auth_client("hr")
    monkeypatch.setattr("apps.api.api.imports.MAX_IMPORT_BYTES", 64)
    response = _post(client, case.url, _file(case, *case.good * 3))
    assert response.status_code == 400
    assert "larger than" in response.json()["error"]["details"]["file"][0]
    assert not case.written().exists()


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize(("role", "status"), [("auditor", 403), ("employee", 403), ("manager", 403), ("admin", 200)])
def test_only_the_roles_that_write_the_model_may_import(auth_client, catalogue, name, role, status):
    case = CASES[name]
    client, _ = auth_client(role)
    response = _post(client, case.url, _file(case, *case.good), dry_run=True)
    assert response.status_code == status, response.content
    if status == 403:
        assert response.json()["error"]["code"] == "permission_denied"


# --- through the services ------------------------------------------------------------------------------------------


def test_imported_employee_tags_are_logged_with_the_importer_as_actor(auth_client, catalogue, world):
    client, hr = auth_client("hr")
    EmployeeTagFactory(employee=world.employee, tag=catalogue, level=1, valid_from="2026-01-01")
    case = CASES["employee tags"]
    # A known (employee, tag, valid_from) changes its level; a new one is added.
    response = _post(client, case.url, _file(case, "E-CHILD,WELD,4,2026-01-01,", "E-GRAND,WELD,1,2026-02-01,"))
    assert response.json()["totals"] == {"new": 1, "update": 1}, response.content
    assert EmployeeTag.objects.get(employee=world.employee, tag=catalogue).level == 4
    logs = TagChangeLog.objects.filter(tag=catalogue).order_by("id")
    assert [(log.action, log.employee.employee_number, log.actor_id) for log in logs] == [
        ("change", "E-CHILD", hr.pk),
        ("add", "E-GRAND", hr.pk),
    ]
    assert logs[0].before["level"] == 1
    assert logs[0].after["level"] == 4


def test_the_services_refusal_is_the_rows_error_in_its_words(auth_client, world):
    TagCatalogFactory(code="OLD", is_active=False)
    client, _ = auth_client("hr")
    case = CASES["employee tags"]
    response = _post(client, case.url, _file(case, "E-CHILD,OLD,1,2026-01-01,"))
    assert response.status_code == 400
    assert response.json()["error"]["details"]["row 2"] == ["tag: Tag 'OLD' is inactive and cannot be newly assigned."]
    assert not TagChangeLog.objects.exists()


def test_a_requirement_is_found_by_position_code_and_start(auth_client, world):
    kept = CoverageRequirementFactory(
        position=world.position, valid_from="2026-03-02", required_headcount=1, required_weekly_hours=40
    )
    client, _ = auth_client("hr")
    case = CASES["coverage requirements"]
    response = _post(client, case.url, _file(case, "SELLER,2026-03-02,,3,120,2,More"))
    assert response.json()["totals"] == {"update": 1}, response.content
    kept.refresh_from_db()
    assert (kept.required_headcount, kept.required_weekly_hours, kept.priority) == (3, Decimal(120), 2)
    CoverageRequirementFactory(position=world.position, valid_from="2026-03-02")  # now two share the key
    response = _post(client, case.url, _file(case, "SELLER,2026-03-02,,4,120,2,"))
    assert "More than one existing row has position 'SELLER', valid_from '2026-03-02'" in " ".join(
        response.json()["error"]["details"]["row 2"]
    )


def test_a_partial_file_updates_only_its_columns(auth_client, world):
    client, _ = auth_client("hr")
    upload = SimpleUploadedFile("p.csv", b"code,title\nSELLER,Senior seller\n")
    response = _post(client, "/api/positions/import/", upload)
    assert response.json()["totals"] == {"update": 1}, response.content
    world.position.refresh_from_db()
    assert (world.position.title, world.position.org_unit) == ("Senior seller", world.child)


# --- the admin ------------------------------------------------------------------------------------------------------

ADMIN = {
    "positions": ("api_position", "positionresource", ["code", "org_unit"], ["SELLER", "SALES"]),
    "coverage requirements": ("demand_coveragerequirement", "coveragerequirementresource", ["position"], ["SELLER"]),
    "tags": ("tags_tagcatalog", "tagcatalogresource", ["code", "category"], ["WELD", "skill"]),
    "employee tags": ("tags_employeetag", "employeetagresource", ["employee", "tag"], ["E-CHILD", "WELD"]),
}


@pytest.mark.parametrize("name", CASES)
def test_the_admin_exports_with_human_identifiers_and_the_export_imports_back(
    client, auth_client, world, catalogue, name
):
    admin_name, prefix, fields, expected = ADMIN[name]
    CoverageRequirementFactory(position=world.position)
    EmployeeTagFactory(employee=world.employee, tag=catalogue)
    api, hr = auth_client("hr")
    client.force_login(hr)
    selected = {f"{prefix}_{f}": "on" for f in [*CASES[name].header.split(","), *fields]}
    response = client.post(reverse(f"admin:{admin_name}_export"), {"format": "0", "resource": "0", **selected})
    assert response.status_code == 200, response.content[:1500]
    text = response.content.decode()
    for value in expected:
        assert value in text
    assert "id" not in text.splitlines()[0].split(",")
    # What was exported imports back unchanged (every row skipped): the export's columns are the import's.
    back = _post(api, CASES[name].url, SimpleUploadedFile("export.csv", response.content))
    assert back.status_code == 200, back.content
    assert set(back.json()["totals"]) == {"skip"}


def test_the_admin_import_page_previews_row_errors_then_imports_through_the_services(client, make_user, catalogue):
    hr = make_user("hr")
    client.force_login(hr)
    case = CASES["employee tags"]
    url = reverse("admin:tags_employeetag_import")
    page = client.post(url, {"import_file": _file(case, case.good[0], case.bad), "format": "0", "resource": "0"})
    html = page.content.decode()
    assert "No employee with number &#x27;E-NOPE&#x27;." in html or "No employee with number 'E-NOPE'." in html
    assert page.context.get("confirm_form") is None
    assert not EmployeeTag.objects.exists()

    page = client.post(url, {"import_file": _file(case, *case.good), "format": "0", "resource": "0"})
    confirm = page.context["confirm_form"]
    response = client.post(reverse("admin:tags_employeetag_process_import"), {**confirm.initial, "resource": "0"})
    assert response.status_code == 302, response.content[:2000]
    assert EmployeeTag.objects.filter(tag=catalogue).count() == 2
    assert set(TagChangeLog.objects.values_list("action", "actor_id")) == {("add", hr.pk)}


def test_xlsx_cells_keep_their_types_dates_and_whole_numbers(auth_client, world):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(CASES["coverage requirements"].header.split(","))
    sheet.append(["SELLER", datetime.datetime(2026, 3, 2), None, 2.0, 80.5, 1, "From a spreadsheet"])
    sheet.append(["SELLER", datetime.date(2026, 4, 6), None, 2.5, 80, 1, None])
    buffer = io.BytesIO()
    book.save(buffer)
    client, _ = auth_client("hr")
    upload = SimpleUploadedFile("demand.xlsx", buffer.getvalue())
    response = _post(client, "/api/coverage-requirements/import/", upload)
    assert response.status_code == 400
    assert response.json()["error"]["details"]["row 3"] == ["required_headcount: '2.5' is not a whole number."]
    sheet.delete_rows(3)
    buffer = io.BytesIO()
    book.save(buffer)
    response = _post(client, "/api/coverage-requirements/import/", SimpleUploadedFile("demand.xlsx", buffer.getvalue()))
    assert response.json()["totals"] == {"new": 1}, response.content
    requirement = CoverageRequirement.objects.get()
    assert (requirement.valid_from, requirement.required_headcount, requirement.required_weekly_hours) == (
        datetime.date(2026, 3, 2),
        2,
        Decimal("80.50"),
    )
