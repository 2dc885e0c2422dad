"""Spreadsheet import and export (django-import-export): one generic service for the admin, the API and the job queue.

``ServiceResource`` is the base of every importable model's resource (one per model, each in the app that owns the
model: employees and positions here, coverage requirements in ``apps.demand.imports``, the tag catalogue and
employee tags in ``apps.tags.imports``). A resource names its columns (related rows by their human identifier: an
org unit or position by its code, an employee by their number, a tag by its code), the column(s) that find an
existing row (``import_id_fields``: known → update, new → create), and ``service_save``, which saves one row through
the app's services — the same validation, audit rows and rules as the API — after the model's own validation
(``full_clean``). ``import_file`` parses a CSV or XLSX file and imports it all or nothing: any invalid row rolls the
whole file back; a dry run always does. Its report names each bad row by its number in the file (header = row 1,
so the first data row is 2) with its errors in words, per column. The admin's import pages drive the same resources
(``ImportExportMixin``); large API imports run the same ``import_file`` on the job queue (``apps.api.jobs``).
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import NON_FIELD_ERRORS, MultipleObjectsReturned
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.module_loading import import_string
from import_export import fields, resources, widgets
from import_export.formats.base_formats import CSV, XLSX

from apps.api.models import Employee, OrgUnit, Position
from apps.api.services import employee_create, employee_update, position_create, position_update
from backend.errors import CoverisError, InvalidInputError

FORMATS = {"csv": CSV, "xlsx": XLSX}
MAX_IMPORT_BYTES = 5 * 1024 * 1024
# What a service raises when it refuses a row (its message becomes the row's error, in its words).
SERVICE_ERRORS = (CoverisError,)
_CONSTRAINT = re.compile(r"^Constraint “(?P<name>[^”]+)” is violated\.$")


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (type, size, encoding, columns): nothing is read from it."""


class CodeWidget(widgets.ForeignKeyWidget):
    """A related row by its human identifier (an org unit's code, an employee's number); unknown is a row error in
    words, never a traceback or a database id."""

    def __init__(self, model, field: str, label: str, **kwargs):
        super().__init__(model, field=field, **kwargs)
        self.label = label

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return None
        value = str(value).strip()
        try:
            return super().clean(value, row, **kwargs)
        except self.model.DoesNotExist as exc:
            raise ValueError(f"No {self.label} '{value}'.") from exc


class WholeNumberWidget(widgets.IntegerWidget):
    """An integer column: "2.5" is an error, not silently 2 (a spreadsheet's 2.0 is 2)."""

    def clean(self, value, row=None, **kwargs):
        if self.is_empty(value):
            return None
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise ValueError(f"'{value}' is not a whole number.") from exc
        if not number.is_finite() or number != number.to_integral_value():
            raise ValueError(f"'{value}' is not a whole number.")
        return super().clean(number, row, **kwargs)


class YesNoWidget(widgets.BooleanWidget):
    """A true/false column: anything but the known spellings is an error (the library reads "yes" as false)."""

    TRUE_VALUES = [*widgets.BooleanWidget.TRUE_VALUES, "yes", "Yes", "YES"]
    FALSE_VALUES = [*widgets.BooleanWidget.FALSE_VALUES, "no", "No", "NO"]

    def clean(self, value, row=None, **kwargs):
        value = value.strip() if isinstance(value, str) else value
        if value not in (*self.TRUE_VALUES, *self.FALSE_VALUES, *self.NULL_VALUES):
            raise ValueError(f"'{value}' is not true or false (use true/false, 1/0 or yes/no).")
        return super().clean(value, row, **kwargs)


def code_field(attribute: str, model, field: str, label: str, column: str | None = None) -> fields.Field:
    """A column holding a related row's human identifier (``label``: "org unit with code", ...)."""
    return fields.Field(
        attribute=attribute,
        column_name=column or attribute,
        widget=CodeWidget(model, field=field, label=label),
        saves_null_values=False,
    )


