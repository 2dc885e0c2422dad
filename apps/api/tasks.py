"""Jobs of the api app on the procrastinate queue (ADR 0015, 0029): large spreadsheet imports.

The task body is the import job service; the queue only decides where and when it runs.
"""

from procrastinate.contrib.django import app

from apps.api.jobs import import_job_run

IMPORTS_QUEUE = "imports"


@app.task(queue=IMPORTS_QUEUE, name="api.run_import")
def run_import(job_id: int) -> None:
    """Run one queued import job (a no-op when another worker already took it)."""
    import_job_run(job_id=job_id)
