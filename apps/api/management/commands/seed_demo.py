"""``manage.py seed_demo``: a believable demo organisation, built through the real services, fast.

    uv run python manage.py seed_demo                     # 200 employees, seed 42
    uv run python manage.py seed_demo --employees 10000   # adds the missing 9,800 to an existing demo

What it builds (all of it marked by the root org unit ``DEMO``):

- an org tree — the root, 3–4 divisions, 2–4 teams each — with 2–3 positions per team, each asking for tags at a
  minimum level and having coverage requirements (an open-ended base, and for some a temporary peak that starts
  mid-week); a tag catalogue of skills, certifications and languages; six business rules (``DEMO_*``);
- employees in every state (pending, active, on_leave, suspended, terminated) with tags at levels and validity,
  reached through real transitions, so their log rows, hash chains and ledger postings are genuine;
- assignments in every state (proposed, approved, active, completed, rejected, cancelled): proposals checked
  against the ``assignment.create`` rules, then real transitions; a quarter of the leavers' running assignments are
  closed by the termination cascade, the others completed on the last day before the termination; the open
  proposals are mostly approvable as they are (about 7 in 10), a few blocked by a named rule (``DEMO_MAX_HOURS``:
  the person's running assignment leaves no room; ``DEMO_ACTIVE_ONLY``: not started yet, or away) and some warn
  (``DEMO_REQUIRED_TAGS``: not trained for that position), so an HR user's first approval works;
- clock-ins and clock-outs (``apps.offer.services``) of some active employees on the last three weekdays;
- demo users ``admin@``, ``hr@``, ``manager@``, ``auditor@`` and ``employee@demo.coveris.test``, password
  ``coveris-demo`` (the employee user is linked to employee DEMO-00001 and clocks for itself).

How it is fast: plain rows (employees, tags and their ``TagChangeLog`` rows, positions, requirements) are
bulk-inserted; proposals go through ``assignments_create_many`` (the batched ``assignment_create``) and state
changes through ``transition_perform_many`` — the transition service's batched path — grouped by transition,
effective date and reason (dates come from a few intake Mondays and month ends, so the groups are large);
employees are written in transactions of ``--batch`` (default 25,000: a batch runs one ``transition_perform_many``
per transition, date and reason, so larger batches make fewer, larger calls). What stays per object is the
after-transition hooks (ledger postings) and the clock events (of about 100 people, among the first 5,000), which go
through their services one by one. Two things the database would do row by row are done once (ADR 0024): the weekly
rollups hold no horizon during the load (their triggers return at once, reports compute live) and are rebuilt from
scratch at the end, also after a failure; the change history of the bulk-inserted employees and tags is written and
hash-chained as one set (``bulk_create_with_history``), the same rows the per-row triggers write. Every bulk insert
(rows, change history, transition logs, ledger postings) goes through ``COPY`` (``backend.bulk_copy``, ADR 0032), and
the termination cascade is batched like the transitions themselves. Writes nobody reads back — the transitions' state
``UPDATE``s and the change-history sealing blocks — are sent ahead on the batch's connection (``backend.ahead``, ADR
0047): the server runs them while Python judges the next objects and builds the next rows. The rows loaded and built
in bulk are model instances made without ``Model.__init__`` where nothing could tell the difference
(``backend.instances``), and each batch runs with the cyclic garbage collector paused, its objects living until it
commits anyway (``backend.collector``; ADR 0052).

On PostgreSQL it ends with ``ANALYZE``: after a bulk load autovacuum may not have caught up, and the planner (and the
lists' estimated counts, docs/stack/api-conventions.md) need the new tables' statistics. Each batch also analyses
the tables its transitions read inside its own transaction, before them and between their rounds (autovacuum cannot
see uncommitted rows; without statistics two of their queries read whole indexes, ADR 0043).

Idempotent: a second run finds the marker and adds only the employees missing up to ``--employees`` (none: it says
so and writes nothing). Employee *i* is planned from ``(--seed, i)`` alone, so 200 then 300 gives the same people
as 300 at once, and an interrupted run resumes with the batches it had not committed. Dates are relative to the
day it runs (hires, leave and shifts land in the recent past), so the same seed gives the same people, states and
shapes, but on another day other dates. Coverage requirements are sized for the first run's ``--employees``.

Refuses to run with ``DEBUG`` off (production-like settings) unless ``--force``: it creates users with a published
password. ``--quiet`` prints nothing (not even the users).
"""

import contextlib
import datetime
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Count

from apps.api.models import Employee, OrgUnit, Position
from apps.api.services import org_unit_create
from apps.assignments.models import Assignment
from apps.assignments.services import ASSIGNMENT_TRANSITIONS, assignments_create_many
from apps.audit_log.bulk import bulk_create_with_history
from apps.business_rules.models import BusinessRule
from apps.business_rules.services import rule_create
from apps.demand.models import CoverageRequirement
from apps.demand.rollups import rollups_suspended_for_load
from apps.fsm.services import EMPLOYEE_TRANSITIONS, TransitionKind, TransitionRequest, transition_perform_many
from apps.offer.models import LedgerEntry
from apps.offer.services import clock_in, clock_out
from apps.tags.choices import TagAction, TagCategory, TagTarget
from apps.tags.models import EmployeeTag, PositionTag, TagCatalog, TagChangeLog
from apps.tags.services import employee_tag_snapshot, position_tag_snapshot
from apps.users.choices import Role
from apps.users.models import User
from backend import timezones, triggers
from backend.ahead import statements_ahead
from backend.collector import collector_paused
from backend.instances import unsaved
from backend.request_context import current_request_id

ROOT_CODE = "DEMO"
NUMBER_PREFIX = "DEMO-"
EMAIL_DOMAIN = "demo.coveris.test"
DEMO_PASSWORD = "coveris-demo"
REQUEST_ID = "seed-demo"
ONE_DAY = datetime.timedelta(days=1)
ONE_WEEK = datetime.timedelta(days=7)


# --- the catalogue --------------------------------------------------------------------------------------------

