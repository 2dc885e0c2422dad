"""The plan admin: listed with metrics, its page shows proposals and gaps, and "Apply" goes through the shared
preview/confirm page (``render_preview_confirm``) into ``plan_apply`` — through the admin's views (test client)."""

import re

import pytest

from apps.assignments.models import Assignment, AssignmentTransitionLog
from apps.business_rules.tests.factories import BusinessRuleFactory
from apps.demand.models import Plan, PlanStatus
from apps.demand.tests.test_planning import BODY, URL, contested  # noqa: F401 (fixture)

ADMIN = "/admin/demand/plan/"


@pytest.fixture
def solved(contested, client_for, django_capture_on_commit_callbacks):  # noqa: F811
    """A solved plan of the contested case (ANA on ICU, BEN on DESK), asked for through the API."""
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for("hr").post(URL, BODY, format="json")
    assert response.status_code == 202, response.content
    plan = Plan.objects.get(pk=response.json()["id"])
    assert plan.status == PlanStatus.SOLVED
    return plan


@pytest.fixture
def admin_client(client, make_user):
    def _login(role="hr"):
        user = make_user(role)
        client.force_login(user)
        return client

    return _login


def _index(plan, employee) -> str:
    return str(next(i for i, p in enumerate(plan.results["proposals"]) if p["employee"] == employee.pk))


def _form(plan, **fields) -> dict:
    return {
        "proposals": [str(i) for i in range(len(plan.results["proposals"]))],
        "effective_date": "2027-01-04",
        "reason": "",
        **fields,
    }


def _rows(page) -> dict:
    """Proposal index → the text of its row on the preview page."""
    html = page.content.decode()
    found = re.findall(r'<tr class="cv-row" data-pk="(\d+)">(.*?)</tr>', html, flags=re.S)
    return {int(key): re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)) for key, body in found}


def test_plans_are_listed_with_metrics_and_a_plans_page_shows_proposals_and_gaps(solved, admin_client, contested):  # noqa: F811
    client = admin_client()
    listing = client.get(f"{ADMIN}?status__exact=solved")
    assert listing.status_code == 200
    assert "320.00" in listing.content.decode()  # gap closed
    page = client.get(f"{ADMIN}{solved.pk}/change/").content.decode()
    for text in ("E-ANA", "ICU", "Apply…"):
        assert text in page


@pytest.fixture
def hours60(db):
    """A rule in force before the plan is solved (one added later makes the plan stale)."""
    return BusinessRuleFactory(
        code="HOURS60",
        name="At most 60 h",
        rule_type="assignment_hours_bounds",
        params={"max_hours": 60},
        events=["assignment.create", "assignment.approve"],
    )


def test_the_preview_shows_each_proposal_with_its_rule_results_naming_people_and_positions(
    hours60,
    solved,
    admin_client,
    contested,  # noqa: F811
):
    client = admin_client()
    preview = client.get(f"{ADMIN}{solved.pk}/apply/")
    assert preview.status_code == 200
    assert preview.templates[0].name == "admin/coveris/preview_confirm.html"  # the shared page
    rows = _rows(preview)
    assert sorted(rows) == [0, 1]
    ana = rows[int(_index(solved, contested["ana"]))]
    assert "E-ANA" in ana
    assert "ICU" in ana
    assert "40" in ana
    assert "new → proposed" in ana
    assert "pass HOURS60 — At most 60 h" in ana  # created only: one result per rule
    assert preview.context["can_confirm"] is True, preview.context["notes"]
    assert "New assignment: E-ANA" in ana  # what the write would make (rolled back)
    assert preview.context["can_confirm"] is True
    assert not Assignment.objects.exists()  # the preview writes nothing
    approving = client.post(
        f"{ADMIN}{solved.pk}/apply/", {**_form(solved, approve="on"), "fingerprint": "", "_preview": "1"}
    )
    rows = _rows(approving)
    ana = rows[int(_index(solved, contested["ana"]))]
    assert "new → approved" in ana
    assert "HOURS60 — At most 60 h (on proposal)" in ana
    assert "HOURS60 — At most 60 h (on approval)" in ana
    assert "approve (proposed → approved)" in ana  # the approval's log row, as the write would make it
    assert not Assignment.objects.exists()
    assert not AssignmentTransitionLog.objects.exists()


def test_confirm_applies_exactly_the_previewed_proposals_through_plan_apply(solved, admin_client, contested):  # noqa: F811
    client = admin_client()
    only_ben = _form(solved, proposals=[_index(solved, contested["ben"])], approve="on", reason="Cover January")
    preview = client.post(f"{ADMIN}{solved.pk}/apply/", {**only_ben, "fingerprint": "", "_preview": "1"})
    assert sorted(_rows(preview)) == [int(_index(solved, contested["ben"]))]
    fingerprint = preview.context["fingerprint"]
    done = client.post(f"{ADMIN}{solved.pk}/apply/", {**only_ben, "fingerprint": fingerprint, "_confirm": "1"})
    assert done.status_code == 302
    assert done["Location"] == f"{ADMIN}{solved.pk}/change/"
    made = Assignment.objects.get()
    assert (made.employee, made.position, made.state) == (contested["ben"], contested["desk"], "approved")
    assert (made.start_date, made.end_date) == (solved.period_start, solved.period_end)
    log = AssignmentTransitionLog.objects.get(assignment=made)
    assert log.reason == f"Auto-plan #{solved.pk}: Cover January"
    assert str(log.effective_date) == "2027-01-04"
    solved.refresh_from_db()
    assert solved.status == PlanStatus.APPLIED
    assert solved.results["applied"]["assignments"] == [
        {"proposal": int(_index(solved, contested["ben"])), "assignment": made.pk}
    ]


