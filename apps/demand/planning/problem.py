"""The auto-plan's input, built from the database: gaps to close, people who could close them, and the rules.

Everything the solver reads is loaded here in a fixed number of queries (per week of the period, not per
employee or position), then filtered in Python into *pairs* (employee, position) that may become a proposal:

- **gaps**: the coverage report's open gap per position and ISO week (``apps.demand.coverage``), and the
  priority of the requirement behind it;
- **people**: the caller's pool (in scope, not terminated), narrowed in SQL to active employees employed over
  the whole period; their weekly free hours per week from the same supply SQL as candidate matching
  (``apps.demand.supply``) less the hours of proposals still pending; the tags the positions need;
- **eligibility per pair**: every required tag at level, valid over the whole period; no open assignment to the
  same position overlapping it; and every active ``block`` rule for ``assignment.create`` and
  ``assignment.approve`` in scope, evaluated by the engine (``apps.business_rules.engine``) as a what-if.
  Rule types whose verdict depends on the *other* proposals of the plan (``max_weekly_hours``,
  ``max_concurrent_assignments``) or on the hours chosen (``assignment_hours_bounds``) become solver
  constraints instead (``RuleLimits``); the solved plan is then checked again by the engine as a whole
  (``verify.py``).

Why each pair was left out is counted per position, so a gap that stays open can say why in words.
"""

import datetime
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, QuerySet

from apps.api.choices import EmployeeState
from apps.api.models import Employee, Position
from apps.api.timezones import todays_by_unit
from apps.assignments.choices import COMMITTED_STATES, AssignmentState
from apps.assignments.models import Assignment
from apps.business_rules.choices import Outcome, Severity
from apps.business_rules.engine import applicable_rules, evaluate_rule
from apps.business_rules.facts import Facts, Interval, peak
from apps.demand.candidates import (
    EMPLOYEE_FIELDS,
    fmt_hours,
    open_assignments_by_employee,
    tags_by_employee,
    what_if_rules,
)
from apps.demand.coverage import coverage_by_position_week
from apps.demand.models import CoverageRequirement
from apps.demand.periods import Period
from apps.demand.supply import supply_by_employee
from apps.tags.models import EmployeeTag, PositionTag

EVENTS = ("assignment.create", "assignment.approve")
# Rule types the solver models as constraints over the whole plan (the engine re-checks the result).
PLAN_RULE_TYPES = frozenset({"max_weekly_hours", "max_concurrent_assignments", "assignment_hours_bounds"})
# Up to this many employees every qualifying person is a candidate for every position (no cap at all).
UNCAPPED_POOL = 60


@dataclass
class Week:
    """One ISO week of the plan: its Monday and how many of its days the plan's period covers."""

    monday: datetime.date
    days: int


@dataclass
class Need:
    """A position's open gap (hours) per week, and the priority of the demand behind it (1 highest)."""

    position: Position
    gap: dict[datetime.date, Decimal]
    before: dict[datetime.date, dict]
    priority: int
    required_tags: list[PositionTag]

    @property
    def open(self) -> bool:
        return any(g > 0 for g in self.gap.values())


@dataclass
class Person:
    """An employee who may be planned: weekly free hours per week, load already committed, contract."""

    employee: Employee
    free: dict[datetime.date, Decimal]
    contracted: Decimal
    committed_peak: Decimal
    committed_count: int
    open_count: int
    open_assignments: list[Assignment]

    @property
    def used(self) -> int:
        """Whole hours a week already taken in the tightest week (contract − free)."""
        return math.ceil(self.contracted - min(self.free.values(), default=self.contracted))

    @property
    def capacity(self) -> int:
        """Whole hours a week the plan may still give this person (the tightest week counts)."""
        return max(0, math.floor(min(self.free.values(), default=Decimal(0))))

    def tightest_week(self) -> datetime.date | None:
        return min(self.free, key=lambda w: (self.free[w], w)) if self.free else None


