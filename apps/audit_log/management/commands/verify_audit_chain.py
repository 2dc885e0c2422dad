"""``manage.py verify_audit_chain``: walk every hash-chained log table; exit 1 when any link is broken."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from apps.fsm.models import TransitionLogBase
from apps.fsm.selectors import state_drift
from backend.audit.chain import chain_verify, chained_log_models


class Command(BaseCommand):
    help = (
        "Verify the hash chain of every audit table (each concrete ChainedModel) and that every state-machine "
        "object's state is the one its log says. Prints one line per table; exits 1 when anything is broken."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--skip-states", action="store_true", help="Check only the chains, not the objects' current states."
        )

    def handle(self, *args, skip_states: bool = False, **options):
        broken = []
        for model in chained_log_models():
            try:
                report = chain_verify(model)
            except DatabaseError as exc:  # e.g. the table's migration has not run: say so, not a traceback
                broken.append(model._meta.db_table)
                self.stdout.write(f"{model._meta.db_table}: UNREADABLE: {exc}".rstrip())
                continue
            if report.ok:
                self.stdout.write(f"{report.table}: ok ({report.checked} rows)")
            else:
                broken.append(report.table)
                self.stdout.write(
                    f"{report.table}: BROKEN at id {report.first_broken_id}: {report.problem} "
                    f"(row {report.checked} of the chain)"
                )
            if skip_states or not issubclass(model, TransitionLogBase):
                continue
            drifted = state_drift(model)
            if drifted:
                broken.append(report.table)
                ids = ", ".join(str(pk) for pk in drifted)
                self.stdout.write(
                    f"{report.table}: STATE DRIFT: {model.subject_field} ids {ids} have a state their log does "
                    "not explain (written outside the transition service)"
                )
        if broken:
            raise CommandError(f"Audit check failed for: {', '.join(sorted(set(broken)))}.", returncode=1)
        self.stdout.write(self.style.SUCCESS("Audit chain intact."))
