from rest_framework import serializers

from apps.api.models import Employee, OrgUnit
from apps.api.selectors import org_unit_list
from apps.offer.choices import BALANCE_KINDS, EntryBasis
from apps.offer.models import ClockEvent, LedgerEntry
from apps.offer.selectors import MAX_WEEKS, employee_scope, week_count
from apps.offer.services import shift_hours
from backend.rows import reads
from backend.serializers import (
    BoundedDateField,
    CompiledRepresentationMixin,
    IdField,
    ModelSerializer,
    StrictPrimaryKeyRelatedField,
)

COLUMN_CHOICES = [(k.value, k.label) for k in BALANCE_KINDS]


class LedgerEntrySerializer(CompiledRepresentationMixin, ModelSerializer):
    """One ledger entry as stored; ``column`` is where it counts and ``reversed_by`` what cancels it."""

    column = serializers.CharField(read_only=True)
    reversed_by = serializers.SerializerMethodField()

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "employee",
            "kind",
            "adjusts",
            "column",
            "basis",
            "hours",
            "period_start",
            "period_end",
            "source",
            "assignment",
            "clock_event",
            "reverses",
            "reversed_by",
            "reason",
            "actor",
            "actor_email",
            "created_at",
            "request_id",
        ]
        read_only_fields = fields

    @reads("reversed_by_ids")  # a list page from rows: the array subquery's column (ledger_entry_list, PostgreSQL)
    def get_reversed_by(self, entry) -> list[int]:
        ids = getattr(entry, "reversed_by_ids", None)  # ledger_entry_list's array subquery (PostgreSQL)
        return list(ids) if ids is not None else [reversal.pk for reversal in entry.reversals.all()]


class LedgerAdjustmentSerializer(serializers.Serializer):
    """Input of a manual adjustment (POST /api/hours-ledger/entries/): signed hours on one column, with a reason."""

    employee = StrictPrimaryKeyRelatedField(queryset=Employee.objects.all())
    adjusts = serializers.ChoiceField(choices=COLUMN_CHOICES, help_text="The balance column corrected.")
    basis = serializers.ChoiceField(choices=EntryBasis.choices, default=EntryBasis.TOTAL)
    hours = serializers.DecimalField(
        max_digits=8, decimal_places=2, help_text="Signed: a weekly rate, or a total spread over the period."
    )
    period_start = BoundedDateField()
    period_end = BoundedDateField(required=False, allow_null=True, default=None)
    reason = serializers.CharField(max_length=2000, help_text="Required: why the ledger is corrected.")


class LedgerReverseSerializer(serializers.Serializer):
    """Input of POST …/entries/{id}/reverse/."""

    reason = serializers.CharField(max_length=2000, help_text="Required: why the entry is reversed.")


class BalanceQuerySerializer(serializers.Serializer):
    """Query of GET /api/hours-ledger/balances/: ``from`` and ``to`` (both required), employee, org_unit."""

    to = BoundedDateField(help_text="Last day; its ISO week is the last one.")
    employee = StrictPrimaryKeyRelatedField(queryset=Employee.objects.all(), required=False)
    org_unit = StrictPrimaryKeyRelatedField(
        queryset=OrgUnit.objects.all(), required=False, help_text="The unit and its subtree."
    )

    def get_fields(self):
        # "from" is a Python keyword, so it cannot be declared as a class attribute.
        fields = {
            "from": BoundedDateField(help_text="First day; its ISO week is the first one."),
            **super().get_fields(),
        }
        request = self.context.get("request")
        if request is not None:
            # Ids the caller cannot see are refused like unknown ones (400), not answered with an empty page.
            fields["employee"].queryset = employee_scope(user=request.user)
            fields["org_unit"].queryset = org_unit_list(user=request.user)
        return fields

    def validate(self, attrs):
        start, end = attrs["from"], attrs["to"]
        if end < start:
            raise serializers.ValidationError({"to": ["Must be on or after 'from'."]})
        try:
            weeks = week_count(start, end)
        except OverflowError as exc:
            raise serializers.ValidationError({"to": ["The range reaches past the last representable date."]}) from exc
        if weeks > MAX_WEEKS:
            raise serializers.ValidationError(
                {"to": [f"The range covers {weeks} ISO weeks; at most {MAX_WEEKS} are allowed."]}
            )
        return attrs


class ClockSerializer(serializers.Serializer):
    """Input of POST /api/clock/in/ and /out/: whose clock (omitted: your own employee record)."""

    employee = IdField(required=False, allow_null=True)
    acknowledge_warnings = serializers.BooleanField(required=False, default=False)


class ClockEventSerializer(ModelSerializer):
    """A shift: clock-in, clock-out (null while open) and, once closed, its hours."""

    employee_name = serializers.CharField(source="employee.full_name", read_only=True)
    is_open = serializers.BooleanField(read_only=True)
    hours = serializers.SerializerMethodField()

    class Meta:
        model = ClockEvent
        fields = [
            "id",
            "employee",
            "employee_name",
            "day",
            "clock_in_at",
            "clock_out_at",
            "is_open",
            "hours",
            "clocked_in_by",
            "clocked_out_by",
            "request_id",
        ]
        read_only_fields = fields

    def get_hours(self, event) -> str | None:
        return None if event.is_open else str(shift_hours(event))


class BalanceSerializer(serializers.Serializer):
    """Hours per column (strings with two decimals, like every decimal in the API); available = c − leave − a."""

    contracted = serializers.DecimalField(max_digits=12, decimal_places=2)
    assigned = serializers.DecimalField(max_digits=12, decimal_places=2)
    leave = serializers.DecimalField(max_digits=12, decimal_places=2)
    worked = serializers.DecimalField(max_digits=12, decimal_places=2)
    available = serializers.DecimalField(max_digits=12, decimal_places=2)


class BalanceRowSerializer(BalanceSerializer):
    """One employee's balance in one ISO week (``week``: its Monday)."""

    employee = serializers.IntegerField()
    week = BoundedDateField()


class BalancePageSerializer(serializers.Serializer):
    """The balances response: a page of employees (their rows), the snapped range and the totals of all."""

    count = serializers.IntegerField(help_text="Employees matching the filters.")
    total_pages = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    week_from = BoundedDateField(help_text="Monday of the first week.")
    week_to = BoundedDateField(help_text="Sunday of the last week.")
    weeks = serializers.IntegerField()
    totals = BalanceSerializer(help_text="Over every matching employee (not only this page) and every week.")
    results = BalanceRowSerializer(many=True)