class ServiceResource(resources.ModelResource):
    """Base of every import: rows saved through the services, all or nothing, errors in words per column.

    A subclass sets ``Meta`` (model, fields, ``import_id_fields``), ``import_columns`` (what a file may set; the
    other resource fields are exported only), ``service_save`` and, for the model's check constraints,
    ``constraint_messages`` (constraint name → (column, words): Django's own message names the constraint only).
    """

    import_columns: tuple[str, ...] = ()
    constraint_messages: dict[str, tuple[str, str]] = {}
    validate_exclude: tuple[str, ...] = ()  # model fields full_clean must not touch (e.g. an FSM-protected state)

    WIDGETS_MAP = {
        **resources.ModelResource.WIDGETS_MAP,
        "IntegerField": WholeNumberWidget,
        "PositiveIntegerField": WholeNumberWidget,
        "PositiveSmallIntegerField": WholeNumberWidget,
        "SmallIntegerField": WholeNumberWidget,
        "BigIntegerField": WholeNumberWidget,
        "BooleanField": YesNoWidget,
    }

    class Meta:
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        use_transactions = True

    # --- columns -------------------------------------------------------------------------------------------------

    def get_import_fields(self):
        return [f for f in super().get_import_fields() if f.column_name in self.import_columns]

    def key_columns(self) -> list[str]:
        """The columns that find an existing row; a file without them cannot be imported."""
        return [self.fields[name].column_name for name in self.get_import_id_fields()]

    def known_columns(self) -> set[str]:
        """Every column of an import or an export of this resource (an exported file imports back)."""
        return {f.column_name for f in self.fields.values()}

    def column_of(self, key: str) -> str:
        """The column an error about model field (or attribute) ``key`` belongs to; else the row's own errors."""
        for f in self.fields.values():
            if key in (f.attribute, f.column_name):
                return f.column_name
        return NON_FIELD_ERRORS

    # --- the import workflow -------------------------------------------------------------------------------------

    def import_data(self, dataset, **kwargs):
        kwargs["use_transactions"] = True  # all or nothing per file, whoever calls (admin, API, job)
        kwargs["rollback_on_validation_errors"] = True
        return super().import_data(dataset, **kwargs)

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        try:
            super().import_field(field, instance, row, is_m2m, **kwargs)
        except (ArithmeticError, TypeError) as exc:  # decimal.InvalidOperation and kin: the cell, in words
            raise ValueError(f"'{row.get(field.column_name)}' is not a valid number.") from exc

    def get_instance(self, instance_loader, row):
        try:
            return super().get_instance(instance_loader, row)
        except ValueError:
            return None  # an unknown code in a key column: the column's own error names it (import_instance)
        except MultipleObjectsReturned as exc:
            keys = ", ".join(f"{column} '{row.get(column)}'" for column in self.key_columns())
            raise DjangoValidationError(
                {NON_FIELD_ERRORS: [f"More than one existing row has {keys}: fix them in the admin first."]}
            ) from exc

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        """The model's validation (formats, bounds, uniqueness, check constraints) beside the columns' own errors,
        all keyed by column and in words."""
        errors = dict(import_validation_errors or {})
        try:
            instance.full_clean(exclude=[*errors, *self.validate_exclude], validate_unique=validate_unique)
        except DjangoValidationError as exc:
            errors = exc.update_error_dict(errors)
        if errors:
            raise DjangoValidationError(self._in_words(errors))

    def _in_words(self, errors: dict) -> dict[str, list[str]]:
        words: dict[str, list[str]] = {}
        for key, value in errors.items():
            for message in DjangoValidationError(value).messages:
                column, text = self.column_of(key), message
                match = _CONSTRAINT.match(message)
                if match and match["name"] in self.constraint_messages:
                    column, text = self.constraint_messages[match["name"]]
                words.setdefault(column, []).append(text)
        return words

    def save_instance(self, instance, is_create, row, **kwargs):
        try:
            saved = self.service_save(instance, is_create=is_create, actor=kwargs.get("user"))
        except SERVICE_ERRORS as exc:  # the service refused: the row's error, in its words
            raise DjangoValidationError(self._service_errors(exc)) from exc
        instance.pk = saved.pk

    def service_save(self, instance, *, is_create: bool, actor):
        """Create or update the row ``instance`` holds through the app's services; returns the saved row."""
        raise NotImplementedError

    def _service_errors(self, exc: CoverisError) -> dict[str, list[str]]:
        detail = exc.field_errors if isinstance(exc, InvalidInputError) and exc.field_errors else exc.message
        if isinstance(detail, dict):
            errors: dict[str, list[str]] = {}
            for key, value in detail.items():
                column = self.column_of(key) if key != "non_field_errors" else NON_FIELD_ERRORS
                errors.setdefault(column, []).extend(str(m) for m in (value if isinstance(value, list) else [value]))
            return errors
        return {NON_FIELD_ERRORS: [str(m) for m in (detail if isinstance(detail, list) else [detail])]}


def instance_values(instance, names) -> dict:
    """The attributes ``names`` of the row being imported, as keyword arguments for a service."""
    return {name: getattr(instance, name) for name in names}


# --- the resources of this app -----------------------------------------------------------------------------------

EMPLOYEE_COLUMNS = (
    "employee_number",
    "first_name",
    "last_name",
    "email",
    "org_unit",
    "contracted_weekly_hours",
    "hire_date",
)


