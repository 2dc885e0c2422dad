"""The HR workspace in a real browser: import with a bad row then fixed, export, the employee's page, a refused
save kept as typed, and list columns that fit the screen (docs/admin.md)."""

import csv
import io
import time

import pytest
from django.contrib.admin.models import ADDITION, LogEntry

from apps.api import admin as api_admin
from apps.api.models import Employee
from apps.api.tests.factories import EmployeeFactory, OrgUnitFactory, PositionFactory
from apps.assignments.services import assignment_transition
from apps.assignments.tests.factories import AssignmentFactory
from apps.fsm.services import employee_transition
from apps.tags.tests.factories import EmployeeTagFactory, TagCatalogFactory
from backend.errors import ConflictError

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
EMPLOYEES = "/admin/api/employee/"
HEADER = "employee_number,first_name,last_name,email,org_unit,contracted_weekly_hours,hire_date\n"


@pytest.fixture
def hr(make_user):
    return make_user("hr")


def _csv(tmp_path, name: str, *rows: str):
    path = tmp_path / name
    path.write_text(HEADER + "".join(f"{row}\n" for row in rows), encoding="utf-8")
    return path


def _upload(browser, path) -> None:
    """The import page: choose the file and the format, Submit (the preview: a dry run)."""
    browser.open(f"{EMPLOYEES}import/")
    browser.find("#id_import_file").send_keys(str(path))
    browser.choose("#id_format", text="csv")
    browser.submit(browser.find('form[enctype="multipart/form-data"] input[type="submit"]'))


@pytest.mark.postgres  # the audit entries are the change history, written by PostgreSQL triggers
def test_hr_imports_employees_after_fixing_the_row_the_preview_named(browser, world, hr, tmp_path):
    browser.signed_in_as(hr)
    browser.open(EMPLOYEES)
    browser.find("a.import_link").click()
    browser.wait_for("#id_import_file")
    count = Employee.objects.count()

    good = "N-1,Mary,Jackson,mary@example.com,SALES,40,2026-03-02"
    _upload(browser, _csv(tmp_path, "people.csv", good, "N-2,Bob,Lee,not-an-email,NOPE,40,2026-03-02"))
    assert "Some rows failed to validate" in browser.text("#content")
    [bad_row] = browser.find_all("table.import-preview tbody tr")
    assert bad_row.find_element("css selector", "td").text.strip() == "2"  # the second data row
    browser.hover(browser.find(".validation-error-count", bad_row))  # its errors show on hover
    errors = browser.wait_for(".validation-error-container").text
    assert "Enter a valid email address." in errors
    assert "No org unit with code 'NOPE'" in errors
    assert not browser.find_all('input[name="confirm"]')  # nothing to confirm while a row is bad
    assert Employee.objects.count() == count

    _upload(browser, _csv(tmp_path, "people-fixed.csv", good, "N-2,Bob,Lee,bob@example.com,SALES,32,2026-03-09"))
    preview = browser.text("table.import-preview")
    assert "Mary" in preview
    assert "bob@example.com" in preview
    assert Employee.objects.count() == count  # the preview is a dry run
    browser.submit(browser.find('input[name="confirm"]'))
    assert browser.path == EMPLOYEES
    [(level, text)] = browser.messages()
    assert level == "success"
    assert "2 new" in text

    imported = Employee.objects.filter(employee_number__in=["N-1", "N-2"]).order_by("employee_number")
    assert [(e.first_name, e.state, e.org_unit.code) for e in imported] == [
        ("Mary", "pending", "SALES"),
        ("Bob", "pending", "SALES"),
    ]
    from apps.audit_log.models import EmployeeEvent

    events = EmployeeEvent.objects.filter(pgh_obj__in=imported, pgh_label="insert")
    assert sorted(e.employee_number for e in events) == ["N-1", "N-2"]
    assert {e.pgh_context["user"] for e in events} == {hr.pk}  # the actor is the HR person
    assert LogEntry.objects.filter(user=hr, action_flag=ADDITION, object_id__in=[e.pk for e in imported]).count() == 2
    browser.assert_no_console_errors()