@dataclass
class Pair:
    """An (employee, position) that may become a proposal, with the hours range the rules allow."""

    employee_id: int
    position_id: int
    low: int
    high: int
    continuity: bool
    warnings: list[dict] = field(default_factory=list)
    tag_notes: list[str] = field(default_factory=list)


@dataclass
class RuleLimits:
    """The plan-wide rules as numbers per employee: hours and concurrency caps, each with the positions in scope."""

    hours: list[tuple[int, str, int, frozenset]] = field(default_factory=list)  # (employee, rule, max h, positions)
    count: list[tuple[int, str, int, frozenset]] = field(default_factory=list)  # (employee, rule, max n, positions)


@dataclass
class Problem:
    """Everything the solver reads. Pure data: the solver and the explanations never query."""

    period: Period
    today: datetime.date | None  # None: each person's own today (their unit's zone)
    min_hours: int
    weeks: list[Week]
    needs: dict[int, Need]
    people: dict[int, Person]
    pairs: list[Pair]
    limits: RuleLimits
    rules: list
    # position id → Counter of why qualifying or not-qualifying people were left out (for the gap reasons)
    excluded: dict[int, Counter] = field(default_factory=dict)
    # position id → the people who hold its tags but could not be planned on it, per reason (a few, for words)
    excluded_people: dict[int, dict[str, list[int]]] = field(default_factory=dict)
    # tag id → how many in the pool hold it at any level valid over the period (explains "nobody holds X")
    holders: dict[tuple[int, int], int] = field(default_factory=dict)
    capped: dict[int, int] = field(default_factory=dict)
    qualified: dict[int, int] = field(default_factory=dict)  # position id → people holding all its tags
    pool_size: int = 0

    def pairs_by_employee(self) -> dict[int, list[Pair]]:
        grouped: dict[int, list[Pair]] = defaultdict(list)
        for pair in self.pairs:
            grouped[pair.employee_id].append(pair)
        return grouped

    def pairs_by_position(self) -> dict[int, list[Pair]]:
        grouped: dict[int, list[Pair]] = defaultdict(list)
        for pair in self.pairs:
            grouped[pair.position_id].append(pair)
        return grouped


def _weeks(period: Period) -> list[Week]:
    weeks = []
    for monday in period.weeks:
        lo, hi = max(monday, period.start), min(monday + datetime.timedelta(days=6), period.end)
        weeks.append(Week(monday, (hi - lo).days + 1))
    return weeks


def _needs(positions: list[Position], period: Period) -> dict[int, Need]:
    rows = coverage_by_position_week(positions=positions, period=period)
    priority: dict[int, int] = {}
    requirements = CoverageRequirement.objects.filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=period.start),
        position__in=[p.pk for p in positions],
        valid_from__lte=period.end,
    ).values_list("position_id", "priority")
    for position_id, value in requirements:
        priority[position_id] = min(priority.get(position_id, 5), value)
    tags: dict[int, list[PositionTag]] = defaultdict(list)
    for tag in (
        PositionTag.objects.filter(position__in=[p.pk for p in positions], required=True)
        .select_related("tag")
        .order_by("tag__code")
    ):
        tags[tag.position_id].append(tag)
    needs = {p.pk: Need(p, {}, {}, priority.get(p.pk, 3), tags.get(p.pk, [])) for p in positions}
    for row in rows:
        week = datetime.date.fromisoformat(row["week"])
        need = needs[row["position"]]
        need.gap[week] = max(Decimal(row["gap_hours"]), Decimal(0))
        need.before[week] = row
    return needs


def _free_hours(pool: QuerySet[Employee], weeks: list[Week], period: Period, pending: dict) -> dict:
    """employee id → {week: weekly free hours} from the supply SQL (one query per week), less pending proposals."""
    free: dict[int, dict] = defaultdict(dict)
    for week in weeks:
        lo = max(week.monday, period.start)
        hi = min(week.monday + datetime.timedelta(days=6), period.end)
        for employee_id, (_l, contracted, leave, assigned, _w) in supply_by_employee(
            employees=pool, start=lo, end=hi
        ).items():
            left = Decimal(str(contracted)) - Decimal(str(leave)) - Decimal(str(assigned))
            rate = left * 7 / week.days
            rate -= sum((a.weekly_hours for a in pending.get(employee_id, []) if _covers(a, lo, hi)), Decimal(0))
            free[employee_id][week.monday] = rate.quantize(Decimal("0.01"))
    return free