TAGS = [
    ("forklift", "Forklift operation", TagCategory.SKILL),
    ("order-picking", "Order picking", TagCategory.SKILL),
    ("inventory", "Inventory control", TagCategory.SKILL),
    ("customer-service", "Customer service", TagCategory.SKILL),
    ("crm", "CRM software", TagCategory.SKILL),
    ("cleaning", "Industrial cleaning", TagCategory.SKILL),
    ("maintenance", "Technical maintenance", TagCategory.SKILL),
    ("scheduling", "Shift scheduling", TagCategory.SKILL),
    ("cooking", "Professional cooking", TagCategory.SKILL),
    ("forklift-licence", "Forklift licence", TagCategory.CERTIFICATION),
    ("first-aid", "First aid", TagCategory.CERTIFICATION),
    ("food-hygiene", "Food hygiene (HACCP)", TagCategory.CERTIFICATION),
    ("electrical-safety", "Electrical safety", TagCategory.CERTIFICATION),
    ("site-safety", "Site safety (VCA)", TagCategory.CERTIFICATION),
    ("lang-en", "English", TagCategory.LANGUAGE),
    ("lang-nl", "Dutch", TagCategory.LANGUAGE),
    ("lang-de", "German", TagCategory.LANGUAGE),
    ("lang-fr", "French", TagCategory.LANGUAGE),
    ("lang-es", "Spanish", TagCategory.LANGUAGE),
    ("lang-pl", "Polish", TagCategory.LANGUAGE),
]
LANGUAGES = [code for code, _, category in TAGS if category == TagCategory.LANGUAGE]
SKILLS = [code for code, _, category in TAGS if category == TagCategory.SKILL]

# division code → (name, team names, positions: (title, weekly hours, [(tag, min level)]))
DIVISIONS = {
    "OPS": (
        "Operations",
        ["Inbound", "Outbound", "Returns", "Night shift"],
        [
            ("Warehouse operative", 40, [("order-picking", 1)]),
            ("Forklift driver", 40, [("forklift", 2), ("forklift-licence", 1)]),
            ("Inventory clerk", 36, [("inventory", 2)]),
            ("Shift lead", 40, [("scheduling", 2), ("first-aid", 1)]),
        ],
    ),
    "CS": (
        "Customer Service",
        ["Front desk", "Phone", "Chat", "Escalations"],
        [
            ("Customer agent", 36, [("customer-service", 1), ("lang-en", 2)]),
            ("Senior agent", 36, [("customer-service", 3), ("crm", 2)]),
            ("Team coordinator", 40, [("scheduling", 1), ("crm", 1)]),
        ],
    ),
    "FAC": (
        "Facilities",
        ["Cleaning", "Maintenance", "Security"],
        [
            ("Cleaner", 32, [("cleaning", 1)]),
            ("Technician", 40, [("maintenance", 2), ("electrical-safety", 1)]),
            ("Caretaker", 36, [("maintenance", 1), ("site-safety", 1)]),
        ],
    ),
    "CAT": (
        "Catering",
        ["Kitchen", "Canteen", "Events"],
        [
            ("Cook", 40, [("cooking", 2), ("food-hygiene", 1)]),
            ("Kitchen assistant", 32, [("food-hygiene", 1)]),
            ("Host", 24, [("customer-service", 1), ("lang-en", 1)]),
        ],
    ),
}

RULES = [
    (
        "DEMO_MAX_HOURS",
        "Within the contract",
        "Committed weekly hours stay within 100% of the employee's contract.",
        "max_weekly_hours",
        {"max_percent_of_contract": 100},
        "block",
        ["assignment.approve"],
    ),
    (
        "DEMO_REQUIRED_TAGS",
        "Qualified for the position",
        "The employee holds the position's required tags at level, valid over the whole period.",
        "required_tags",
        {},
        "warn",
        ["assignment.approve"],
    ),
    (
        "DEMO_ACTIVE_ONLY",
        "Only active employees are approved",
        "An assignment is approved only for an employee who is active.",
        "employee_state",
        {"states": ["active"]},
        "block",
        ["assignment.approve"],
    ),
    (
        "DEMO_REASON",
        "Say why",
        "Suspensions and terminations give a reason of at least 5 characters.",
        "reason_required",
        {"min_length": 5},
        "block",
        ["employee.suspend", "employee.terminate"],
    ),
    (
        "DEMO_NO_OVERLAP",
        "One assignment per position at a time",
        "No two open assignments of one employee to one position overlap.",
        "no_overlap_same_position",
        {},
        "block",
        ["assignment.create", "assignment.approve"],
    ),
    (
        "DEMO_MAX_CONCURRENT",
        "At most two assignments at once",
        "At most two approved or active assignments of an employee run at the same time.",
        "max_concurrent_assignments",
        {"max": 2},
        "block",
        ["assignment.approve"],
    ),
]

USERS = [
    ("admin", Role.ADMIN, "Ada", "Admin"),
    ("hr", Role.HR, "Harriet", "Reyes"),
    ("manager", Role.MANAGER, "Manuel", "Ortega"),
    ("auditor", Role.AUDITOR, "Aude", "Tremblay"),
    ("employee", Role.EMPLOYEE, "Emma", "Lindqvist"),
]

