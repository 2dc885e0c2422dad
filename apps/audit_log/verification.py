"""The full walk of the audit trail: every hash-chained table from its first row, and every state-machine object's
state against its log — what ``manage.py verify_audit_chain`` prints and the nightly job records.

``/api/audit/verify/`` and the digests check only the rows appended since a checkpoint (ADR 0019); an edit of an
*old* row that did not recompute the chain is found only by this walk, which reads every row, so it runs on the job
queue (``apps.audit_log.tasks``, ADR 0015), never in a request. Each run is recorded (``ChainVerification``) where
auditors read it: ``GET /api/audit/verifications/``.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import DatabaseError
from django.utils import timezone

from apps.audit_log.models import ChainVerification
from apps.fsm.models import TransitionLogBase
from apps.fsm.selectors import state_drift
from backend.audit.chain import ChainReport, chain_verify, chained_log_models

logger = logging.getLogger("coveris.audit")


@dataclass
class TableCheck:
    """One table's verdict: its chain's report (rows checked, the first broken row and why) and any state drift."""

    report: ChainReport
    state_drift: list[int] = field(default_factory=list)
    subject: str = ""  # what ``state_drift`` ids are ids of
    unreadable: bool = False

    @property
    def table(self) -> str:
        return self.report.table

    @property
    def ok(self) -> bool:
        return self.report.ok and not self.state_drift

    def as_dict(self) -> dict:
        return {**self.report.as_dict(), "ok": self.ok, "state_drift": self.state_drift}


def audit_trail_walk(*, states: bool = True, each: Callable[[TableCheck], None] | None = None) -> list[TableCheck]:
    """Walk every chained table in full (and, with ``states``, check each state machine's states against its log);
    ``each`` is called with every table's verdict as soon as it is known. Reads only."""
    checks = []
    for model in chained_log_models():
        table = model._meta.db_table
        try:
            check = TableCheck(chain_verify(model))
        except DatabaseError as exc:  # e.g. the table's migration has not run: say so, not a traceback
            check = TableCheck(ChainReport(table, 0, False, problem=f"unreadable: {exc}".strip()), unreadable=True)
        else:
            if states and issubclass(model, TransitionLogBase):
                check.state_drift, check.subject = list(state_drift(model)), model.subject_field
        checks.append(check)
        if each is not None:
            each(check)
    return checks


def chain_verification_run(
    *,
    source: str = ChainVerification.Source.SCHEDULE,
    states: bool = True,
    each: Callable[[TableCheck], None] | None = None,
) -> ChainVerification:
    """Walk the whole trail (``audit_trail_walk``) and record the outcome. A broken chain is a result, not an error;
    a walk that fails is recorded as ``error`` with the reason, then the exception propagates (the job fails too)."""
    started = timezone.now()
    try:
        checks = audit_trail_walk(states=states, each=each)
    except Exception as exc:
        logger.exception("the audit-chain walk failed")
        ChainVerification.objects.create(
            started_at=started,
            created_at=timezone.now(),
            status=ChainVerification.Status.ERROR,
            source=source,
            error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        raise
    broken = [c.table for c in checks if not c.ok]
    if broken:
        logger.error("audit chain broken in %s", ", ".join(broken))
    return ChainVerification.objects.create(
        started_at=started,
        created_at=timezone.now(),
        status=ChainVerification.Status.BROKEN if broken else ChainVerification.Status.OK,
        source=source,
        rows_checked=sum(c.report.checked for c in checks),
        tables=[c.as_dict() for c in checks],
    )
