"""Spreadsheet import and export of employees (django-import-export): one service for the admin and the API.

``EmployeeResource`` maps columns to fields (the org unit by its code) and saves each row through
``employee_create``/``employee_update`` — the same validation, ledger postings and rules as the API — after the
model's own validation (``full_clean``: formats, unique number and email). ``employee_import`` parses a CSV or XLSX
file and imports it all or nothing: any invalid row rolls the whole file back; a dry run always does. Its report
names each bad row by its number in the file (header = row 1, so the first data row is 2) with its errors in words.
The admin's import page (``ImportExportMixin`` on ``EmployeeAdmin``) drives the same resource.
"""

from dataclasses import dataclass, field

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from import_export import fields, resources, widgets
from import_export.formats.base_formats import CSV, XLSX

from apps.api.models import Employee, OrgUnit
from apps.api.services import employee_create, employee_update
from backend.errors import CoverisError, InvalidInputError

IMPORT_COLUMNS = (
    "employee_number",
    "first_name",
    "last_name",
    "email",
    "org_unit",
    "contracted_weekly_hours",
    "hire_date",
)
FORMATS = {"csv": CSV, "xlsx": XLSX}
MAX_IMPORT_BYTES = 5 * 1024 * 1024


class _CodeWidget(widgets.ForeignKeyWidget):
    """An org unit by its code; an unknown code is a row error in words, not a traceback."""

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return None
        try:
            return super().clean(str(value).strip(), row, **kwargs)
        except OrgUnit.DoesNotExist as exc:
            raise ValueError(f"No org unit with code '{value}'.") from exc


def _refusal_dict(exc: CoverisError) -> dict:
    detail = exc.field_errors if isinstance(exc, InvalidInputError) and exc.field_errors else exc.message
    if isinstance(detail, dict):
        return {
            (key if key in IMPORT_COLUMNS else NON_FIELD_ERRORS): [str(m) for m in (v if isinstance(v, list) else [v])]
            for key, v in detail.items()
        }
    return {NON_FIELD_ERRORS: [str(m) for m in (detail if isinstance(detail, list) else [detail])]}


class EmployeeResource(resources.ModelResource):
    """Employees by employee_number: new numbers are created, known ones updated (never the state)."""

    org_unit = fields.Field(
        attribute="org_unit", column_name="org_unit", widget=_CodeWidget(OrgUnit, field="code"), saves_null_values=False
    )
    state = fields.Field(attribute="state", column_name="state", readonly=True)

    class Meta:
        model = Employee
        fields = (*IMPORT_COLUMNS, "state", "termination_date")
        export_order = (*IMPORT_COLUMNS, "state", "termination_date")
        import_id_fields = ("employee_number",)
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        use_transactions = True

    def get_import_fields(self):
        return [f for f in super().get_import_fields() if f.column_name in IMPORT_COLUMNS]

    def import_data(self, dataset, **kwargs):
        kwargs["use_transactions"] = True  # all or nothing per file, whoever calls
        kwargs["rollback_on_validation_errors"] = True
        return super().import_data(dataset, **kwargs)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        """The model's validation (formats, unique number and email) beside the columns' own errors — never of the
        state: ``full_clean`` sets every field it cleans, and the FSM-protected state refuses to be set."""
        errors = dict(import_validation_errors or {})
        try:
            instance.full_clean(exclude=[*errors, "state"], validate_unique=validate_unique)
        except DjangoValidationError as exc:
            errors = exc.update_error_dict(errors)
        if errors:
            raise DjangoValidationError(errors)

    def save_instance(self, instance, is_create, row, **kwargs):
        data = {name: getattr(instance, name) for name in IMPORT_COLUMNS}
        data["email"] = (data["email"] or "").lower()
        try:
            if is_create:
                saved = employee_create(**data)
            else:
                saved = employee_update(employee=instance, actor=kwargs.get("user"), **data)
        except CoverisError as exc:  # the service refused: the row's error, in its words
            raise DjangoValidationError(_refusal_dict(exc)) from exc
        instance.pk = saved.pk


@dataclass
class RowProblem:
    row: int  # in the file, header = 1
    errors: dict[str, list[str]]

    def messages(self) -> list[str]:
        return [
            text if column == NON_FIELD_ERRORS else f"{column}: {text}"
            for column, texts in self.errors.items()
            for text in texts
        ]


@dataclass
class ImportReport:
    dry_run: bool
    committed: bool
    totals: dict[str, int]
    problems: list[RowProblem] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "committed": self.committed,
            "totals": self.totals,
            "errors": [{"row": p.row, "errors": p.errors} for p in self.problems],
        }


def read_dataset(*, content: bytes, file_name: str):
    """The file as a tablib Dataset, by its extension (csv or xlsx); a ValueError says what is wrong."""
    extension = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if extension not in FORMATS:
        raise ValueError(f"Unsupported file type '{extension or file_name}': send a .csv or .xlsx file.")
    if len(content) > MAX_IMPORT_BYTES:
        raise ValueError(f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB.")
    fmt = FORMATS[extension]()
    try:
        data = content.decode("utf-8-sig") if not fmt.is_binary() else content
        return fmt.create_dataset(data)
    except (UnicodeDecodeError, ValueError, KeyError, IndexError, TypeError, OSError) as exc:
        raise ValueError(f"The file could not be read as {extension.upper()}: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - openpyxl/tablib raise their own kinds on a corrupt file
        raise ValueError(f"The file could not be read as {extension.upper()}.") from exc


def _problems(result) -> list[RowProblem]:
    problems = [
        RowProblem(row=invalid.number + 1, errors={k: [str(m) for m in v] for k, v in invalid.error_dict.items()})
        for invalid in result.invalid_rows
    ]
    for number, errors in result.row_errors():
        problems.append(RowProblem(row=number + 1, errors={NON_FIELD_ERRORS: [str(e.error) for e in errors]}))
    for error in result.base_errors:
        problems.append(RowProblem(row=0, errors={NON_FIELD_ERRORS: [str(error.error)]}))
    return sorted(problems, key=lambda p: p.row)


def employee_import(*, content: bytes, file_name: str, actor, dry_run: bool) -> ImportReport:
    """Import employees from a CSV/XLSX file through the services, all or nothing; a dry run writes nothing."""
    dataset = read_dataset(content=content, file_name=file_name)
    missing = [c for c in ("employee_number",) if c not in (dataset.headers or [])]
    if missing:
        raise ValueError(f"Missing column(s): {', '.join(missing)}. Expected: {', '.join(IMPORT_COLUMNS)}.")
    with transaction.atomic():
        result = EmployeeResource().import_data(dataset, dry_run=dry_run, raise_errors=False, user=actor)
        problems = _problems(result)
        committed = not dry_run and not problems
        if not committed:
            transaction.set_rollback(True)
    totals = {key: count for key, count in result.totals.items() if count}
    return ImportReport(dry_run=dry_run, committed=committed, totals=totals, problems=problems)