class EmployeeResource(ServiceResource):
    """Employees by employee_number: new numbers are created (``pending``), known ones updated (never the state:
    it changes only through transitions)."""

    org_unit = code_field("org_unit", OrgUnit, "code", "org unit with code")
    state = fields.Field(attribute="state", column_name="state", readonly=True)
    import_columns = EMPLOYEE_COLUMNS
    # full_clean sets every field it cleans, and the FSM-protected state refuses to be set.
    validate_exclude = ("state",)

    class Meta:
        model = Employee
        fields = (*EMPLOYEE_COLUMNS, "state", "termination_date")
        export_order = (*EMPLOYEE_COLUMNS, "state", "termination_date")
        import_id_fields = ("employee_number",)

    def service_save(self, instance, *, is_create, actor):
        data = instance_values(instance, EMPLOYEE_COLUMNS)
        data["email"] = (data["email"] or "").lower()
        if is_create:
            return employee_create(**data)
        return employee_update(employee=instance, actor=actor, **data)


POSITION_COLUMNS = ("code", "title", "org_unit", "standard_weekly_hours", "is_active")


class PositionResource(ServiceResource):
    """Positions by code: new codes are created, known ones updated."""

    org_unit = code_field("org_unit", OrgUnit, "code", "org unit with code")
    import_columns = POSITION_COLUMNS
    constraint_messages = {
        "api_position_hours_range": ("standard_weekly_hours", "Must be more than 0 and at most 168.")
    }

    class Meta:
        model = Position
        fields = POSITION_COLUMNS
        export_order = POSITION_COLUMNS
        import_id_fields = ("code",)

    def service_save(self, instance, *, is_create, actor):
        data = instance_values(instance, POSITION_COLUMNS)
        return position_create(**data) if is_create else position_update(position=instance, **data)


# --- the service -------------------------------------------------------------------------------------------------


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
    """The file as a tablib Dataset, by its extension (csv or xlsx); an ImportFileError says what is wrong."""
    extension = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if extension not in FORMATS:
        raise ImportFileError(f"Unsupported file type '{extension or file_name}': send a .csv or .xlsx file.")
    if len(content) > MAX_IMPORT_BYTES:
        raise ImportFileError(f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB.")
    fmt = FORMATS[extension]()
    try:
        data = content.decode("utf-8-sig") if not fmt.is_binary() else content
        return fmt.create_dataset(data)
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"The file could not be read as CSV: it is not UTF-8 ({exc.reason}).") from exc
    except (ValueError, KeyError, IndexError, TypeError, OSError) as exc:
        raise ImportFileError(f"The file could not be read as {extension.upper()}: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - openpyxl/tablib raise their own kinds on a corrupt file
        raise ImportFileError(f"The file could not be read as {extension.upper()}.") from exc


def dataset_check(resource: ServiceResource, dataset) -> None:
    """The file's columns: the key columns must be there, and every column must be one the resource knows."""
    headers = [str(h).strip() for h in (dataset.headers or []) if h not in (None, "")]
    missing = [c for c in resource.key_columns() if c not in headers]
    if missing:
        raise ImportFileError(
            f"Missing column(s): {', '.join(missing)}. Expected: {', '.join(resource.import_columns)}."
        )
    unknown = [h for h in headers if h not in resource.known_columns()]
    if unknown:
        raise ImportFileError(
            f"Unknown column(s): {', '.join(unknown)}. Expected: {', '.join(resource.import_columns)}."
        )


def read_import(*, resource_class: type[ServiceResource], content: bytes, file_name: str):
    """The file read and its columns checked: a Dataset ready for ``import_dataset``, or an ImportFileError."""
    dataset = read_dataset(content=content, file_name=file_name)
    dataset_check(resource_class(), dataset)
    return dataset


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


def import_dataset(*, resource_class: type[ServiceResource], dataset, actor, dry_run: bool) -> ImportReport:
    """Import a checked dataset through the resource's services, all or nothing; a dry run writes nothing."""
    resource = resource_class()
    with transaction.atomic():
        result = resource.import_data(dataset, dry_run=dry_run, raise_errors=False, user=actor)
        problems = _problems(result)
        committed = not dry_run and not problems
        if not committed:
            transaction.set_rollback(True)
    totals = {key: count for key, count in result.totals.items() if count}
    return ImportReport(dry_run=dry_run, committed=committed, totals=totals, problems=problems)


def import_file(
    *, resource_class: type[ServiceResource], content: bytes, file_name: str, actor, dry_run: bool
) -> ImportReport:
    """Import a CSV/XLSX file of ``resource_class``'s model, all or nothing (ImportFileError: nothing read)."""
    dataset = read_import(resource_class=resource_class, content=content, file_name=file_name)
    return import_dataset(resource_class=resource_class, dataset=dataset, actor=actor, dry_run=dry_run)


def resource_path(resource_class: type[ServiceResource]) -> str:
    """How a job names its resource (``resource_from_path`` turns it back)."""
    return f"{resource_class.__module__}.{resource_class.__qualname__}"


def resource_from_path(path: str) -> type[ServiceResource]:
    resource_class = import_string(path)
    if not (isinstance(resource_class, type) and issubclass(resource_class, ServiceResource)):
        raise ImportError(f"{path} is not an import resource.")
    return resource_class