def _covers(assignment: Assignment, lo, hi) -> bool:
    return assignment.start_date <= hi and (assignment.end_date is None or assignment.end_date >= lo)


def _tag_ok(need: PositionTag, held: list[EmployeeTag], period: Period) -> bool:
    return any(
        t.tag_id == need.tag_id
        and t.level >= need.min_level
        and t.valid_from <= period.start
        and (t.valid_until is None or t.valid_until >= period.end)
        for t in held
    )


def _plan_rule_bounds(rules: list, position: Position, facts_template: dict) -> tuple[Decimal | None, Decimal | None]:
    """The tightest [min, max] weekly hours the ``assignment_hours_bounds`` block rules in scope allow."""
    low, high = None, None
    for rule in rules:
        if rule.rule_type != "assignment_hours_bounds" or rule.severity != Severity.BLOCK:
            continue
        params = rule.params or {}
        if "min_hours" in params:
            value = Decimal(str(params["min_hours"]))
            low = value if low is None else max(low, value)
        if "max_hours" in params:
            value = Decimal(str(params["max_hours"]))
            high = value if high is None else min(high, value)
    return low, high


def problem_build(
    *,
    period: Period,
    positions: QuerySet[Position],
    pool: QuerySet[Employee],
    today: datetime.date | None = None,
    min_hours: int = 4,
    max_candidates: int = 40,
) -> Problem:
    """Load and pre-filter everything a plan over ``period`` for ``positions`` with people from ``pool`` needs.

    Rules are judged on ``today``, or, when None, on today where each person works (their unit's zone; the
    position's for what is judged before a person is chosen): a plan may span units in several zones.
    """
    weeks = _weeks(period)
    needs = _needs(list(positions.select_related("org_unit").order_by("code", "pk")), period)
    open_needs = {pk: n for pk, n in needs.items() if n.open}

    # People: active, hired by the start, not leaving before the end (SQL); the rest is what they hold and do.
    people_qs = (
        pool.filter(state=EmployeeState.ACTIVE, hire_date__lte=period.start)
        .filter(Q(termination_date__isnull=True) | Q(termination_date__gte=period.end))
        .only(*EMPLOYEE_FIELDS)
        .select_related("org_unit")
        .order_by("pk")
    )
    employees = list(people_qs)
    ids = [e.pk for e in employees]
    today_in = (
        (lambda _unit: today)
        if today is not None
        else todays_by_unit({e.org_unit_id for e in employees} | {n.position.org_unit_id for n in open_needs.values()})
    )
    open_by: dict[int, list[Assignment]] = {}
    if ids and open_needs:
        open_by = open_assignments_by_employee(employees=people_qs, start=period.start, end=period.end)
    pending = {k: [a for a in v if a.state == AssignmentState.PROPOSED] for k, v in open_by.items()}
    free = _free_hours(people_qs, weeks, period, pending) if ids and open_needs else {}

    people: dict[int, Person] = {}
    for e in employees:
        mine = open_by.get(e.pk, [])
        committed = [Interval(a.start_date, a.end_date, a.weekly_hours) for a in mine if a.state in COMMITTED_STATES]
        load, _d, _a = peak(committed, period.start, period.end, weight="hours")
        count, _d, _a = peak(committed, period.start, period.end, weight="count")
        opened = [Interval(a.start_date, a.end_date, a.weekly_hours) for a in mine]
        open_count, _d, _a = peak(opened, period.start, period.end, weight="count")
        people[e.pk] = Person(
            e,
            free.get(e.pk, {w.monday: Decimal(0) for w in weeks}),
            Decimal(e.contracted_weekly_hours),
            load,
            int(count),
            int(open_count),
            mine,
        )

    tag_ids = {t.tag_id for n in open_needs.values() for t in n.required_tags}
    held: dict[int, list[EmployeeTag]] = {}
    if tag_ids and ids:
        held = tags_by_employee(employees=people_qs, wanted=Q(tag_id__in=tag_ids))
    # (tag, min level) → ids of the people holding it at that level over the whole period: set algebra, so a
    # position's qualified people cost one intersection, not a scan of the pool per position.
    holding: dict[tuple[int, int], set[int]] = {}
    for need in open_needs.values():
        for pt in need.required_tags:
            key = (pt.tag_id, pt.min_level)
            if key not in holding:
                holding[key] = {e for e, tags in held.items() if _tag_ok(pt, tags, period)}
    holders = {key: len(found) for key, found in holding.items()}

    continuity = (
        set(
            Assignment.objects.filter(
                employee__in=people_qs.values("pk"),
                position__in=list(open_needs),
                state__in=[AssignmentState.APPROVED, AssignmentState.ACTIVE, AssignmentState.COMPLETED],
            )
            .values_list("employee_id", "position_id")
            .distinct()
        )
        if ids and open_needs
        else set()
    )

    all_rules = what_if_rules(EVENTS)
    problem = Problem(
        period=period,
        today=today,
        min_hours=min_hours,
        weeks=weeks,
        needs=needs,
        people=people,
        pairs=[],
        limits=RuleLimits(),
        rules=all_rules,
        holders=holders,
        pool_size=len(employees),
    )
    hours_scope: dict[tuple[int, str], set] = defaultdict(set)
    count_scope: dict[tuple[int, str], set] = defaultdict(set)
    hours_cap: dict[tuple[int, str], int] = {}
    count_cap: dict[tuple[int, str], int] = {}
    everyone = {e.pk for e in employees}
    by_pk = {e.pk: e for e in employees}
    qualified_by_position: dict[int, set[int]] = {}
    for pk, need in open_needs.items():
        found = set(everyone)
        for pt in need.required_tags:
            found &= holding[(pt.tag_id, pt.min_level)]
        qualified_by_position[pk] = found
    problem.qualified = {pk: len(found) for pk, found in qualified_by_position.items()}
    capped = len(employees) > UNCAPPED_POOL
    # Above the cap, wide positions take turns over the pool, most free hours first (a rotating cursor): each
    # examines only the people it keeps, and the candidates spread over positions instead of piling on the same few.
    by_capacity = sorted(everyone, key=lambda pk: (-people[pk].capacity, pk))
    cursor = 0
    # Scarce positions (fewest qualified people, highest priority) pick their candidates first.
    order = sorted(open_needs, key=lambda pk: (len(qualified_by_position[pk]), open_needs[pk].priority, pk))
    for position_id in order:
        need = open_needs[position_id]
        position = need.position
        excluded: Counter = Counter()
        who: dict[str, list[int]] = defaultdict(list)
        rules_by_event = {}
        for event in EVENTS:
            template = Facts(
                event=event,
                position=position,
                start_date=period.start,
                end_date=period.end,
                weekly_hours=Decimal(min_hours),
                effective_date=period.start if event == "assignment.create" else today_in(position.org_unit_id),
            )
            rules_by_event[event] = applicable_rules(event, template, all_rules)
        scoped = [r for rs in rules_by_event.values() for r in rs]
        low_rule, high_rule = _plan_rule_bounds(scoped, position, {})
        low = max(min_hours, math.ceil(low_rule)) if low_rule is not None else min_hours
        widest_gap = max((need.gap[w.monday] * 7 / w.days for w in weeks if need.gap.get(w.monday)), default=0)
        high_need = math.ceil(widest_gap)
        high_cap = math.floor(high_rule) if high_rule is not None else 168
        found: list[Pair] = []
        qualified = qualified_by_position[position_id]
        if not capped or len(qualified) <= 2 * max_candidates:
            sequence = sorted(qualified, key=lambda pk: (-people[pk].capacity, pk))
        else:
            first = sorted(pk for pk in qualified if (pk, position_id) in continuity)
            rotated = by_capacity[cursor:] + by_capacity[:cursor]
            sequence = first + [pk for pk in rotated if pk in qualified and (pk, position_id) not in continuity]
        examined = 0
        for employee_id in sequence:
            if capped and len(found) >= max_candidates:
                break
            examined += 1
            e = by_pk[employee_id]
            person = people[e.pk]
            mine = person.open_assignments
            if any(a.position_id == position_id for a in mine):
                excluded["already_assigned"] += 1
                who["already_assigned"].append(e.pk)
                continue
            high = min(person.capacity, high_need, high_cap)
            if high < low:
                excluded["no_free_hours"] += 1
                who["no_free_hours"].append(e.pk)
                continue
            blocked, warnings = [], []
            for event, rules in rules_by_event.items():
                facts = Facts.preloaded(
                    event,
                    other_open_assignments=mine,
                    employee_tags=held.get(e.pk, []),
                    position_tags=need.required_tags,
                    employee=e,
                    position=position,
                    start_date=period.start,
                    end_date=period.end,
                    weekly_hours=Decimal(low),
                    effective_date=period.start if event == "assignment.create" else today_in(e.org_unit_id),
                    reason="auto-plan",
                )
                for rule in rules:
                    if rule.rule_type in PLAN_RULE_TYPES:
                        _limit(rule, e, person, position_id, hours_scope, count_scope, hours_cap, count_cap)
                        continue
                    result = evaluate_rule(rule, facts)
                    if result["outcome"] == Outcome.FAIL:
                        (blocked if rule.severity == Severity.BLOCK else warnings).append(result)
            if blocked:
                for r in {r["rule"] for r in blocked}:
                    excluded[f"rule:{r}"] += 1
                    who[f"rule:{r}"].append(e.pk)
                continue
            warn = {r["rule"]: {"rule": r["rule"], "message": r["message"]} for r in warnings}
            found.append(Pair(e.pk, position_id, low, high, (e.pk, position_id) in continuity, list(warn.values())))
        if examined < len(sequence):
            problem.capped[position_id] = len(sequence) - examined
            if len(sequence) > 2 * max_candidates:
                cursor = (cursor + examined) % max(1, len(by_capacity))
        problem.pairs.extend(found)
        problem.excluded[position_id] = excluded
        problem.excluded_people[position_id] = dict(who)
    for key, positions_in_scope in hours_scope.items():
        problem.limits.hours.append((key[0], key[1], hours_cap[key], frozenset(positions_in_scope)))
    for key, positions_in_scope in count_scope.items():
        problem.limits.count.append((key[0], key[1], count_cap[key], frozenset(positions_in_scope)))
    problem.pairs.sort(key=lambda p: (p.position_id, p.employee_id))
    return problem


def _limit(rule, employee, person: Person, position_id, hours_scope, count_scope, hours_cap, count_cap) -> None:
    """Record a plan-wide rule as a cap on this employee's plan (hours left, or assignments left)."""
    if rule.severity != Severity.BLOCK:
        return
    params = rule.params or {}
    key = (employee.pk, rule.code)
    if rule.rule_type == "max_weekly_hours":
        limits = []
        if "max_hours" in params:
            limits.append(Decimal(str(params["max_hours"])))
        if "max_percent_of_contract" in params:
            pct = Decimal(str(params["max_percent_of_contract"]))
            limits.append((employee.contracted_weekly_hours * pct / 100).quantize(Decimal("0.01")))
        if limits:
            hours_scope[key].add(position_id)
            hours_cap[key] = max(0, math.floor(min(limits) - person.committed_peak))
    elif rule.rule_type == "max_concurrent_assignments" and "max" in params:
        count_scope[key].add(position_id)
        already = person.open_count if params.get("count_proposed") else person.committed_count
        count_cap[key] = max(0, int(params["max"]) - already)


def describe_hours(value) -> str:
    return fmt_hours(Decimal(value))
