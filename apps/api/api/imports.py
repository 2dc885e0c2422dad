"""``POST …/import/`` on every importable resource, and ``/api/import-jobs/`` for the large ones.

``ImportActionMixin`` adds the action to a viewset that names its ``import_resource``; the roles are the viewset's
own (its ``write_roles``: admin and hr). A file is read and its columns checked during the request (a bad file is
a 400 on ``file``); up to ``COVERIS_IMPORT_QUEUE_ROWS`` rows it is imported there and then (200 with the report, or
400 naming each bad row), above that it becomes an import job (202 with the job, to poll).
"""

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from apps.api.api.serializers import ImportJobSerializer, ImportReportSerializer, ImportRequestSerializer
from apps.api.imports import MAX_IMPORT_BYTES, ImportFileError, import_dataset, read_import
from apps.api.jobs import import_is_large, import_job_create
from apps.api.models import ImportJob
from backend.permissions import WRITE_WORKFORCE


class ImportActionMixin:
    # ``POST …/import/`` (multipart ``file``, ``dry_run``) through ``import_resource``, all or nothing. (A comment,
    # not a docstring: drf-spectacular would describe every operation of the viewset with a mixin's docstring.)

    import_resource = None

    @extend_schema(
        request={"multipart/form-data": ImportRequestSerializer},
        responses={200: ImportReportSerializer, 202: ImportJobSerializer},
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser, FormParser])
    def import_file(self, request):
        """Import a CSV/XLSX file (admin, hr), all or nothing, through the same services as the admin's import page.
        Any bad row: 400 with a "row N" entry per bad row, its errors in words; nothing written. A large file: 202
        with an import job to poll."""
        body = ImportRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload, dry_run = body.validated_data["file"], body.validated_data["dry_run"]
        if upload.size > MAX_IMPORT_BYTES:  # refused before it is read into memory
            raise exceptions.ValidationError({"file": [f"The file is larger than {MAX_IMPORT_BYTES // 2**20} MB."]})
        content = upload.read()
        try:
            dataset = read_import(resource_class=self.import_resource, content=content, file_name=upload.name)
        except ImportFileError as exc:
            raise exceptions.ValidationError({"file": [str(exc)]}) from exc
        if import_is_large(dataset.height):
            job = import_job_create(
                resource_class=self.import_resource,
                content=content,
                file_name=upload.name,
                rows=dataset.height,
                actor=request.user,
                dry_run=dry_run,
            )
            location = reverse("import-job-detail", kwargs={"pk": job.pk})
            return Response(
                ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED, headers={"Location": location}
            )
        report = import_dataset(
            resource_class=self.import_resource, dataset=dataset, actor=request.user, dry_run=dry_run
        )
        if report.problems:  # details stay "field → messages": one key per bad row, e.g. "row 3"
            raise exceptions.ValidationError(
                {
                    "file": [f"{len(report.problems)} row(s) have errors; nothing was imported."],
                    **{f"row {p.row}": p.messages() for p in report.problems},
                }
            )
        return Response(ImportReportSerializer(report.as_dict()).data)


class ImportJobViewSet(viewsets.ReadOnlyModelViewSet):
    """``/api/import-jobs/``: large imports on the job queue, newest first (admin and hr, who may import)."""

    serializer_class = ImportJobSerializer
    filter_backends: list = []
    read_roles = WRITE_WORKFORCE
    write_roles = WRITE_WORKFORCE

    def get_queryset(self):
        return ImportJob.objects.select_related("created_by").defer("content")