def test_hr_exports_the_employee_list_as_csv(browser, world, hr):
    browser.signed_in_as(hr)
    browser.open(EMPLOYEES)
    browser.find("a.export_link").click()
    browser.wait_for("#id_format")
    browser.choose("#id_format", text="csv")
    fields = browser.find_all('.selectable-field-export-row input[type="checkbox"]:not(.select-toggle)')
    assert fields
    assert all(field.is_selected() for field in fields)
    browser.find("input.select-toggle").click()  # "Select all" off: its handler runs despite the CSP
    assert not any(field.is_selected() for field in fields)
    for name in ("employee_number", "last_name", "org_unit"):
        browser.find(f'input[name="employeeresource_{name}"]').click()
    browser.find('form input[type="submit"]').click()

    deadline = time.monotonic() + 15
    files = []
    while time.monotonic() < deadline and not files:
        files = [path for path in browser.downloads.iterdir() if path.suffix == ".csv"]
        time.sleep(0.2)
    assert files, "no CSV was downloaded"
    rows = list(csv.DictReader(io.StringIO(files[0].read_text(encoding="utf-8-sig"))))
    assert set(rows[0]) == {"employee_number", "last_name", "org_unit"}  # the columns ticked
    by_number = {row["employee_number"]: row for row in rows}
    assert set(by_number) == set(Employee.objects.values_list("employee_number", flat=True))
    assert by_number["E-CHILD"]["org_unit"] == "SALES"  # org units by code, not by id
    assert by_number["E-CHILD"]["last_name"] == "Lovelace"
    browser.assert_no_console_errors()  # the export page's "Select all" box runs (its handler is allowed by hash)


def test_the_employee_page_shows_state_buttons_and_the_persons_file(browser, world, make_user, hr):
    admin = make_user("admin")
    employee = world.employee
    employee_transition(employee_id=employee.pk, name="activate", actor=admin, reason="First day")
    assignment = AssignmentFactory(employee=employee, position=world.position, weekly_hours=20)
    assignment_transition(assignment_id=assignment.pk, name="approve", actor=admin)
    EmployeeTagFactory(employee=employee, tag=TagCatalogFactory(code="FORKLIFT", name="Forklift licence"))
    browser.signed_in_as(hr)

    browser.open(f"{EMPLOYEES}{employee.pk}/change/")
    assert browser.text("#cv-state") == "State: active"
    buttons = {b.get_attribute("data-transition"): b for b in browser.find_all("a.cv-transition")}
    assert set(buttons) == {"start_leave", "suspend", "terminate"}  # what "active" and HR's role allow
    headings = [h.text for h in browser.find_all(".inline-group h2, .cv-panel h2")]
    for expected in (
        "TRANSITIONS (NEWEST FIRST)",
        "ASSIGNMENTS (LATEST START FIRST)",
        "TAGS WITH VALIDITY (CHANGE THEM ON THEIR OWN PAGE)",
        "WEEKLY HOURS BALANCE",
    ):
        assert expected in [h.upper() for h in headings], headings
    page = browser.text("#content")
    assert "First day" in page  # the transition's reason
    assert "SELLER" in page  # the assignment's position
    assert "FORKLIFT" in page

    browser.submit(buttons["suspend"])
    assert browser.path.startswith(f"{EMPLOYEES}transition/suspend/")
    assert [row.get_attribute("data-pk") for row in browser.find_all(".cv-row")] == [str(employee.pk)]
    browser.find("a.closelink").click()  # Cancel goes back to the person's page, nothing done
    browser.wait_for("#cv-state")
    assert browser.path == f"{EMPLOYEES}{employee.pk}/change/"
    assert Employee.objects.get(pk=employee.pk).state == "active"
    browser.assert_no_console_errors()


