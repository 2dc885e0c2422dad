"""``manage.py verify_audit_chain``: walk every hash-chained audit table in full; exit 1 when any link is broken.

``--queue`` has a job-queue worker do it instead (``audit.verify_chain``, the nightly job's task); either way the
run is recorded (``ChainVerification``, ``GET /api/audit/verifications/``).
"""

from django.core.management.base import BaseCommand, CommandError

from apps.audit_log.models import ChainVerification
from apps.audit_log.verification import TableCheck, chain_verification_run
from backend.jobs import jobs_mode


class Command(BaseCommand):
    help = (
        "Verify the hash chain of every audit table (each concrete ChainedModel) and that every state-machine "
        "object's state is the one its log says. Prints one line per table; exits 1 when anything is broken. "
        "The run is recorded for auditors (GET /api/audit/verifications/). --queue: a job-queue worker does it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--skip-states", action="store_true", help="Check only the chains, not the objects' current states."
        )
        parser.add_argument(
            "--queue",
            action="store_true",
            help="Queue the walk for a job-queue worker (PostgreSQL) and return at once; its result is recorded.",
        )

    def handle(self, *args, skip_states: bool = False, queue: bool = False, **options):
        if queue:
            return self._queue()
        record = chain_verification_run(
            source=ChainVerification.Source.COMMAND, states=not skip_states, each=self._print
        )
        broken = [table["table"] for table in record.tables if not table["ok"]]
        if broken:
            raise CommandError(f"Audit check failed for: {', '.join(sorted(set(broken)))}.", returncode=1)
        self.stdout.write(self.style.SUCCESS("Audit chain intact."))
        return None

    def _print(self, check: TableCheck) -> None:
        report = check.report
        if check.unreadable:
            self.stdout.write(f"{report.table}: UNREADABLE: {report.problem.removeprefix('unreadable: ')}".rstrip())
        elif not report.ok:
            self.stdout.write(
                f"{report.table}: BROKEN at id {report.first_broken_id}: {report.problem} (row {report.checked} of "
                "the chain)"
            )
        else:
            self.stdout.write(f"{report.table}: ok ({report.checked} rows)")
        if check.state_drift:
            ids = ", ".join(str(pk) for pk in check.state_drift)
            self.stdout.write(
                f"{check.table}: STATE DRIFT: {check.subject} ids {ids} have a state their log does not explain "
                "(written outside the transition service)"
            )

    def _queue(self) -> None:
        from procrastinate.exceptions import AlreadyEnqueued

        from apps.audit_log.tasks import verify_chain

        if jobs_mode() != "queue":
            raise CommandError("--queue needs the job queue (PostgreSQL, COVERIS_JOBS auto or queue).", returncode=2)
        try:
            job_id = verify_chain.defer(source=ChainVerification.Source.COMMAND)
        except AlreadyEnqueued:
            self.stdout.write("A verification is already queued; its result will be recorded.")
            return
        self.stdout.write(f"Queued as job {job_id}: a worker walks the trail; see GET /api/audit/verifications/.")
