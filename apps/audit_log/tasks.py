"""Jobs of the audit trail on the procrastinate queue (ADR 0015): the nightly full walk of every hash chain.

The task body is the verification service; the queue decides when (``COVERIS_AUDIT_VERIFY_CRON``, UTC, default
02:30 every night, deferred by the workers' periodic deferrer) or on demand (``manage.py verify_audit_chain
--queue``). Its own queue, so a long walk never holds up plan solving (the worker runs both, concurrently).
"""

from django.conf import settings
from procrastinate.contrib.django import app

from apps.audit_log.models import ChainVerification
from apps.audit_log.verification import chain_verification_run

AUDIT_QUEUE = "audit"


@app.periodic(cron=settings.COVERIS_AUDIT_VERIFY_CRON, periodic_id="verify_audit_chain")
@app.task(queue=AUDIT_QUEUE, name="audit.verify_chain", queueing_lock="verify_audit_chain")
def verify_chain(timestamp: int | None = None, source: str = ChainVerification.Source.SCHEDULE) -> int:
    """Walk every audit chain in full and record the outcome; returns the ``ChainVerification`` id."""
    return chain_verification_run(source=source).pk
