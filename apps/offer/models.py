from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.offer.choices import BALANCE_KINDS, EntryBasis, EntryKind, EntrySource
from backend.audit.db import append_only_triggers
from backend.audit.models import ChainedModel
from backend.bounds import TEXT_MAX_LENGTH
from backend.rows import reads


class LedgerEntry(ChainedModel):
    """One append-only line of an employee's hours ledger (supply side).

    An entry covers [period_start, period_end] (period_end null: open-ended) either at a weekly rate
    (contracts, assignments, leave) or as a total spread over its days (clocked work, adjustments), so an
    open-ended contract is one row, not one per week. Corrections are new entries with the opposite sign
    that point at what they reverse; nothing is ever edited.
    """

    employee = models.ForeignKey("api.Employee", on_delete=models.PROTECT, related_name="ledger_entries")
    kind = models.CharField(max_length=16, choices=EntryKind.choices)
    # For adjustments: the balance column corrected (contracted, assigned, leave or worked).
    adjusts = models.CharField(max_length=16, choices=[(k.value, k.label) for k in BALANCE_KINDS], blank=True)
    basis = models.CharField(max_length=16, choices=EntryBasis.choices, default=EntryBasis.WEEKLY_RATE)
    hours = models.DecimalField(max_digits=8, decimal_places=2, help_text="Weekly rate, or total (see basis).")
    period_start = models.DateField()
    period_end = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=16, choices=EntrySource.choices)
    assignment = models.ForeignKey(
        "assignments.Assignment", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    clock_event = models.ForeignKey(
        "offer.ClockEvent", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    reverses = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversals",
        help_text="The entry this one (partly) cancels.",
    )
    reason = models.TextField(blank=True, default="", max_length=TEXT_MAX_LENGTH)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_email = models.EmailField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    request_id = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "ledger entries"
        triggers = append_only_triggers()
        indexes = [
            models.Index(fields=["employee", "period_start"], name="offer_ledger_employee_start"),
            models.Index(fields=["kind", "period_start"], name="offer_ledger_kind_start"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=EntryKind.values), name="offer_ledger_kind_valid"),
            models.CheckConstraint(condition=Q(basis__in=EntryBasis.values), name="offer_ledger_basis_valid"),
            models.CheckConstraint(condition=Q(source__in=EntrySource.values), name="offer_ledger_source_valid"),
            models.CheckConstraint(
                condition=Q(period_end__isnull=True) | Q(period_end__gte=models.F("period_start")),
                name="offer_ledger_period_valid",
            ),
            models.CheckConstraint(
                condition=(Q(kind=EntryKind.ADJUSTMENT) & ~Q(adjusts=""))
                | (~Q(kind=EntryKind.ADJUSTMENT) & Q(adjusts="")),
                name="offer_ledger_adjusts_only_adjustments",
            ),
            models.CheckConstraint(
                condition=Q(basis=EntryBasis.WEEKLY_RATE) | Q(period_end__isnull=False),
                name="offer_ledger_total_needs_end",
            ),
            models.CheckConstraint(
                condition=Q(kind=EntryKind.ADJUSTMENT) | ~Q(source=EntrySource.MANUAL),
                name="offer_ledger_manual_is_adjustment",
            ),
            # A manual entry is reversed at most once (the service answers 409 first; this is the guarantee).
            models.UniqueConstraint(
                fields=["reverses"], condition=Q(source=EntrySource.MANUAL), name="offer_ledger_one_manual_reversal"
            ),
        ]

    def __str__(self) -> str:
        end = self.period_end.isoformat() if self.period_end else "…"
        return f"{self.kind} {self.hours} ({self.basis}) {self.period_start.isoformat()}–{end}"

    @property
    @reads("kind", "adjusts")
    def column(self) -> str:
        """The balance column this entry counts in."""
        return self.adjusts if self.kind == EntryKind.ADJUSTMENT else self.kind


class ClockEvent(models.Model):
    """One shift clocked by an employee: clock-in, then clock-out (which posts worked hours to the ledger)."""

    employee = models.ForeignKey("api.Employee", on_delete=models.PROTECT, related_name="clock_events")
    day = models.DateField(help_text="The calendar day (UTC) of the clock-in.")
    clock_in_at = models.DateTimeField()
    clock_out_at = models.DateTimeField(null=True, blank=True)
    clocked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    clocked_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    request_id = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        ordering = ["-clock_in_at", "id"]
        indexes = [models.Index(fields=["employee", "day"], name="offer_clock_employee_day")]
        constraints = [
            models.CheckConstraint(
                condition=Q(clock_out_at__isnull=True) | Q(clock_out_at__gte=models.F("clock_in_at")),
                name="offer_clock_out_after_in",
            ),
            # At most one open shift per employee, whatever the rules say.
            models.UniqueConstraint(
                fields=["employee"], condition=Q(clock_out_at__isnull=True), name="offer_clock_one_open_shift"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employee_id} {self.day.isoformat()}"

    @property
    def is_open(self) -> bool:
        return self.clock_out_at is None
