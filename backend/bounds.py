"""The bounds every written value keeps (docs/stack/api-conventions.md, "Bounds"), in one place for the models, the
serializers and the admin: dates within 1900-01-01 … 2999-12-31, ids within PostgreSQL's bigint, free text at most
``TEXT_MAX_LENGTH`` characters."""

import datetime

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

DATE_MIN = datetime.date(1900, 1, 1)
DATE_MAX = datetime.date(2999, 12, 31)
MAX_ID = 2**63 - 1
TEXT_MAX_LENGTH = 2000  # descriptions, notes, reasons


@deconstructible
class DateRangeValidator:
    """Refuses a date outside ``DATE_MIN`` … ``DATE_MAX`` (model fields: the admin and every ModelForm)."""

    message = f"Enter a date between {DATE_MIN.isoformat()} and {DATE_MAX.isoformat()}."
    code = "out_of_range"

    def __call__(self, value):
        if value is not None and not DATE_MIN <= value <= DATE_MAX:
            raise ValidationError(self.message, code=self.code)

    def __eq__(self, other):
        return isinstance(other, DateRangeValidator)


validate_date_in_range = DateRangeValidator()
