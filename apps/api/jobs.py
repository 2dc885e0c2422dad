"""Large imports on the job queue (ADR 0029): a file above ``COVERIS_IMPORT_QUEUE_ROWS`` rows becomes an
``ImportJob`` that a procrastinate worker runs (``apps.api.tasks.run_import``; ADR 0015's ``COVERIS_JOBS`` decides:
the queue on PostgreSQL, a thread of the web process on SQLite, inline in tests).

The job runs the same ``import_file`` as the API and the admin — all or nothing, through the services — as the user
who sent the file (the actor of the audit rows and of the change history), and stores the report on the job in the
same transaction as the imported rows: a job that says ``done`` with ``committed`` has its rows, and a worker that
dies mid-import leaves nothing half-written (the job stays ``running``; send the file again).
"""

import contextlib
import logging

import pghistory
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.api.imports import import_file, resource_from_path, resource_path
from apps.api.models import ImportJob, ImportJobStatus
from backend.jobs import jobs_mode, run_in_thread

logger = logging.getLogger("coveris.imports")


def import_is_large(rows: int) -> bool:
    """Whether a file of ``rows`` data rows goes to the job queue rather than being imported in the request."""
    return rows > settings.COVERIS_IMPORT_QUEUE_ROWS


def import_job_create(*, resource_class, content: bytes, file_name: str, rows: int, actor, dry_run: bool) -> ImportJob:
    """Record a large import and have it run once the job's row is committed."""
    with transaction.atomic():
        job = ImportJob.objects.create(
            resource=resource_path(resource_class),
            file_name=file_name[:255],
            content=content,
            rows=rows,
            dry_run=dry_run,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        transaction.on_commit(lambda: import_job_enqueue(job.pk))
    return job


def import_job_enqueue(job_id: int) -> None:
    """Have import job ``job_id`` run where ``COVERIS_JOBS`` says."""
    mode = jobs_mode()
    if mode == "queue":
        from apps.api.tasks import run_import

        run_import.defer(job_id=job_id)
    elif mode == "inline":
        import_job_run(job_id=job_id)
    else:
        run_in_thread(f"import-{job_id}", import_job_run, job_id=job_id)


def _claim(job_id: int) -> ImportJob | None:
    with transaction.atomic():
        job = (
            ImportJob.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("created_by")
            .filter(pk=job_id, status=ImportJobStatus.QUEUED)
            .first()
        )
        if job is None:  # already taken by another worker, or run
            return None
        job.status, job.started_at = ImportJobStatus.RUNNING, timezone.now()
        job.save(update_fields=["status", "started_at"])
    return job


def _history_context(job: ImportJob):
    """The change history's actor for the rows the job writes (the request's middleware is not there)."""
    if connection.vendor != "postgresql":
        return contextlib.nullcontext()
    return pghistory.context(user=job.created_by_id, import_job=job.pk)


def import_job_run(*, job_id: int) -> str | None:
    """The job: import the file and store the report with the rows. Returns the final status (None: not ours)."""
    job = _claim(job_id)
    if job is None:
        return None
    try:
        with transaction.atomic(), _history_context(job):
            report = import_file(
                resource_class=resource_from_path(job.resource),
                content=bytes(job.content),
                file_name=job.file_name,
                actor=job.created_by,
                dry_run=job.dry_run,
            )
            body = report.as_dict()
            ImportJob.objects.filter(pk=job_id).update(
                status=ImportJobStatus.DONE,
                committed=report.committed,
                totals=body["totals"],
                errors=body["errors"],
                content=b"",
                finished_at=timezone.now(),
            )
    except Exception as exc:  # a failed job says why; it is never left running by an error
        logger.exception("import job %s failed", job_id)
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJobStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            content=b"",
            finished_at=timezone.now(),
        )
        return ImportJobStatus.FAILED
    return ImportJobStatus.DONE