# fmt: off
FIRST_NAMES = [
    "Aisha", "Amir", "Anna", "Arjun", "Ben", "Carla", "Chen", "Chloe", "Daan", "David", "Elif", "Emma", "Eva",
    "Fatima", "Felix", "Grace", "Hana", "Hugo", "Ines", "Ivan", "Jamal", "Jana", "Jonas", "Julia", "Kai", "Karim",
    "Lara", "Lena", "Leo", "Lucas", "Maja", "Marco", "Maria", "Mateo", "Mei", "Mila", "Nadia", "Noah", "Nora",
    "Olga", "Omar", "Paula", "Pedro", "Priya", "Rafael", "Rosa", "Ruben", "Sara", "Sofia", "Sven", "Tariq", "Tess",
    "Tomas", "Vera", "Wei", "Yara", "Yusuf", "Zoe"
]
LAST_NAMES = [
    "Ahmed", "Bakker", "Novak", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hansen", "Ivanova", "Jansen",
    "Kaya", "Kowalski", "Larsen", "Martin", "Meyer", "Mueller", "Nielsen", "Okafor", "Oliveira", "Patel", "Petrov",
    "Quinn", "Rossi", "Santos", "Schmidt", "Silva", "Smit", "Suzuki", "Tanaka", "Visser", "Wagner", "Weber", "Wong",
    "Yilmaz", "Zhang", "Berg", "Dijkstra", "Haddad", "Lopez", "Moreau", "Nowak", "Romano", "Sato", "Vos"
]
# fmt: on
CONTRACTS = [40, 40, 40, 36, 32, 24, 20]
STATE_WEIGHTS = {"active": 68, "pending": 7, "on_leave": 9, "suspended": 5, "terminated": 11}
# What else an active employee's history holds beside the running assignment.
EXTRA_WEIGHTS = {"none": 30, "completed": 20, "approved": 12, "proposed": 14, "rejected": 12, "cancelled": 12}
# The first twelve employees show every state and every assignment state, whatever the seed and however small N.
FORCED = [
    ("active", "none"),
    ("pending", "proposal"),
    ("on_leave", "none"),
    ("suspended", "none"),
    ("terminated", "started"),
    ("active", "approved"),
    ("active", "proposed"),
    ("active", "completed"),
    ("active", "rejected"),
    ("active", "cancelled"),
    ("active", "proposed"),
    ("active", "proposed"),
]
# ... and their proposals show the mix: (fits DEMO_MAX_HOURS, qualified for the position) — approvable, approvable
# with a warning, blocked.
FORCED_PROPOSALS = {6: (True, True), 10: (True, False), 11: (False, True)}
LEAVE_REASONS = ["Parental leave", "Sick leave", "Sabbatical"]
SUSPEND_REASONS = ["Safety incident under investigation", "Unauthorised absence under review"]
TERMINATE_REASONS = ["End of fixed-term contract", "Resigned", "Relocation"]
NEVER_STARTED = "Withdrew before the first day"
CLOCK_SHARE = 0.02  # of active employees clock in on the last three weekdays (plus the employee user)
# ... among the first 5,000 only: clock events go through their services one by one (about 10 queries each), so a
# large demo keeps the same ~100 people clocking instead of 2,000 at 100,000 employees.
CLOCKING_AMONG_FIRST = 5000
# Of the leavers with a running assignment, the share whose termination closes it (the cascade); the others' manager
# completed it on their last day first. The cascade runs one transition per assignment, so it is kept to a sample.
CASCADE_SHARE = 0.25
# Of the active employees with an open proposal (``extra == "proposed"``): the share whose running assignment takes half
# their contract, so the proposal's other half fits DEMO_MAX_HOURS (the others stay blocked by it), and the share
# trained for the proposed position (the others' approval warns, DEMO_REQUIRED_TAGS). The demo's proposals are then
# mostly approvable, some blocked by a named rule, some with warnings (issue 9: an HR user's first approval works).
PROPOSAL_FITS = 0.8
PROPOSAL_QUALIFIED = 0.7
FORCED_CASCADE = 4
MAX_REQUIRED_HOURS = Decimal("99999.99")  # CoverageRequirement.required_weekly_hours: max_digits=7, 2 places
# Analysed inside each batch before its assignment transitions (ADR 0043): what the batched transitions' rules and
# ledger hooks read ...
IN_LOAD_STATISTICS = (
    Employee._meta.db_table,
    EmployeeTag._meta.db_table,
    Assignment._meta.db_table,
    LedgerEntry._meta.db_table,
)
# ... and again between their rounds, where the first round (mostly approvals) has just posted the first assigned
# hours a fresh database's ledger holds (without them the planner takes the kind "assigned" for a rare one).
AFTER_ROUND_STATISTICS = (Assignment._meta.db_table, LedgerEntry._meta.db_table)


# --- the plan: pure data, from (seed, index) and today ---------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One transition to perform: name, effective date, reason."""

    name: str
    day: datetime.date
    reason: str = ""


@dataclass
class AssignmentPlan:
    position: str
    start: datetime.date
    end: datetime.date | None
    hours: Decimal
    steps: list[Step] = field(default_factory=list)


@dataclass
class EmployeePlan:
    index: int
    number: str
    first_name: str
    last_name: str
    email: str
    team: str
    contract: int
    hire_date: datetime.date
    state: str
    tags: list[tuple[str, int, datetime.date, datetime.date | None]] = field(default_factory=list)
    activate: bool = False
    assignments: list[AssignmentPlan] = field(default_factory=list)
    later: list[Step] = field(default_factory=list)
    shifts: list[tuple[datetime.datetime, datetime.datetime]] = field(default_factory=list)


@dataclass(frozen=True)
class PositionView:
    code: str
    tags: tuple[tuple[str, int, bool], ...]  # (tag code, min level, required)


@dataclass(frozen=True)
class OrgView:
    """What employee planning needs to know of the organisation, read from the database."""

    teams: tuple[tuple[str, tuple[PositionView, ...]], ...]  # (team code, its positions), by code
    certifications: frozenset[str]


def employee_number(index: int) -> str:
    return f"{NUMBER_PREFIX}{index + 1:05d}"


def _first_monday(year: int, month: int) -> datetime.date:
    first = datetime.date(year, month, 1)
    return first + datetime.timedelta(days=(7 - first.weekday()) % 7)