def test_a_refused_save_keeps_what_was_typed_with_the_reason_at_the_top(browser, world, hr, monkeypatch):
    def refuse(**kwargs):
        raise ConflictError("Ada Lovelace was changed by someone else meanwhile; check and save again.")

    monkeypatch.setattr(api_admin, "employee_update", refuse)  # the live server runs in this process
    before = Employee.objects.values().get(pk=world.employee.pk)
    browser.signed_in_as(hr)

    browser.open(f"{EMPLOYEES}{world.employee.pk}/change/")
    browser.fill("#id_first_name", "Augusta Ada")
    browser.fill("#id_contracted_weekly_hours", "32.5")
    browser.submit(browser.find('input[name="_save"]'))
    assert browser.path == f"{EMPLOYEES}{world.employee.pk}/change/"
    assert "Please correct the error below." in browser.text(".errornote")
    assert "Not saved: Ada Lovelace was changed by someone else meanwhile" in browser.text(".errorlist.nonfield")
    top = browser.find(".errorlist.nonfield").location["y"]
    assert top < browser.find("#id_first_name").location["y"]  # above the fields
    assert browser.find("#id_first_name").get_attribute("value") == "Augusta Ada"
    assert browser.find("#id_contracted_weekly_hours").get_attribute("value") == "32.5"
    assert Employee.objects.values().get(pk=world.employee.pk) == before
    browser.assert_no_console_errors()


def _column_edges(browser) -> dict:
    """Each result column (its field name) → its right edge in CSS pixels; the right edge of what is visible of the
    list (its scrolling box, left of the filters); the viewport's width and the page's."""
    return browser.driver.execute_script(
        """
        const edges = {};
        for (const th of document.querySelectorAll('#result_list thead th')) {
            const column = (th.className.match(/column-(\\S+)/) || [null, th.className])[1];
            edges[column] = Math.round(th.getBoundingClientRect().right);
        }
        const box = document.querySelector('#changelist .results').getBoundingClientRect();
        return {edges: edges, visible: Math.round(Math.min(box.right, document.documentElement.clientWidth)),
                viewport: document.documentElement.clientWidth, scroll: document.documentElement.scrollWidth};
        """
    )


@pytest.fixture
def realistic_lists(world):
    """Rows with lengths as in the demo data: long names, unit names and position titles."""
    unit = OrgUnitFactory(code="NORTH-WAREHOUSE-02", name="North warehouse, second shift", parent=world.child)
    position = PositionFactory(code="FORKLIFT-NIGHT-A", title="Forklift operator, night shift A", org_unit=unit)
    for n in range(5):
        employee = EmployeeFactory(
            employee_number=f"EMP-2026-{n:05d}",
            first_name="Maximiliane-Josephine",
            last_name="Vandenberghe-Oppenheimer",
            org_unit=unit,
        )
        AssignmentFactory(employee=employee, position=position, weekly_hours=20)


@pytest.mark.parametrize("viewport", [(1280, 800), (1440, 900)], ids=["1280x800", "1440x900"])
@pytest.mark.parametrize(
    ("changelist", "state_column"),
    [("/admin/api/employee/", "state"), ("/admin/assignments/assignment/", "state"), ("/admin/api/position/", None)],
    ids=["employees", "assignments", "positions"],
)
def test_list_columns_fit_the_screen_with_the_state_visible(
    browser, hr, realistic_lists, viewport, changelist, state_column
):
    browser.signed_in_as(hr)
    browser.viewport(*viewport)
    browser.open(changelist)
    measured = _column_edges(browser)
    print(f"{changelist} at {viewport[0]}x{viewport[1]}: {measured}")  # the figures docs/admin.md quotes
    edges = measured["edges"]
    assert viewport[0] - 20 <= measured["viewport"] <= viewport[0]  # less a vertical scroll bar, if any
    if state_column:
        assert edges[state_column] <= measured["visible"], measured
    assert max(edges.values()) <= measured["visible"], measured  # every column in sight, no sideways scrolling
    assert measured["scroll"] <= viewport[0], measured