def test_a_fingerprint_that_is_not_the_previews_applies_nothing(solved, admin_client):
    client = admin_client()
    page = client.post(f"{ADMIN}{solved.pk}/apply/", {**_form(solved), "fingerprint": "0" * 32, "_confirm": "1"})
    assert page.status_code == 200
    assert "Something changed since the preview you saw: nothing was done" in page.content.decode()
    assert not Assignment.objects.exists()
    assert Plan.objects.get(pk=solved.pk).status == PlanStatus.SOLVED
    # Approving was not previewed: the fingerprint of the proposed-only preview does not confirm an approval.
    seen = client.get(f"{ADMIN}{solved.pk}/apply/").context["fingerprint"]
    page = client.post(
        f"{ADMIN}{solved.pk}/apply/", {**_form(solved, approve="on"), "fingerprint": seen, "_confirm": "1"}
    )
    assert page.status_code == 200
    assert not Assignment.objects.exists()


def test_a_stale_plan_shows_what_changed_and_writes_nothing_until_rechecked(
    solved,
    admin_client,
    contested,  # noqa: F811
    make_assignment,
):
    client = admin_client()
    make_assignment(contested["ben"], contested["icu"], state="proposed", hours=8)  # BEN got busier meanwhile
    preview = client.get(f"{ADMIN}{solved.pk}/apply/")
    text = preview.content.decode()
    assert "The data changed since the plan was solved" in text
    assert "E-BEN" in text
    assert "state, assignments, hours ledger or tags changed" in text
    assert preview.context["can_confirm"] is False
    assert 'id="cv-confirm"' not in text
    page = client.post(
        f"{ADMIN}{solved.pk}/apply/", {**_form(solved), "fingerprint": preview.context["fingerprint"], "_confirm": "1"}
    )
    assert page.status_code == 200
    assert Assignment.objects.count() == 1  # only the one made above
    assert Plan.objects.get(pk=solved.pk).status == PlanStatus.SOLVED  # a preview, not an apply: nothing written
    recheck = _form(solved, force_revalidate="on")
    preview = client.post(f"{ADMIN}{solved.pk}/apply/", {**recheck, "fingerprint": "", "_preview": "1"})
    assert preview.context["can_confirm"] is True
    done = client.post(
        f"{ADMIN}{solved.pk}/apply/", {**recheck, "fingerprint": preview.context["fingerprint"], "_confirm": "1"}
    )
    assert done.status_code == 302
    assert Assignment.objects.filter(notes__startswith=f"Auto-plan #{solved.pk}").count() == 2


def test_a_blocking_rule_stops_the_apply_unless_an_admin_overrides_it(solved, admin_client, contested):  # noqa: F811
    BusinessRuleFactory(
        code="SHORT", rule_type="assignment_hours_bounds", params={"max_hours": 30}, events=["assignment.create"]
    )
    client = admin_client("hr")
    recheck = _form(solved, force_revalidate="on")
    preview = client.post(f"{ADMIN}{solved.pk}/apply/", {**recheck, "fingerprint": "", "_preview": "1"})
    assert "block SHORT" in " ".join(_rows(preview).values())
    assert preview.context["can_confirm"] is False
    assert "override_reason" not in preview.context["form"].fields  # hr: no override
    client = admin_client("admin")
    overriding = {**recheck, "override_reason": "Agreed with the works council"}
    preview = client.post(f"{ADMIN}{solved.pk}/apply/", {**overriding, "fingerprint": "", "_preview": "1"})
    assert "overridden SHORT" in " ".join(_rows(preview).values())
    assert preview.context["can_confirm"] is True
    done = client.post(
        f"{ADMIN}{solved.pk}/apply/", {**overriding, "fingerprint": preview.context["fingerprint"], "_confirm": "1"}
    )
    assert done.status_code == 302
    assert Assignment.objects.count() == 2


def test_a_plan_that_is_not_solved_offers_nothing_to_confirm(solved, admin_client):
    Plan.objects.filter(pk=solved.pk).update(status=PlanStatus.FAILED)
    page = admin_client().get(f"{ADMIN}{solved.pk}/apply/")
    assert page.status_code == 200
    assert "Only a solved plan can be applied; this one is failed." in page.content.decode()
    assert page.context["can_confirm"] is False


@pytest.fixture
def short_weeks(db):
    """A warn rule in force before solving: every proposal of the contested plan (40 h) trips it."""
    return BusinessRuleFactory(
        code="SHORTW",
        rule_type="assignment_hours_bounds",
        params={"max_hours": 30},
        severity="warn",
        events=["assignment.create"],
    )


def test_warnings_are_shown_and_need_the_acknowledgement(short_weeks, solved, admin_client):
    client = admin_client()
    preview = client.get(f"{ADMIN}{solved.pk}/apply/")
    rows = _rows(preview)
    assert all("warn SHORTW" in row for row in rows.values())
    assert preview.context["can_confirm"] is False
    refused = client.post(
        f"{ADMIN}{solved.pk}/apply/", {**_form(solved), "fingerprint": preview.context["fingerprint"], "_confirm": "1"}
    )
    assert refused.status_code == 200
    assert not Assignment.objects.exists()
    acknowledged = _form(solved, acknowledge_warnings="on")
    preview = client.post(f"{ADMIN}{solved.pk}/apply/", {**acknowledged, "fingerprint": "", "_preview": "1"})
    assert preview.context["can_confirm"] is True
    done = client.post(
        f"{ADMIN}{solved.pk}/apply/", {**acknowledged, "fingerprint": preview.context["fingerprint"], "_confirm": "1"}
    )
    assert done.status_code == 302
    assert Assignment.objects.filter(state="proposed").count() == 2
