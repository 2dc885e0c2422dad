"""Large imports on the job queue: above COVERIS_IMPORT_QUEUE_ROWS the API answers 202 with a job to poll, which runs
the same all-or-nothing import as the request would (inline in tests; a real procrastinate worker on PostgreSQL)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.api import jobs
from apps.api.imports import PositionResource
from apps.api.models import ImportJob, Position
from apps.tags.models import EmployeeTag, TagChangeLog
from apps.tags.tests.factories import TagCatalogFactory

pytestmark = pytest.mark.django_db

POSITIONS = "/api/positions/import/"
HEADER = "code,title,org_unit,standard_weekly_hours,is_active\n"


def _positions(*rows: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("positions.csv", (HEADER + "".join(f"{r}\n" for r in rows)).encode())


def _rows(n: int, start: int = 0) -> list[str]:
    return [f"Q-{i},Post {i},SALES,40,true" for i in range(start, start + n)]


@override_settings(COVERIS_IMPORT_QUEUE_ROWS=2)
def test_a_large_file_answers_202_with_a_job_that_imports_it(auth_client, world, django_capture_on_commit_callbacks):
    client, hr = auth_client("hr")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(POSITIONS, {"file": _positions(*_rows(3))}, format="multipart")
    assert response.status_code == 202, response.content
    job = response.json()
    assert (job["status"], job["rows"], job["kind"], job["created_by"]) == ("queued", 3, "positions", hr.email)
    assert response["Location"] == f"/api/import-jobs/{job['id']}/"

    done = client.get(response["Location"]).json()
    assert (done["status"], done["committed"], done["totals"], done["errors"]) == ("done", True, {"new": 3}, [])
    assert Position.objects.filter(code__startswith="Q-").count() == 3
    assert ImportJob.objects.get(pk=job["id"]).content == b""  # the file is not kept once run
    assert [j["id"] for j in client.get("/api/import-jobs/").json()["results"]] == [job["id"]]


@override_settings(COVERIS_IMPORT_QUEUE_ROWS=2)
def test_a_job_with_a_bad_row_reports_it_and_writes_nothing(auth_client, world, django_capture_on_commit_callbacks):
    client, _ = auth_client("hr")
    rows = [*_rows(2), "Q-9,Bad,NOPE,40,true"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(POSITIONS, {"file": _positions(*rows), "dry_run": False}, format="multipart")
    body = client.get(response["Location"]).json()
    assert (body["status"], body["committed"]) == ("done", False)
    assert body["errors"] == [{"row": 4, "errors": {"org_unit": ["No org unit with code 'NOPE'."]}}]
    assert not Position.objects.filter(code__startswith="Q-").exists()


@override_settings(COVERIS_IMPORT_QUEUE_ROWS=2)
def test_a_large_bad_file_is_still_refused_during_the_request(auth_client, world):
    client, _ = auth_client("hr")
    upload = SimpleUploadedFile("p.csv", b"title\n" + b"x\n" * 5)
    response = client.post(POSITIONS, {"file": upload}, format="multipart")
    assert response.status_code == 400
    assert "Missing column(s): code" in response.json()["error"]["details"]["file"][0]
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(("role", "status"), [("auditor", 403), ("employee", 403), ("manager", 403), ("admin", 200)])
def test_import_jobs_are_read_by_those_who_may_import(auth_client, world, role, status):
    job = ImportJob.objects.create(resource="apps.api.imports.PositionResource", file_name="p.csv", rows=3)
    client, _ = auth_client(role)
    assert client.get(f"/api/import-jobs/{job.pk}/").status_code == status


def test_a_job_that_fails_as_a_whole_says_why_and_is_not_run_twice(world, make_user):
    job = ImportJob.objects.create(resource="apps.api.imports.Nothing", file_name="p.csv", content=b"x", rows=1)
    assert jobs.import_job_run(job_id=job.pk) == "failed"
    job.refresh_from_db()
    assert job.status == "failed"
    assert "Nothing" in job.error
    assert jobs.import_job_run(job_id=job.pk) is None  # only a queued job is claimed


def test_without_a_queue_the_job_runs_in_a_thread_of_this_process(monkeypatch, settings):
    settings.COVERIS_JOBS = "thread"
    started = []
    monkeypatch.setattr(jobs, "run_in_thread", lambda name, target, **kw: started.append((name, target, kw)))
    jobs.import_job_enqueue(7)
    assert started == [("import-7", jobs.import_job_run, {"job_id": 7})]


def test_the_job_names_its_resource_by_path(world, make_user):
    job = jobs.import_job_create(
        resource_class=PositionResource, content=b"", file_name="p.csv", rows=0, actor=make_user("hr"), dry_run=True
    )
    assert job.resource == "apps.api.imports.PositionResource"


@pytest.mark.postgres
@override_settings(COVERIS_JOBS="queue", COVERIS_IMPORT_QUEUE_ROWS=2)
def test_a_large_import_is_run_by_a_real_worker_as_the_user_who_sent_it(auth_client, world, job_queue):
    TagCatalogFactory(code="WELD")
    client, hr = auth_client("hr")
    rows = "employee_number,tag,level,valid_from,valid_until\n" + "".join(
        f"{number},WELD,2,2026-0{month}-01,\n" for month in (1, 2) for number in ("E-CHILD", "E-GRAND")
    )
    upload = SimpleUploadedFile("tags.csv", rows.encode())
    response = client.post("/api/employee-tags/import/", {"file": upload}, format="multipart")
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT task_name, status, (args->>'job_id')::int FROM procrastinate_jobs ORDER BY id")
        assert cursor.fetchall() == [("api.run_import", "todo", job_id)]
    assert not EmployeeTag.objects.exists()

    job_queue.run_once(queues="imports")
    body = client.get(f"/api/import-jobs/{job_id}/").json()
    assert (body["status"], body["committed"], body["totals"]) == ("done", True, {"new": 4}), body
    assert EmployeeTag.objects.count() == 4
    assert set(TagChangeLog.objects.values_list("action", "actor_id")) == {("add", hr.pk)}
    with connection.cursor() as cursor:  # the change history names the importer too (no request in the worker)
        cursor.execute("SELECT DISTINCT pgh_context->>'user' FROM audit_log_employeetagevent")
        assert cursor.fetchall() == [(str(hr.pk),)]
        cursor.execute("SELECT status FROM procrastinate_jobs WHERE task_name = 'api.run_import'")
        assert cursor.fetchall() == [("succeeded",)]


def test_the_job_list_reads_in_constant_queries(auth_client, world):
    client, hr = auth_client("hr")
    ImportJob.objects.create(resource="apps.api.imports.PositionResource", file_name="a.csv", created_by=hr)
    with CaptureQueriesContext(connection) as one:
        assert len(client.get("/api/import-jobs/").json()["results"]) == 1
    for name in ("b.csv", "c.csv", "d.csv"):
        ImportJob.objects.create(resource="apps.tags.imports.EmployeeTagResource", file_name=name, created_by=hr)
    with CaptureQueriesContext(connection) as four:
        assert len(client.get("/api/import-jobs/").json()["results"]) == 4
    assert len(four) == len(one)


def test_the_admin_lists_import_jobs_with_their_row_errors(client, make_user, world):
    job = ImportJob.objects.create(
        resource="apps.api.imports.PositionResource",
        file_name="big.csv",
        rows=3,
        status="done",
        errors=[{"row": 4, "errors": {"org_unit": ["No org unit with code 'NOPE'."]}}],
    )
    client.force_login(make_user("hr"))
    listing = client.get(reverse("admin:api_importjob_changelist")).content.decode()
    assert "big.csv" in listing
    page = client.get(reverse("admin:api_importjob_change", args=[job.pk])).content.decode()
    assert "row 4: org_unit: No org unit with code &#x27;NOPE&#x27;." in page