def _month_end(year: int, month: int) -> datetime.date:
    return datetime.date(year + month // 12, month % 12 + 1, 1) - ONE_DAY


def _months_around(today: datetime.date, back: int, ahead: int) -> list[tuple[int, int]]:
    base = today.year * 12 + today.month - 1
    return [(m // 12, m % 12 + 1) for m in range(base - back, base + ahead + 1)]


def _next_monday(day: datetime.date) -> datetime.date:
    return day + datetime.timedelta(days=7 - day.weekday())


@dataclass(frozen=True)
class Calendar:
    """The dates a plan chooses from, relative to ``today``: few distinct dates, so transitions batch well."""

    today: datetime.date

    # Computed once per calendar (cached_property writes the instance's __dict__, which a frozen dataclass allows):
    # every employee's plan reads them, so at 100,000 employees recomputing them was seconds of the load.
    @cached_property
    def monday(self) -> datetime.date:
        return self.today - datetime.timedelta(days=self.today.weekday())

    @cached_property
    def past_intakes(self) -> list[datetime.date]:
        """First Mondays of the last two years' months, at least three weeks ago: the hiring dates."""
        latest = self.today - 3 * ONE_WEEK
        return [d for d in (_first_monday(y, m) for y, m in _months_around(self.today, 24, 0)) if d <= latest]

    @cached_property
    def future_intakes(self) -> list[datetime.date]:
        return [d for d in (_first_monday(y, m) for y, m in _months_around(self.today, 0, 2)) if d > self.today][:2]

    @cached_property
    def _month_ends(self) -> list[datetime.date]:
        return [_month_end(y, m) for y, m in _months_around(self.today, 25, 3)]

    def month_ends(self, after: datetime.date, before: datetime.date) -> list[datetime.date]:
        return [d for d in self._month_ends if after <= d <= before]

    def recent_mondays(self, not_before: datetime.date, weeks: int = 6) -> list[datetime.date]:
        mondays = [self.monday - k * ONE_WEEK for k in range(weeks, -1, -1)]
        return [d for d in mondays if d >= not_before]

    @cached_property
    def shift_days(self) -> list[datetime.date]:
        """The last three weekdays before today."""
        days, day = [], self.today - ONE_DAY
        while len(days) < 3:
            if day.weekday() < 5:
                days.append(day)
            day -= ONE_DAY
        return sorted(days)


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _hours(contract: int, share: float) -> Decimal:
    return Decimal(max(4, int(contract * share)))


def plan_employee(seed: int, index: int, org: OrgView, cal: Calendar) -> EmployeePlan:
    """Everything about employee ``index``: who, where, which tags, which transitions on which dates."""
    rng = random.Random(f"coveris-demo:{seed}:{index}")  # noqa: S311 (demo data, not secrets)
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    team, positions = rng.choice(org.teams)
    home = rng.choice(positions)
    others = (
        [p for p in positions if p is not home] or [p for _, ps in org.teams for p in ps if p is not home] or [home]
    )
    contract = rng.choice(CONTRACTS)
    if index < len(FORCED):
        state, extra = FORCED[index]
    else:
        state, extra = _weighted(rng, STATE_WEIGHTS), _weighted(rng, EXTRA_WEIGHTS)
        if state == "pending":  # a proposal for someone not started yet is blocked (DEMO_ACTIVE_ONLY): a few
            extra = "proposal" if rng.random() < 0.1 else "none"
        elif state in ("on_leave", "suspended") and extra == "proposed" and rng.random() >= 0.25:
            extra = "none"  # likewise for people away: a few
        elif state == "terminated":
            extra = "started" if rng.random() < 0.75 else "never"
    if (
        state == "active"
        and extra == "completed"
        and not [d for d in cal.past_intakes if d <= cal.today - 17 * ONE_WEEK]
    ):
        extra = "none"

    # Hire date: a past intake (recent enough for what follows), or a coming one for people not started yet.
    if state == "pending":
        hire = rng.choice(cal.future_intakes)
    elif extra == "completed" or (state == "terminated" and extra == "started"):
        hire = rng.choice([d for d in cal.past_intakes if d <= cal.today - 17 * ONE_WEEK] or cal.past_intakes)
    else:
        hire = rng.choice(cal.past_intakes)

    plan = EmployeePlan(
        index=index,
        number=employee_number(index),
        first_name=first,
        last_name=last,
        email=f"{first}.{last.replace(' ', '')}.{index + 1}@{EMAIL_DOMAIN}".lower(),
        team=team,
        contract=contract,
        hire_date=hire,
        state=state,
    )
    plan.tags = _plan_tags(rng, home, hire, org, cal)
    hours = Decimal(contract)

    def approved_and_started(start: datetime.date) -> list[Step]:
        return [Step("approve", start), Step("activate", start)]

    if state == "pending":
        if extra == "proposal":
            plan.assignments.append(AssignmentPlan(home.code, hire, None, _hours(contract, rng.choice([1, 0.75]))))
        return plan
    if state == "terminated" and extra == "never":
        plan.later.append(Step("terminate", hire, NEVER_STARTED))
        return plan

    plan.activate = True
    current_start, current_end = hire, None
    if extra == "completed":
        history_end = rng.choice(cal.month_ends(hire + 4 * ONE_WEEK, cal.today - 6 * ONE_WEEK) or [hire + 4 * ONE_WEEK])
        plan.assignments.append(
            AssignmentPlan(
                rng.choice(others).code,
                hire,
                history_end,
                hours,
                [*approved_and_started(hire), Step("complete", history_end)],
            )
        )
        current_start = _next_monday(history_end)
    if extra == "approved":
        current_end = _month_end(*_months_around(cal.today + 3 * ONE_WEEK, 0, 0)[0])
    fits, qualified = False, False
    if extra == "proposed":
        fits, qualified = FORCED_PROPOSALS.get(index, (rng.random() < PROPOSAL_FITS, rng.random() < PROPOSAL_QUALIFIED))
    if extra in ("completed", "approved"):
        share = 1
    elif fits:
        share = 0.5  # half a contract here, half on the proposal: approvable within DEMO_MAX_HOURS
    elif extra == "proposed":
        share = rng.choice([1, 1, 1, 0.75])  # the proposal's half on top is over the contract: DEMO_MAX_HOURS blocks
    else:
        share = rng.choice([1, 1, 1, 0.75, 0.5])
    plan.assignments.append(
        AssignmentPlan(
            home.code, current_start, current_end, _hours(contract, share), approved_and_started(current_start)
        )
    )
    if extra == "approved":
        plan.assignments.append(
            AssignmentPlan(
                rng.choice(others).code, _next_monday(current_end), None, hours, [Step("approve", cal.today)]
            )
        )
    elif extra in ("proposed", "rejected", "cancelled"):
        start = cal.monday + rng.randint(2, 8) * ONE_WEEK
        steps = {
            "proposed": [],
            "rejected": [Step("reject", cal.today, "Position filled internally")],
            "cancelled": [Step("cancel", cal.today, "Employee declined the offer")],
        }[extra]
        target = rng.choice(others)
        if qualified:  # trained for it: no DEMO_REQUIRED_TAGS warning
            plan.tags = _qualify(rng, plan.tags, target)
        plan.assignments.append(
            AssignmentPlan(target.code, start, start + 12 * ONE_WEEK - ONE_DAY, _hours(contract, 0.5), steps)
        )

    if state in ("on_leave", "suspended"):
        leave_from = rng.choice(cal.recent_mondays(hire + ONE_WEEK))
        if state == "on_leave" or rng.random() < 0.3:
            plan.later.append(Step("start_leave", leave_from, rng.choice(LEAVE_REASONS)))
        if state == "suspended":
            suspend_on = rng.choice(cal.recent_mondays(leave_from + ONE_WEEK) or [leave_from])
            if plan.later and suspend_on == leave_from:  # no room after the leave: suspended straight from active
                plan.later = []
            plan.later.append(Step("suspend", suspend_on, rng.choice(SUSPEND_REASONS)))
    elif state == "terminated":
        ends = cal.month_ends(max(hire + 9 * ONE_WEEK, cal.today - 40 * ONE_WEEK), cal.today - ONE_DAY)
        last_day = rng.choice(ends or [cal.today - ONE_DAY])
        if index != FORCED_CASCADE and rng.random() >= CASCADE_SHARE:  # the manager closed the assignment first
            plan.assignments[-1].steps.append(Step("complete", last_day, "Last day before leaving"))
        plan.later.append(Step("terminate", last_day, rng.choice(TERMINATE_REASONS)))
    elif state == "active" and (index == 0 or (rng.random() < CLOCK_SHARE and index < CLOCKING_AMONG_FIRST)):
        for day in cal.shift_days:
            clock_in_at = datetime.datetime.combine(day, datetime.time(6, 0), tzinfo=datetime.UTC)
            clock_in_at += datetime.timedelta(minutes=rng.randrange(0, 180, 5))
            length = datetime.timedelta(hours=rng.randint(4, 8), minutes=rng.randrange(0, 60, 15))
            plan.shifts.append((clock_in_at, clock_in_at + length))
    return plan


def _qualify(rng: random.Random, tags: list, position: PositionView) -> list:
    """``tags`` plus ``position``'s required tags at their level where missing or short, held since the earliest
    tag (open-ended): the employee qualifies for a second position."""
    held = {code: (level, since, until) for code, level, since, until in tags}
    since = min((since for _, since, _ in held.values()), default=None)
    for code, min_level, required in position.tags:
        if required and since is not None and (code not in held or held[code][0] < min_level):
            held[code] = (min(10, min_level + rng.randint(0, 1)), since, None)
    return [(code, *values) for code, values in sorted(held.items())]


def _plan_tags(rng: random.Random, home: PositionView, hire: datetime.date, org: OrgView, cal: Calendar) -> list:
    """The home position's required tags (mostly at level, sometimes short or expiring), languages, a skill."""
    held: dict[str, tuple[int, datetime.date, datetime.date | None]] = {}
    since = hire - datetime.timedelta(days=rng.randint(0, 400))
    for code, min_level, required in home.tags:
        if not required and rng.random() < 0.5:
            continue
        roll = rng.random()
        if roll < 0.04:
            continue  # missing: approvals warn (DEMO_REQUIRED_TAGS), HR acknowledges
        level = max(1, min_level - 1) if roll < 0.08 else min(10, min_level + rng.randint(0, 2))
        until = None
        if code in org.certifications and rng.random() < 0.1:
            until = cal.today + datetime.timedelta(days=rng.randint(30, 400))  # expiring: warns on open-ended work
        held[code] = (level, since, until)
    held.setdefault("lang-en", (rng.randint(2, 5), since, None))
    if rng.random() < 0.5:
        held.setdefault(rng.choice(LANGUAGES), (rng.randint(1, 5), since, None))
    if rng.random() < 0.3:
        held.setdefault(rng.choice(SKILLS), (rng.randint(1, 4), since, None))
    return [(code, *values) for code, values in sorted(held.items())]


# --- the writer ------------------------------------------------------------------------------------------------


class DemoSeeder:
    """Writes the plan: the organisation once, then employees in batches, each batch one transaction."""

    def __init__(self, *, seed: int, batch: int, say: Callable[[str], None], today: datetime.date | None = None):
        self.seed = seed
        self.batch = batch
        self.say = say
        self.cal = Calendar(today or timezones.today())
        self.totals: Counter = Counter()
        self.seconds: Counter = Counter()
        self._inner: list[float] = []  # seconds of the phases inside the running ones (``_phase``)
        # Set by ``add_employees`` from the database: who acts, and what the organisation holds.
        self.hr: User | None = None
        self.employee_user: User | None = None
        self.tags: dict[str, TagCatalog] = {}
        self.units: dict[str, int] = {}
        self.positions: dict[str, Position] = {}

    # organisation ------------------------------------------------------------------------------------------

    def ensure_organisation(self, employees: int) -> bool:
        """Create the organisation unless the marker exists; True when it was created now."""
        if OrgUnit.objects.filter(code=ROOT_CODE).exists():
            return False
        began = time.perf_counter()
        with transaction.atomic():
            users = self._users()
            tags = self._catalogue()
            rng = random.Random(f"coveris-demo:{self.seed}:organisation")  # noqa: S311
            root = org_unit_create(code=ROOT_CODE, name="Coveris Demo Ltd")
            chosen = rng.sample(sorted(DIVISIONS), rng.choice([3, 4]))
            positions: list[Position] = []
            needs: dict[str, list[tuple[str, int, bool]]] = {}
            for division_code in sorted(chosen):
                name, team_names, titles = DIVISIONS[division_code]
                division = org_unit_create(code=f"{ROOT_CODE}-{division_code}", name=name, parent=root)
                for t, team_name in enumerate(rng.sample(team_names, rng.randint(2, min(4, len(team_names))))):
                    team = org_unit_create(
                        code=f"{division.code}-{t + 1}", name=f"{name}: {team_name}", parent=division
                    )
                    for p, (title, hours, requires) in enumerate(
                        rng.sample(titles, rng.randint(2, min(3, len(titles))))
                    ):
                        code = f"{team.code}-P{p + 1}"
                        positions.append(
                            Position(code=code, title=title, org_unit=team, standard_weekly_hours=Decimal(hours))
                        )
                        optional = [(rng.choice(LANGUAGES[1:]), 2, False)] if rng.random() < 0.4 else []
                        needs[code] = [(tag, level, True) for tag, level in requires] + optional
            positions = Position.objects.bulk_create(positions)
            self._position_tags(positions, needs, tags, users["hr"])
            self._requirements(rng, positions, employees)
            for code, name, description, rule_type, params, severity, events in RULES:
                if not BusinessRule.objects.filter(code=code).exists():
                    rule_create(
                        actor=users["admin"],
                        code=code,
                        name=name,
                        description=description,
                        rule_type=rule_type,
                        params=params,
                        severity=severity,
                        events=events,
                    )
            manager = users["manager"]
            if manager.org_unit_id is None:
                manager.org_unit = OrgUnit.objects.get(code=f"{ROOT_CODE}-{sorted(chosen)[0]}")
                manager.save(update_fields=["org_unit"])
        self.seconds["organisation"] += time.perf_counter() - began
        teams = OrgUnit.objects.filter(depth=2, path__startswith=root.path).count()
        self.say(
            f"organisation: 1 root, {len(chosen)} divisions, {teams} "
            f"teams, {len(positions)} positions, {len(tags)} tags, {len(RULES)} rules, {len(users)} users "
            f"({time.perf_counter() - began:.1f} s)"
        )
        return True

    def _users(self) -> dict[str, User]:
        users = {}
        for handle, role, first, last in USERS:
            email = f"{handle}@{EMAIL_DOMAIN}"
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(email, DEMO_PASSWORD, role=role, first_name=first, last_name=last)
            users[handle] = user
        return users

    def _catalogue(self) -> dict[str, TagCatalog]:
        existing = {t.code: t for t in TagCatalog.objects.filter(code__in=[code for code, _, _ in TAGS])}
        missing = [TagCatalog(code=code, name=name, category=cat) for code, name, cat in TAGS if code not in existing]
        TagCatalog.objects.bulk_create(missing)
        return {t.code: t for t in TagCatalog.objects.filter(code__in=[code for code, _, _ in TAGS])}

    def _position_tags(self, positions: list[Position], needs: dict, tags: dict, actor: User) -> None:
        rows = [
            PositionTag(position=position, tag=tags[code], min_level=level, required=required)
            for position in positions
            for code, level, required in needs[position.code]
        ]
        rows = PositionTag.objects.bulk_create(rows)
        TagChangeLog.objects.bulk_create(
            unsaved(
                TagChangeLog,
                [
                    self._tag_log(
                        TagTarget.POSITION, row, actor, position_id=row.position_id, after=position_tag_snapshot(row)
                    )
                    for row in rows
                ],
            )
        )

    def _requirements(self, rng: random.Random, positions: list[Position], employees: int) -> None:
        """A base requirement per position sized so some are short, some met, some over; some temporary peaks."""
        per_position = max(1.0, employees * 0.6 / max(1, len(positions)))
        rows = []
        for position in positions:
            headcount = max(1, round(per_position * rng.uniform(0.6, 1.3)))
            # required_weekly_hours holds at most 99,999.99 h (7 digits): at 100,000 employees a base requirement of
            # ~2,000 people would overflow it, so the largest ones are capped (those positions show as over-staffed).
            headcount = min(headcount, int(MAX_REQUIRED_HOURS // position.standard_weekly_hours))
            rows.append(
                CoverageRequirement(
                    position=position,
                    valid_from=self.cal.monday - 26 * ONE_WEEK,
                    required_headcount=headcount,
                    required_weekly_hours=position.standard_weekly_hours * headcount,
                    priority=rng.randint(2, 4),
                    notes="Base staffing",
                )
            )
            if rng.random() < 0.4:  # a seasonal peak starting on a Wednesday
                start = self.cal.monday + rng.randint(-2, 6) * ONE_WEEK + 2 * ONE_DAY
                extra = rng.randint(1, 3)
                rows.append(
                    CoverageRequirement(
                        position=position,
                        valid_from=start,
                        valid_to=start + rng.randint(4, 10) * ONE_WEEK - ONE_DAY,
                        required_headcount=extra,
                        required_weekly_hours=position.standard_weekly_hours * extra,
                        priority=1,
                        notes="Seasonal peak",
                    )
                )
        CoverageRequirement.objects.bulk_create(rows)

    @staticmethod
    def _tag_log(target_type: str, row, actor: User, *, after: dict, **subject) -> dict:
        """A ``TagChangeLog`` row by attname, for ``unsaved`` (relations by id: no related-object assignment per row,
        ADR 0041; no ``Model.__init__`` per row, ADR 0052)."""
        return {
            "action": TagAction.ADD,
            "target_type": target_type,
            "target_id": row.pk,
            "tag_id": row.tag_id,
            "before": None,
            "after": after,
            "actor_id": actor.pk,
            "actor_email": actor.email,
            "request_id": REQUEST_ID,
            **subject,
        }

    def org_view(self) -> OrgView:
        root = OrgUnit.objects.get(code=ROOT_CODE)
        positions = (
            Position.objects.filter(org_unit__path__startswith=root.path, is_active=True)
            .select_related("org_unit")
            .prefetch_related("tags__tag")
            .order_by("code")
        )
        teams: dict[str, list[PositionView]] = defaultdict(list)
        for position in positions:
            needs = tuple(sorted((pt.tag.code, pt.min_level, pt.required) for pt in position.tags.all()))
            teams[position.org_unit.code].append(PositionView(position.code, needs))
        if not teams:
            raise CommandError(f"The demo organisation ({ROOT_CODE}) has no active positions to assign people to.")
        certifications = frozenset(
            TagCatalog.objects.filter(category=TagCategory.CERTIFICATION).values_list("code", flat=True)
        )
        return OrgView(tuple((code, tuple(ps)) for code, ps in sorted(teams.items())), certifications)

    # employees ---------------------------------------------------------------------------------------------

    @staticmethod
    def missing(wanted: int) -> list[int]:
        """The indices of the demo employees missing among the first ``wanted``."""
        present = set(
            Employee.objects.filter(employee_number__startswith=NUMBER_PREFIX).values_list("employee_number", flat=True)
        )
        return [i for i in range(wanted) if employee_number(i) not in present]

    def add_employees(self, wanted: int) -> int:
        """Add the demo employees missing among the first ``wanted``; returns how many were added."""
        missing = self.missing(wanted)
        if not missing:
            return 0
        org = self.org_view()
        users = self._users()
        self.hr = users["hr"]
        linked = Employee.objects.filter(user=users["employee"]).exists()
        self.employee_user = None if linked else users["employee"]
        self.tags = {t.code: t for t in TagCatalog.objects.all()}
        self.tags_by_pk = {t.pk: t for t in self.tags.values()}
        self.units = dict(
            OrgUnit.objects.filter(path__startswith=OrgUnit.objects.get(code=ROOT_CODE).path).values_list("code", "pk")
        )
        self.positions = {
            p.code: p
            for p in Position.objects.filter(code__in=[p.code for _, ps in org.teams for p in ps]).select_related(
                "org_unit"
            )
        }
        batches = [missing[k : k + self.batch] for k in range(0, len(missing), self.batch)]
        for number, indices in enumerate(batches, start=1):
            began = time.perf_counter()
            before = Counter(self.totals)
            # The batch's objects live until it commits: the cyclic collector would walk them again and again to
            # find almost nothing; one full collection after the batch instead (ADR 0052).
            with collector_paused():
                plans = [plan_employee(self.seed, i, org, self.cal) for i in indices]
                with transaction.atomic():
                    triggers.checks_without_exceptions()  # every row trigger's ignore check, cheap (ADR 0037)
                    with statements_ahead():  # writes nobody reads back run while Python goes on (ADR 0047)
                        self._write(plans)
            done = self.totals - before
            self.say(
                f"batch {number}/{len(batches)}: {done['employees']} employees "
                f"({self.totals['employees']}/{len(missing)}), "
                f"{done['employee tags']} tags, {done['employee transitions']} employee transitions, "
                f"{done['assignments']} assignments, {done['assignment transitions']} assignment transitions, "
                f"{done['shifts']} shifts ({time.perf_counter() - began:.1f} s)"
            )
        return len(missing)

    @contextlib.contextmanager
    def _phase(self, name: str):
        """Adds the block's seconds to ``name``'s; a phase inside another counts in its own only."""
        began = time.perf_counter()
        self._inner.append(0.0)
        try:
            yield
        finally:
            spent = time.perf_counter() - began
            self.seconds[name] += spent - self._inner.pop()
            if self._inner:
                self._inner[-1] += spent

    def _write(self, plans: list[EmployeePlan]) -> None:
        with self._phase("employees and tags"):
            employees = self._create_employees(plans)
            self._create_employee_tags(plans, employees)
        with self._phase("employee activations"):
            self._perform(
                EMPLOYEE_TRANSITIONS,
                [(employees[p.index].pk, [Step("activate", p.hire_date)]) for p in plans if p.activate],
            )
        with self._phase("assignment proposals"):
            proposed = self._propose(plans, employees)
        self._analyze_in_load(*IN_LOAD_STATISTICS)
        with self._phase("assignment transitions"):
            self._perform(
                ASSIGNMENT_TRANSITIONS,
                [(a.pk, plan.steps) for a, plan in proposed],
                after_round=lambda: self._analyze_in_load(*AFTER_ROUND_STATISTICS),
            )
        with self._phase("leave, suspensions, terminations"):
            self._perform(EMPLOYEE_TRANSITIONS, [(employees[p.index].pk, p.later) for p in plans if p.later])
        with self._phase("clock events"):
            self._clock(plans, employees)

    def _create_employees(self, plans: list[EmployeePlan]) -> dict[int, Employee]:
        user_id = self.employee_user.pk if self.employee_user is not None else None
        rows = unsaved(
            Employee,
            [
                {
                    "employee_number": p.number,
                    "first_name": p.first_name,
                    "last_name": p.last_name,
                    "email": p.email,
                    "org_unit_id": self.units[p.team],
                    "contracted_weekly_hours": Decimal(p.contract),
                    "hire_date": p.hire_date,
                    "user_id": user_id if p.index == 0 else None,
                }
                for p in plans
            ],
        )
        created = bulk_create_with_history(Employee, rows, batch_size=1000)
        assert all(e.pk for e in created), "bulk_create must return primary keys (PostgreSQL, SQLite ≥ 3.35)"
        self.totals["employees"] += len(created)
        return {p.index: e for p, e in zip(plans, created, strict=True)}

    def _create_employee_tags(self, plans: list[EmployeePlan], employees: dict[int, Employee]) -> None:
        rows = unsaved(
            EmployeeTag,
            [
                {
                    "employee_id": employees[p.index].pk,
                    "tag_id": self.tags[code].pk,
                    "level": level,
                    "valid_from": since,
                    "valid_until": until,
                }
                for p in plans
                for code, level, since, until in p.tags
            ],
        )
        cache_tag = EmployeeTag.tag.field.set_cached_value  # the snapshot reads the tag's code
        for row in rows:
            cache_tag(row, self.tags_by_pk[row.tag_id])
        rows = bulk_create_with_history(EmployeeTag, rows, batch_size=2000)
        TagChangeLog.objects.bulk_create(
            unsaved(
                TagChangeLog,
                [
                    self._tag_log(
                        TagTarget.EMPLOYEE, row, self.hr, employee_id=row.employee_id, after=employee_tag_snapshot(row)
                    )
                    for row in rows
                ],
            ),
            batch_size=2000,
        )
        self.totals["employee tags"] += len(rows)

    def _propose(
        self, plans: list[EmployeePlan], employees: dict[int, Employee]
    ) -> list[tuple[Assignment, AssignmentPlan]]:
        """The proposals, through ``assignments_create_many`` (``assignment_create``'s checks, batched); round by round
        — every employee's first proposal, then every second one ... — so each round is one insert."""
        rounds = max((len(p.assignments) for p in plans), default=0)
        specs = [(p, p.assignments[k]) for k in range(rounds) for p in plans if k < len(p.assignments)]
        made = assignments_create_many(
            actor=self.hr,
            proposals=[
                {
                    "employee": employees[p.index],
                    "position": self.positions[spec.position],
                    "start_date": spec.start,
                    "end_date": spec.end,
                    "weekly_hours": spec.hours,
                }
                for p, spec in specs
            ],
            acknowledge_warnings=True,
        )
        self.totals["assignments"] += len(made)
        return [(assignment, spec) for (assignment, _), (_, spec) in zip(made, specs, strict=True)]

    def _analyze_in_load(self, *tables: str) -> None:
        """``ANALYZE`` the tables the next statements of this batch read, inside the batch's transaction (ADR 0043).

        Autovacuum cannot analyse rows nobody else can see yet, so without this the batch's queries are planned
        without statistics: the rules' open assignments (employee and state) and the ledger hooks' postings (employee
        or assignment, kind, not reversed) were then read through the state and kind indexes — every open assignment
        and every posting of the kind, not the batch's — about 15 times the time with statistics at 25,000 employees,
        and growing with the tables. ``ANALYZE`` samples the rows this transaction wrote (PostgreSQL counts its own
        inserts); it holds a SHARE UPDATE EXCLUSIVE lock on each table until the batch commits (other sessions'
        reads and writes go on; their VACUUM and ANALYZE of these tables wait). PostgreSQL only.
        """
        if connection.vendor != "postgresql":
            return
        with self._phase("statistics in the load (ANALYZE)"), connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(connection.ops.quote_name(table) for table in tables)}")

    def _perform(
        self,
        kind: TransitionKind,
        items: Iterable[tuple[int, list[Step]]],
        *,
        after_round: Callable[[], None] | None = None,
    ) -> None:
        """Each object's steps in order; step k of every object is one round, batched by (date, name, reason);
        ``after_round`` runs between two rounds."""
        items = list(items)
        counter = f"{kind.event_prefix} transitions"
        rounds = max((len(steps) for _, steps in items), default=0)
        for round_ in range(rounds):
            if round_ and after_round is not None:
                after_round()
            groups: dict[tuple, list[int]] = defaultdict(list)
            for pk, steps in items:
                if round_ < len(steps):
                    step = steps[round_]
                    groups[(step.day, step.name, step.reason)].append(pk)
            for (day, name, reason), pks in sorted(groups.items()):
                request = TransitionRequest(
                    name=name, actor=self.hr, reason=reason, effective_date=day, acknowledge_warnings=True
                )
                outcomes = transition_perform_many(kind=kind, pks=pks, request=request)
                self.totals[counter] += len(outcomes)
                cascaded = sum(len(o.cascaded) for o in outcomes)
                self.totals["assignment transitions"] += cascaded

    def _clock(self, plans: list[EmployeePlan], employees: dict[int, Employee]) -> None:
        for p in plans:
            own = p.index == 0 and self.employee_user is not None
            actor = self.employee_user if own else self.hr
            for began, ended in p.shifts:
                employee_id = None if own else employees[p.index].pk
                clock_in(actor=actor, employee_id=employee_id, at=began)
                clock_out(actor=actor, employee_id=employee_id, at=ended)
                self.totals["shifts"] += 1

    # summary -----------------------------------------------------------------------------------------------

    @staticmethod
    def demo_counts() -> dict[str, dict[str, int]]:
        employees = Employee.objects.filter(employee_number__startswith=NUMBER_PREFIX)
        assignments = Assignment.objects.filter(employee__employee_number__startswith=NUMBER_PREFIX)
        return {
            "employees": dict(employees.values_list("state").annotate(n=Count("id")).order_by("state")),
            "assignments": dict(assignments.values_list("state").annotate(n=Count("id")).order_by("state")),
        }


def analyze() -> float | None:
    """``ANALYZE`` the database (PostgreSQL): after a bulk load autovacuum may not have run yet, and without statistics
    the planner guesses table sizes, picks sequential scans and lists' estimated counts are wrong. Returns seconds."""
    if connection.vendor != "postgresql":
        return None
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - began


class Command(BaseCommand):
    help = "Build (or top up) a believable demo organisation through the real services. Refuses with DEBUG off."

    def add_arguments(self, parser):
        parser.add_argument("--employees", type=int, default=200, help="How many demo employees there should be.")
        parser.add_argument("--seed", type=int, default=42, help="Random seed: the same seed gives the same people.")
        parser.add_argument("--batch", type=int, default=25000, help="Employees written per transaction.")
        parser.add_argument("--quiet", action="store_true", help="Print nothing.")
        parser.add_argument(
            "--force", action="store_true", help="Run even with DEBUG off (production-like settings). Think twice."
        )

    @staticmethod
    def _load(seeder: DemoSeeder, employees: int, say: Callable[[str], None]) -> tuple[bool, int]:
        """The organisation (unless there) and the missing employees, with the weekly rollups rebuilt once at the end
        instead of by their triggers row by row (``rollups_suspended_for_load``, ADR 0024)."""
        with rollups_suspended_for_load() as horizon:
            created = seeder.ensure_organisation(employees)
            if not created:
                say(f"Demo organisation ({ROOT_CODE}) found: adding only what is missing.")
            added = seeder.add_employees(employees)
            rebuilding = time.perf_counter()
        seeder.seconds["weekly rollups rebuilt"] += time.perf_counter() - rebuilding
        if horizon:
            say(f"Weekly rollups rebuilt from {horizon[0]} to {horizon[1]} ({time.perf_counter() - rebuilding:.1f} s).")
        return created, added

    def handle(self, *args, employees: int, seed: int, batch: int, quiet: bool, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "Refusing to seed demo data: DEBUG is off, so these look like production settings, and the demo "
                f"creates users with the published password '{DEMO_PASSWORD}'. Use --force if you really mean it."
            )
        if employees < 0 or batch < 1:
            raise CommandError("--employees must be 0 or more and --batch at least 1.")

        def say(line: str) -> None:
            if not quiet:
                self.stdout.write(line)

        seeder = DemoSeeder(seed=seed, batch=batch, say=say)
        began = time.perf_counter()
        token = current_request_id.set(REQUEST_ID)
        created = added = 0
        try:
            if not OrgUnit.objects.filter(code=ROOT_CODE).exists() or seeder.missing(employees):
                created, added = self._load(seeder, employees, say)
        finally:
            current_request_id.reset(token)

        if created or added:
            analyzed = analyze()
            if analyzed is not None:
                say(f"ANALYZE: planner statistics refreshed ({analyzed:.1f} s).")
        present = Employee.objects.filter(employee_number__startswith=NUMBER_PREFIX).count()
        if not created and not added:
            say(f"Nothing to do: the demo already has {present} employees (asked for {employees}).")
            return
        counts = seeder.demo_counts()
        say(f"Done in {time.perf_counter() - began:.1f} s: {present} demo employees.")
        for name, seconds in seeder.seconds.items():
            say(f"  {name:<34} {seconds:7.1f} s")
        say("  employees by state:   " + ", ".join(f"{k} {v}" for k, v in counts["employees"].items()))
        say("  assignments by state: " + ", ".join(f"{k} {v}" for k, v in counts["assignments"].items()))
        say(f"Demo users (password '{DEMO_PASSWORD}'):")
        for handle, role, _, _ in USERS:
            say(f"  {handle + '@' + EMAIL_DOMAIN:<30} {role}")
