"""Candidate shortlisting in PostgreSQL: which employees can reach the top of the ranking, without Python per person.

``candidate_rank`` (apps/demand/candidates.py) ranks in Python, one employee at a time, with every reason and
rule explanation. Doing that for the whole pool costs time in proportion to headcount, so on PostgreSQL one
query first computes, for every employee of the pool, the exact sort key of the ranking — fits, score, free
hours, employee number, id — and returns only:

- ``considered`` (the pool's size) and ``fitting`` (how many fit, among the employees the SQL could decide);
- the ``limit`` best decided employees, with their supply numbers;
- every *undecided* employee (below), with theirs.

Python then ranks just those rows with the same ``_rank_one`` as before (reasons, rule explanations, the
score and the order all come from it), so the body is identical to ranking everyone in Python: any employee
in the true top ``limit`` is either undecided or among the ``limit`` best decided ones.

**The qualified first.** Only a *qualified* employee — active, holding every required tag at its level over the
whole period — can fit, and a decided fitting employee scores 100 (95 with a failing warning). So the query
computes the keys of the qualified first; when at least ``limit`` of them fit, the page and ``fitting`` are
decided among them, ordered by (warning, free hours, employee number, id). Otherwise the page reaches people who
do not fit, ranked by score: the same query then ranks the *holders* of every required tag (any state; the active
ones are the qualified, whose keys it has) and, when the page's last decided row among them scores above what anyone
missing a required tag can reach (``outranking_without_a_tag``), decides the page there (ADR 0038); otherwise it
computes every pool member's key. A gate inside the query picks the side; PostgreSQL never starts the others (ADR
0012, amendment).

**The bounded visit first** (ADR 0036). Before both, the query visits the qualified in descending order of a maintained
upper bound of their free hours (``demand_candidatebound``, apps/demand/candidate_bounds.py: for periods of a week or
more the largest average over 7–13 days, ADR 0042, otherwise the day's maximum; then employee number and id, by one
partial index per bound over the active people's rows, ADR 0050) and computes the keys of the first
``visit_size(limit)`` only, each person's rows read through the employee index. When ``limit`` of them fit and the
``limit``-th has no warning and a key before the next unvisited person's best possible one (free hours = their bound),
nobody unvisited can reach the page: the page is decided there and ``fitting`` counts the visited fitters only (a lower
bound, ``fitting_exact`` false). Otherwise the two ways above, as before. Used only while the rollups hold a horizon
(the bounds' triggers do nothing without one) and for periods starting on or after the day the bounds hold from.

**The holders' visit next** (ADR 0045). When the first visit does not decide (too few of the visited fit: on the seeds
nobody fits the positions' standard hours), the query computes every holder's *best possible key* from their employee
row, tags and bounds row only (ADR 0049: free hours from the maintained bounds, ``max_weekly_hours`` known to fail from
the committed-hours bound, the row-only rules exact, anything else may pass; no assignment and no ledger read; computed
in one pass streamed into the top-N, ADR 0050) — and visits the holders in that order, computing the exact keys of the
first ``visit_size(limit)`` only, each person's rows read through the employee index. When the ``limit``-th decided
visited row scores above anyone missing a tag (as the holders' side) and its key is before the next unvisited holder's
best possible one (or nobody is left), nobody unvisited can reach the page: it is decided there. ``fitting`` counts the
visited fitters and is exact when nobody unvisited could fit (the visit takes everyone who could fit first), a lower
bound otherwise. Otherwise the qualified, holders' and pool's sides, as before. Same horizon and window conditions as
the first visit.

**Rules in SQL.** The ``assignment.approve`` rules decide ``fits`` and a tenth of the score. Each rule type
that can be stated per employee in SQL has a compiler in ``RULE_SQL`` giving an expression that is 1 (fails),
0 (passes) or NULL (SQL cannot tell cheaply: Python decides). Exact for ``employee_state``, ``required_tags``,
``no_overlap_same_position``, ``before_termination``; ``assignment_hours_bounds`` does not depend on the
employee (evaluated once in Python); ``max_weekly_hours`` and ``max_concurrent_assignments`` are exact for
someone with at most one committed assignment overlapping the period and bounded otherwise (the peak lies
between the largest single assignment and their sum, each plus the what-if), NULL only when the bounds
straddle the limit. A rule type without a compiler (a new one) is NULL for everyone: correct, only slower,
until it gets one. An employee is undecided when a NULL could change their fit or score; one already out
(an overlapping assignment to the position, or a blocking rule known to fail) is decided.

**Exactness of the key.** The supply numbers returned for the page's rows are apps/demand/supply.py's, expression
for expression (the same numeric values Python reads). The key itself is cheaper (ADR 0033): free hours are kept in
cents; for the contract source (no ledger entry) they are computed in integers — contracted minus assigned hours is
N / 700 with N = Σ hundredths of an hour × days, so free hours in cents are N / period days rounded half away from
zero, what the numeric expression rounds to except at an exact half-cent tie, where that numeric expression itself
decides; for the ledger source they are the numeric expression over the ledger sums. Assignment hours are summed
in integer cents. Whether someone is on the ledger comes from ``demand_ledgerlessemployee`` (apps/demand/rollups.py)
while the rollups hold a horizon (the list is kept by trigger then), from the ledger itself otherwise. The score is
rounded half-even to a tenth like ``Decimal.quantize``; employee numbers compare in the "C" collation (code point
order, like Python strings).
"""

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from apps.api.choices import EmployeeState
from apps.api.models import Employee, Position
from apps.assignments.choices import COMMITTED_STATES, OPEN_STATES
from apps.assignments.models import Assignment
from apps.business_rules.choices import Outcome, Severity
from apps.business_rules.engine import evaluate_rule
from apps.business_rules.facts import Facts
from apps.business_rules.registry import REGISTRY
from apps.demand.candidate_bounds import BOUNDS, WEEK_MIN_DAYS, WINDOW_DAYS
from apps.demand.choices import COVERING_STATES
from apps.demand.rollups import EMP, HORIZON, LEDGERLESS
from apps.demand.sql import DateSQL, in_list, queryset_sql
from apps.demand.supply import LEDGER, POOL_COLUMNS, ledger_sums_sql
from apps.tags.models import EmployeeTag, PositionTag, TagCatalog

ASG = Assignment._meta.db_table
ETAG = EmployeeTag._meta.db_table
TAG = TagCatalog._meta.db_table
# Free hours (in cents) above anyone's: the bound of someone whose row of demand_candidatebound is missing.
UNBOUNDED_CENTS = 10**12


@dataclass
class RuleContext:
    """What a rule compiler may read: the what-if's constants. SQL may use ``e`` (the employee's
    ``supply.POOL_COLUMNS``), the per-employee aggregates ``ov.n_committed``, ``ov.sum_committed``,
    ``ov.max_committed``, ``ov.n_open``, ``ov.clashes`` (open assignments overlapping the period; never NULL), and
    ``holds()`` flags."""

    position: Position
    position_tags: list[PositionTag]
    start: datetime.date
    end: datetime.date
    hours: Decimal
    template: Facts
    flags: dict = field(default_factory=dict)  # (tag id or code, min level) → column of the ``tf`` CTE

    def holds(self, *, level: int, tag_id: int | None = None, code: str | None = None) -> str:
        """SQL true when the employee holds the tag (by id or catalogue code) at ``level`` or more, by one row
        valid over the whole period; computed once per employee in a single pass over their tags."""
        key = ("id", int(tag_id), int(level)) if tag_id is not None else ("code", str(code), int(level))
        if key not in self.flags:
            self.flags[key] = f"f{len(self.flags)}"
        return f"COALESCE(tf.{self.flags[key]}, FALSE)"

    def implied_by(self, required: list[PositionTag]) -> bool:
        """Whether every flag is known true for anyone holding each of ``required`` at its level by one row valid
        over the whole period (the qualified): each flag asks for one of those tags at that level or lower."""
        held = {
            "id": {pt.tag_id: pt.min_level for pt in required},
            "code": {pt.tag.code: pt.min_level for pt in required},
        }
        return all(tag in held[kind] and level <= held[kind][tag] for (kind, tag, level) in self.flags)

    def tag_flags_sql(
        self, prefix: str = "", implied: list[PositionTag] | None = None, per_person: bool = False
    ) -> tuple[str, list, str]:
        """The ``tf(employee_id, f0, f1, ...)`` CTE behind ``holds()``: one pass over the pool's relevant tags
        (``{prefix}tf`` over ``{prefix}pool``), its params and the join that reads it as ``tf``. With ``implied``
        (the pool is known to hold those tags, see ``implied_by``) and every flag implied, no tag is read: the
        flags are constants."""
        if implied is not None and self.implied_by(implied):
            constants = ", ".join(f"TRUE AS {name}" for name in self.flags.values()) or "TRUE AS none"
            return (
                f"{prefix}tf AS (SELECT NULL::bigint AS employee_id WHERE FALSE)",
                [],
                f"CROSS JOIN (SELECT {constants}) tf",
            )
        join = f"LEFT JOIN {prefix}tf tf ON tf.employee_id = e.id"
        if not self.flags:
            return f"{prefix}tf AS (SELECT NULL::bigint AS employee_id WHERE FALSE)", [], join
        columns, params, ids, codes = [], [], [], []
        for (kind, tag, level), name in self.flags.items():
            match = "t.tag_id = %s" if kind == "id" else "c.code = %s"
            columns.append(f"BOOL_OR({match} AND t.level >= %s) AS {name}")
            params += [tag, level]
            (ids if kind == "id" else codes).append(tag)
        wanted = " OR ".join(
            part
            for part in (
                f"t.tag_id IN ({', '.join(['%s'] * len(ids))})" if ids else "",
                f"c.code IN ({', '.join(['%s'] * len(codes))})" if codes else "",
            )
            if part
        )
        sql = f"""{prefix}tf AS (
        SELECT t.employee_id AS employee_id, {", ".join(columns)}
        FROM {_rows_of(f"{prefix}pool pl", ETAG, "t", per_person)} JOIN {TAG} c ON c.id = t.tag_id
        WHERE ({wanted})
          AND t.valid_from <= %s AND (t.valid_until IS NULL OR t.valid_until >= %s)
        GROUP BY t.employee_id
    )"""  # noqa: S608 -- table names are constants; values are parameters
        return sql, [*params, *ids, *codes, self.start, self.end], join


def round_half_even(expr: str, places: int) -> str:
    """``Decimal.quantize``'s default rounding (ties to even) in SQL; ``ROUND`` rounds ties away from zero."""
    scale = 10**places
    return (
        f"(CASE WHEN ({expr}) * {scale} - FLOOR(({expr}) * {scale}) = 0.5 "
        f"THEN 2 * ROUND(({expr}) * {scale} / 2) / {scale} ELSE ROUND({expr}, {places}) END)"
    )


def _employee_state(rule, ctx: RuleContext):
    states_sql, states = in_list([str(s) for s in rule.params["states"]])
    return f"(CASE WHEN e.state IN {states_sql} THEN 0 ELSE 1 END)", states


def _numeric(value) -> str:
    """A finite number from a rule's params as an SQL numeric literal (quoted digits: nothing to inject)."""
    number = Decimal(str(value))
    if not number.is_finite():
        raise ValueError(value)
    return f"'{number}'::numeric"


def _weekly_limit(params) -> str | None:
    """``max_weekly_hours``'s limit in SQL over the employee ``e`` (the lower of its absolute and percentage limits)."""
    limits = []
    if "max_hours" in params:
        limits.append(_numeric(params["max_hours"]))
    if "max_percent_of_contract" in params:
        limits.append(
            round_half_even(f"e.contracted_weekly_hours * {_numeric(params['max_percent_of_contract'])} / 100", 2)
        )
    if not limits:
        return None
    return limits[0] if len(limits) == 1 else f"LEAST({', '.join(limits)})"


def _max_weekly_hours(rule, ctx: RuleContext):
    limit = _weekly_limit(rule.params)
    if limit is None:
        return None
    h = _numeric(ctx.hours)
    # The what-if spans the whole period, so it runs beside every committed assignment overlapping it: the peak
    # is at least the largest one plus it, at most their sum plus it (equal with at most one such assignment).
    return (
        f"(CASE WHEN ov.sum_committed + {h} <= {limit} THEN 0 WHEN ov.max_committed + {h} > {limit} THEN 1 "
        "ELSE NULL END)"
    ), []


def _max_weekly_hours_committed(rule, ctx: RuleContext):
    """Known to fail from the maintained committed-hours lower bound (``cbx.week_committed``, ADR 0049), for periods of
    a week or more inside the bounds' window: the peak of the period is at least it plus the what-if's hours.
    Otherwise unknown (it may pass)."""
    limit = _weekly_limit(rule.params)
    if limit is None:
        return None
    return f"(CASE WHEN cbx.week_committed / 100.0 + {_numeric(ctx.hours)} > {limit} THEN 1 ELSE NULL END)", []


def _max_concurrent(rule, ctx: RuleContext):
    limit = int(rule.params["max"])
    n = "ov.n_open" if rule.params.get("count_proposed") else "ov.n_committed"
    sql = f"(CASE WHEN {n} + 1 <= %s THEN 0 WHEN LEAST({n}, 1) + 1 > %s THEN 1 ELSE NULL END)"
    return sql, [limit, limit]


def _required_tags(rule, ctx: RuleContext):
    params = rule.params
    needs = {pt.tag.code: pt.min_level for pt in ctx.position_tags if pt.required or params.get("include_optional")}
    for extra in params.get("extra_tags", []):
        needs[extra["tag"]] = max(needs.get(extra["tag"], 1), extra.get("min_level", 1))
    if not needs:
        return "0", []
    checks = [ctx.holds(code=code, level=level) for code, level in sorted(needs.items())]
    return f"(CASE WHEN {' AND '.join(checks)} THEN 0 ELSE 1 END)", []


def _no_overlap(rule, ctx: RuleContext):
    return "(CASE WHEN ov.clashes > 0 THEN 1 ELSE 0 END)", []


def _before_termination(rule, ctx: RuleContext):
    sql = (
        "(CASE WHEN e.termination_date IS NULL OR (%s <= e.termination_date AND %s <= e.termination_date) "
        "THEN 0 ELSE 1 END)"
    )
    return sql, [ctx.end, ctx.start]


def _same_for_everyone(rule, ctx: RuleContext):
    """A rule that reads only the what-if (not the employee): evaluated once, in Python."""
    result = evaluate_rule(rule, ctx.template)
    return ("1" if result["outcome"] == Outcome.FAIL else "0"), []


# rule type → compiler(rule, context) → (SQL giving 1 fail / 0 pass / NULL unknown, params), or None (unknown).
RULE_SQL = {
    "employee_state": _employee_state,
    "max_weekly_hours": _max_weekly_hours,
    "max_concurrent_assignments": _max_concurrent,
    "required_tags": _required_tags,
    "no_overlap_same_position": _no_overlap,
    "before_termination": _before_termination,
    "assignment_hours_bounds": _same_for_everyone,
}


def rule_sql(rule, ctx: RuleContext) -> tuple[str, list]:
    """The rule's per-employee outcome in SQL: 1 fails, 0 passes, NULL Python must evaluate it."""
    if rule.rule_type not in REGISTRY:
        return "1", []  # evaluate_rule fails an unknown type for everyone
    compiler = RULE_SQL.get(rule.rule_type)
    if compiler is None or not isinstance(rule.params, dict):
        return "NULL", []
    try:
        compiled = compiler(rule, ctx)
    except (KeyError, TypeError, ValueError, ArithmeticError):  # params that bypassed validation: Python explains
        return "NULL", []
    return compiled if compiled is not None else ("NULL", [])


# Rule types whose compiled outcome reads only the employee row, their tags and the what-if (no assignment): the
# holders' best possible keys (ADR 0049) use them as they are.
ROW_ONLY_RULES = frozenset({"employee_state", "required_tags", "before_termination", "assignment_hours_bounds"})


def best_rule_sql(rule, ctx: RuleContext, *, committed: bool) -> tuple[str, list]:
    """The rule's best possible outcome without reading the period's assignments (ADR 0049): exact for the row-only
    rules; ``max_weekly_hours`` fails when the committed-hours bound says so (``committed``: a period of a week or
    more); anything else may pass (NULL). Never 1 unless the exact outcome is 1."""
    if rule.rule_type in ROW_ONLY_RULES or rule.rule_type not in REGISTRY:
        return rule_sql(rule, ctx)
    if committed and rule.rule_type == "max_weekly_hours" and isinstance(rule.params, dict):
        try:
            compiled = _max_weekly_hours_committed(rule, ctx)
        except (KeyError, TypeError, ValueError, ArithmeticError):
            return "NULL", []
        return compiled if compiled is not None else ("NULL", [])
    return "NULL", []


@dataclass
class Shortlist:
    """The pool's size, how many decided employees fit, and the rows Python must rank (with their supply)."""

    considered: int
    fitting_decided: int
    supply: dict[int, tuple]  # employee id → (from_ledger, contracted, leave, assigned, worked), picked rows only
    undecided: set[int]
    qualified_only: bool = False  # the page was decided among the qualified alone (enough of them fit)
    # fitting_decided counts every decided employee who fits; False: only those visited before the page was decided
    # (a lower bound, ADR 0036)
    fitting_exact: bool = True
    visited_only: bool = False  # the page was decided among the qualified visited by descending bound (ADR 0036)
    # the page was decided among the holders of every required tag, by score (ADR 0038)
    holders_only: bool = False
    # the page was decided among the holders visited in order of their best possible key (ADR 0045)
    holders_visited: bool = False

    @property
    def side(self) -> str:
        """Which side decided the page: "visit" (ADR 0036), "holders visit" (ADR 0045), "qualified", "holders" (ADR
        0038) or "pool" (everyone)."""
        if self.visited_only:
            return "visit"
        if self.holders_visited:
            return "holders visit"
        if self.qualified_only:
            return "qualified"
        return "holders" if self.holders_only else "pool"


def visit_size(limit: int) -> int:
    """How many of the qualified the bounded visit computes keys for before it gives up (ADR 0036): a small multiple
    of the page, so people who do not fit, warnings and undecided rows among the first visited still leave room."""
    return 4 * limit + 20


def _rows_of(pool: str, table: str, alias: str, per_person: bool) -> str:
    """FROM items joining ``pool`` (``"<cte> <alias>"``, with ``id``) to its rows of ``table`` (by ``employee_id``) as
    ``alias``: a join PostgreSQL may hash over the whole table, or, ``per_person``, a lateral subquery per pool row
    fenced by ``OFFSET 0`` so it stays a nested loop on the employee index (work that tracks the pool, ADR 0036)."""
    pool_alias = pool.split()[-1]
    if per_person:
        return (
            f"{pool} CROSS JOIN LATERAL (SELECT * FROM {table} x WHERE x.employee_id = {pool_alias}.id OFFSET 0) "  # noqa: S608
            f"{alias}"
        )
    return f"{table} {alias} JOIN {pool} ON {pool_alias}.id = {alias}.employee_id"


def _visited_rows(visit: str, size: int) -> tuple[str, list]:
    """SQL (and params) of the ``POOL_COLUMNS`` rows of the first ``size`` people of the ``visit`` CTE (``id``,
    ``rn``), each read by the employee's primary key: the pool of a bounded visit's exact keys."""
    return (
        f"SELECT {', '.join(f'e.{c}' for c in POOL_COLUMNS)} "  # noqa: S608
        f"FROM {_rows_of(f'{visit} v', EMP, 'e', True).replace('x.employee_id', 'x.id')} WHERE v.rn <= {size}",
        [],
    )


def _holders(employees: QuerySet[Employee], required: list[PositionTag], start, end) -> QuerySet[Employee]:
    """The employees of ``employees`` holding every required tag at its level by one row valid over the whole period
    (apps/demand/candidates.py ``_tag_check``), whatever their state: one ``EXISTS`` per tag (a semi-join PostgreSQL
    answers from the tag's holders, through the tag foreign key's index when they are few)."""
    holders = employees
    for need in required:
        holds = EmployeeTag.objects.filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=end),
            employee=OuterRef("pk"),
            tag_id=need.tag_id,
            level__gte=need.min_level,
            valid_from__lte=start,
        )
        holders = holders.filter(Exists(holds))
    return holders


def _qualified(employees: QuerySet[Employee], required: list[PositionTag], start, end) -> QuerySet[Employee]:
    """The employees of ``employees`` who *can* fit: active and holding every required tag (``_holders``), found by
    the state and the tags before any per-person work."""
    return _holders(employees.filter(state=EmployeeState.ACTIVE), required, start, end)


def outranking_without_a_tag(required: list[PositionTag]) -> Decimal:
    """The best score anyone missing one of ``required`` can have, rounded up to the tenth (ADR 0038): the tags'
    share at most (n − 1)/n of its 40, hours, state and rules at most their whole weights (30, 20, 10). A page whose
    last decided row scores above it has nobody without every required tag on it."""
    n = len(required)
    best = Decimal(40 * (n - 1)) / n + 60
    return best.quantize(Decimal("0.1"), rounding=ROUND_CEILING)


def raw_score_sql(required: list[PositionTag], hours: Decimal) -> str:
    """The score of a keyed row ``k`` before rounding (``score_sql``)."""
    h = _numeric(hours)
    state_score = " ".join(
        f"WHEN '{state.value}' THEN {weight}"
        for state, weight in (
            (EmployeeState.ACTIVE, "1"),
            (EmployeeState.PENDING, "0.5"),
            (EmployeeState.ON_LEAVE, "0.25"),
            (EmployeeState.SUSPENDED, "0"),
        )
    )
    tag_part = f"(k.held::numeric / {len(required)})" if required else "1"
    # ROUND(…, 2): the free hours as the numeric expression gives them (same value and scale), so the quotient
    # and the score's rounding are the same as before.
    hours_part = f"LEAST(1, GREATEST(0, ROUND(k.free::numeric / 100, 2) / {h}))" if hours else "1"
    rules_part = "(CASE WHEN k.block = 1 OR k.clashes > 0 THEN 0 WHEN k.warn = 1 THEN 0.5 ELSE 1 END)"
    state_part = f"(CASE k.state {state_score} ELSE 0 END)"
    return f"(40 * {tag_part} + 30 * {hours_part} + 20 * {state_part} + 10 * {rules_part})"


def score_sql(required: list[PositionTag], hours: Decimal) -> str:
    """The score of a keyed row ``k`` (its ``held``, ``free`` in cents, ``state``, ``block``, ``warn``, ``clashes``),
    rounded half-even to the tenth like apps/demand/candidates.py ``_rank_one``."""
    return round_half_even(raw_score_sql(required, hours), 1)


def _outcome(columns: list[str]) -> str:
    """A severity group's outcome from its rule columns: 1 when one fails, NULL when one is unknown, else 0."""
    if not columns:
        return "0"
    failing = " OR ".join(f"{c} IS NOT DISTINCT FROM 1" for c in columns)
    unknown = " OR ".join(f"{c} IS NULL" for c in columns)
    return f"(CASE WHEN {failing} THEN 1 WHEN {unknown} THEN NULL ELSE 0 END)"


def _best_keys_sql(
    ctx: RuleContext,
    *,
    employees: QuerySet[Employee],
    required: list[PositionTag],
    best_columns: list[str],
    best_params: list,
    severity_columns: dict,
    bound: str,
    one_pass: bool = True,
) -> tuple[str, list]:
    """CTEs ending in ``hb_keyed(id, employee_number, state, held, clashes, free, block, warn, score)``: every holder's
    best possible key from their employee row, tags and ``demand_candidatebound`` row only (ADR 0049) — no assignment
    and no ledger read. Free hours: for the ledgerless the contract's cents minus the least committed hours of any day
    of the bounds' window (the contract source's free hours are the contract minus the average covering hours over
    the period, and committed assignments cover), the ``bound`` column for the others (ADRs 0036, 0042); rules from
    ``best_rule_sql``; clashes 0. Each component is at least the exact key's, so the score (monotone in each) and
    "could fit" are too.

    ``one_pass`` (ADR 0050): the score's unrounded sum is a column of its own layer, so the rounding reads it instead of
    computing it three times over every holder (the same expression, so the same value), and neither the holders nor
    their keys are materialized: PostgreSQL joins the employees, their tags and bounds in the order it likes and streams
    the keys into the visit's top-N (each referenced once; the ``OFFSET 0`` fences still compute every expression once
    per row)."""
    materialized = "" if one_pass else "MATERIALIZED "
    pool_sql, pool_params = queryset_sql(employees.order_by().values(*POOL_COLUMNS))
    tag_flags, tag_params, tag_join = ctx.tag_flags_sql(prefix="hb_", implied=required)
    sql = f"""hb_pool AS {materialized}(
        SELECT {", ".join(f"e.{c}" for c in POOL_COLUMNS)}, ll.employee_id IS NOT NULL AS listed
        FROM ({pool_sql}) e LEFT JOIN {LEDGERLESS} ll ON ll.employee_id = e.id
    ),
    {tag_flags},
    hb_keyed AS {materialized}(
        SELECT k.*, {round_half_even("k.raw_score", 1) if one_pass else score_sql(required, ctx.hours)} AS score
        FROM (
            SELECT k.*{f", {raw_score_sql(required, ctx.hours)} AS raw_score" if one_pass else ""}
            FROM (
                SELECT k.*, {_outcome(severity_columns[True])} AS block, {_outcome(severity_columns[False])} AS warn
                FROM (
                    SELECT e.id, e.employee_number, e.state, {len(required)} AS held, 0 AS clashes,
                           CASE WHEN e.listed THEN CEIL(e.contracted_weekly_hours * 100)::bigint
                                                   - COALESCE(cbx.least_committed, 0)
                                WHEN cbx.{bound} >= 0 THEN cbx.{bound} ELSE {UNBOUNDED_CENTS} END AS free
                           {"".join(", " + c for c in best_columns)}
                    FROM hb_pool e LEFT JOIN {BOUNDS} cbx ON cbx.employee_id = e.id
                    {tag_join}
                    OFFSET 0
                ) k
                OFFSET 0
            ) k
            OFFSET 0
        ) k
    )"""  # noqa: S608 -- fragments, table names and constants
    return sql, [*pool_params, *tag_params, *best_params]


def _keys_sql(
    ctx: RuleContext,
    *,
    employees: QuerySet[Employee],
    rule_columns: list[str],
    rule_params: list,
    severity_columns: dict,
    required: list[PositionTag],
    prefix: str,
    with_score: bool,
    qualified: bool = False,
    tags_held: bool = False,
    pool: tuple[str, list] | None = None,
    per_person: bool = False,
    free_bound: str | None = None,
) -> tuple[str, list]:
    """CTEs ending in ``{prefix}keyed(id, employee_number, free, undecided, fits, warn[, score], from_ledger, ...)`` for
    ``employees`` (``qualified``: they are known to be active and to hold every required tag; ``tags_held``: to hold
    every required tag, whatever their state): every rule's outcome
    and the sort key, free hours in cents. ``supply_columns(prefix)`` gives a keyed row's supply numbers.

    One pass over the ledger entries overlapping the period (numeric sums, apps/demand/supply.py's expressions) and
    one over the assignments overlapping it (integer cents and days; ``FILTER`` by state class). For the contract
    source, free hours are computed exactly in integers: contracted minus assigned is N / 700 hours with
    N = Σ cents × days, so free hours to the cent are N / period days rounded half away from zero — what the
    numeric expression gives, except at an exact half-cent tie, where the numeric expression itself decides (its
    quotients are rounded, so a tie may fall either side: the row then uses apps/demand/supply.py's numbers). Whether
    an employee is on the ledger comes from the maintained list of ledgerless employees (apps/demand/rollups.py),
    valid while the rollups hold a horizon; without one, each employee's ledger is probed. The rule outcomes are
    computed once per employee (``{prefix}rules`` is materialized): PostgreSQL would otherwise inline them into
    each expression that reads them (block, warn, undecided, fits) and evaluate each rule several times per row.
    ``pool``: SQL and params of the employees' ``POOL_COLUMNS`` rows, instead of ``employees``'. ``per_person``: the
    pool is a few rows (the bounded visit), so each one's ledger entries, assignments and tags are read through the
    employee index rather than in one pass over the tables (see ``_rows_of``). ``free_bound`` (a column of
    ``demand_candidatebound``): the ledger is not read; the ledger source's free hours are that bound instead (the
    contract source's stay exact), so ``free``, ``score`` and ``fits`` are upper bounds (ADR 0045) and the ledger's
    supply columns are NULL."""
    start, end, hours, position = ctx.start, ctx.end, ctx.hours, ctx.position
    p = prefix
    d = DateSQL.current()
    pool_sql, pool_params = pool or queryset_sql(employees.order_by().values(*POOL_COLUMNS))
    open_sql, open_states = in_list([s.value for s in OPEN_STATES])
    committed_sql, committed_states = in_list([s.value for s in COMMITTED_STATES])
    covering_sql, covering_states = in_list([s.value for s in COVERING_STATES])
    wanted_sql, wanted_states = in_list(sorted({s.value for s in (*OPEN_STATES, *COVERING_STATES)}))
    ledger_sums = ledger_sums_sql(d)
    asg_days = d.overlap_days("a.start_date", "a.end_date", "b.lo", "b.hi")
    employed = d.overlap_days("e.hire_date", "e.termination_date", "b.lo", "b.hi")
    period_days = (end - start).days + 1
    held = " + ".join(
        f"(CASE WHEN {ctx.holds(tag_id=pt.tag_id, level=pt.min_level)} THEN 1 ELSE 0 END)" for pt in required
    )
    held = held or "0"

    tag_flags, tag_params, tag_join = ctx.tag_flags_sql(
        prefix=p, implied=required if qualified or tags_held else None, per_person=per_person
    )
    h = _numeric(hours)
    score = f", {score_sql(required, hours)} AS score" if with_score else ""
    # The qualified are active: the state is a constant there, so rules reading it fold away.
    state = f"'{EmployeeState.ACTIVE.value}'::varchar" if qualified else "e0.state"
    assigned_numeric = (
        f"(SELECT SUM(a.weekly_hours * {asg_days} / 7.0) FROM {ASG} a WHERE a.employee_id = e.id "  # noqa: S608
        f"AND a.state IN {covering_sql} AND {d.overlaps('a.start_date', 'a.end_date', 'b.lo', 'b.hi')})"
    )
    # free hours × 100 of the contract source: N / period days, N in hundredths of an hour-day, rounded half away
    # from zero; at an exact tie (|2N| ≡ P mod 2P, either sign) the numeric expression of apps/demand/supply.py
    # decides. Cents × days stay far inside integer range (168 h is 16,800 cents; the API allows 104 weeks).
    n = "(f.cwh_cents * f.employed - COALESCE(o.covering_hd, 0))"
    contract_free = f"""CASE WHEN MOD(ABS(2 * {n}), {2 * period_days}) = {period_days}
                  THEN (ROUND(((CASE WHEN f.employed > 0 THEN e.contracted_weekly_hours * f.employed / 7.0 ELSE 0 END)
                                - 0 - COALESCE({assigned_numeric}, 0)) * 7 / {period_days}, 2) * 100)::bigint
                  WHEN {n} >= 0 THEN (2 * {n} + {period_days}) / {2 * period_days}
                  ELSE -((-2 * {n} + {period_days}) / {2 * period_days}) END"""
    ledger_free = (
        "(ROUND((COALESCE(led.contracted, 0) - COALESCE(led.leave_h, 0) - COALESCE(led.assigned, 0)) * 7 "
        f"/ {period_days}, 2) * 100)::bigint"
    )
    if free_bound:
        # A missing or negative row (not written yet) bounds nothing: free hours beyond any request's.
        ledger_free = f"(CASE WHEN cbx.{free_bound} >= 0 THEN cbx.{free_bound} ELSE {UNBOUNDED_CENTS} END)"
        bound_join = f"LEFT JOIN {BOUNDS} cbx ON cbx.employee_id = e.id"
    else:
        bound_join = ""
    horizon = f"(SELECT EXISTS (SELECT 1 FROM {HORIZON}))"  # noqa: S608
    on_ledger = (
        "NOT e0.listed OR led.employee_id IS NOT NULL "  # noqa: S608
        f"OR (NOT {horizon} AND EXISTS (SELECT 1 FROM {LEDGER} x WHERE x.employee_id = e.id))"
    )
    sql = f"""{p}bounds AS (SELECT {d.param()} AS lo, {d.param()} AS hi),
    -- The pool, each row with whether it is listed as ledgerless.
    {p}pool AS MATERIALIZED (
        SELECT {", ".join(f"e.{c}" for c in POOL_COLUMNS)}, ll.employee_id IS NOT NULL AS listed
        FROM ({pool_sql}) e LEFT JOIN {LEDGERLESS} ll ON ll.employee_id = e.id
    ),
    -- Only employees on the ledger have entries: the listed are skipped while the list is kept (a horizon).
    {p}led AS (
        SELECT l.employee_id AS employee_id, {ledger_sums}
        FROM {_rows_of(f"{p}pool pool", LEDGER, "l", per_person)} CROSS JOIN {p}bounds b
        WHERE {d.overlaps("l.period_start", "l.period_end", "b.lo", "b.hi")}
          AND (NOT pool.listed OR NOT {horizon}) AND {"FALSE" if free_bound else "TRUE"}
        GROUP BY l.employee_id
    ),
    {p}ovagg AS (
        SELECT a.employee_id AS employee_id,
               SUM(a.cents * a.days) FILTER (WHERE a.covering) AS covering_hd,
               COUNT(*) FILTER (WHERE a.committed) AS n_committed,
               COALESCE(SUM(a.cents) FILTER (WHERE a.committed), 0) AS sum_committed,
               COALESCE(MAX(a.cents) FILTER (WHERE a.committed), 0) AS max_committed,
               COUNT(*) FILTER (WHERE a.open) AS n_open,
               COUNT(*) FILTER (WHERE a.open AND a.position_id = %s) AS clashes
        FROM (
            SELECT a.employee_id, a.position_id, (a.weekly_hours * 100)::integer AS cents, {asg_days} AS days,
                   a.state IN {covering_sql} AS covering, a.state IN {committed_sql} AS committed,
                   a.state IN {open_sql} AS open
            FROM {_rows_of(f"{p}pool pl", ASG, "a", per_person)} CROSS JOIN {p}bounds b
            WHERE a.state IN {wanted_sql} AND {d.overlaps("a.start_date", "a.end_date", "b.lo", "b.hi")}
            OFFSET 0
        ) a
        GROUP BY a.employee_id
    ),
    {tag_flags},
    -- Each layer is a subquery fenced by OFFSET 0, so every rule expression (and block, warn) is computed once per
    -- row; only the keys are materialized (PostgreSQL would otherwise inline the layers and repeat the expressions).
    {p}keyed AS MATERIALIZED (
        SELECT k.id, k.employee_number, k.free, k.warn, k.cwh, k.employed, k.from_ledger, k.l_contracted,
               k.l_leave, k.l_assigned, k.l_worked, k.state, k.held, k.block, k.clashes,
               -- out already (on the position, or a blocking rule fails) or every rule known: decided
               NOT (k.clashes > 0 OR COALESCE(k.block = 1, FALSE)
                    OR (k.block IS NOT NULL AND k.warn IS NOT NULL)) AS undecided,
               COALESCE(k.state = %s AND k.held = {len(required)} AND k.free >= {h} * 100 AND k.clashes = 0
                        AND k.block = 0, FALSE) AS fits{score}
        FROM (
            SELECT k.*, {_outcome(severity_columns[True])} AS block, {_outcome(severity_columns[False])} AS warn
            FROM (
                SELECT e.id, e.employee_number, e.state, e.contracted_weekly_hours AS cwh, f.employed, f.from_ledger,
                       led.contracted AS l_contracted, led.leave_h AS l_leave, led.assigned AS l_assigned,
                       led.worked AS l_worked,
                       CASE WHEN f.from_ledger = 1 THEN {ledger_free} ELSE {contract_free} END AS free,
                       {held} AS held, ov.clashes AS clashes{"".join(", " + c for c in rule_columns)}
                FROM {p}pool e0 CROSS JOIN {p}bounds b
                CROSS JOIN LATERAL (
                    SELECT e0.id, e0.employee_number, {state} AS state, e0.contracted_weekly_hours, e0.hire_date,
                           e0.termination_date
                ) e
                LEFT JOIN {p}led led ON led.employee_id = e.id
                {bound_join}
                {tag_join}
                LEFT JOIN {p}ovagg o ON o.employee_id = e.id
                CROSS JOIN LATERAL (
                    SELECT COALESCE(o.n_committed, 0) AS n_committed,
                           COALESCE(o.sum_committed, 0) / 100.0 AS sum_committed,
                           COALESCE(o.max_committed, 0) / 100.0 AS max_committed, COALESCE(o.n_open, 0) AS n_open,
                           COALESCE(o.clashes, 0) AS clashes
                ) ov
                CROSS JOIN LATERAL (
                    SELECT CASE WHEN {on_ledger} THEN 1 ELSE 0 END AS from_ledger,
                           CASE WHEN {d.overlaps("e.hire_date", "e.termination_date", "b.lo", "b.hi")} THEN {employed}
                                ELSE 0 END AS employed,
                           (e.contracted_weekly_hours * 100)::integer AS cwh_cents
                ) f
                OFFSET 0
            ) k
            OFFSET 0
        ) k
    )"""  # noqa: S608 -- fragments, table names and choice values are constants
    params = [
        start,
        end,
        *pool_params,
        position.pk,
        *covering_states,
        *committed_states,
        *open_states,
        *wanted_states,
        *tag_params,
        EmployeeState.ACTIVE.value,  # keyed's fits
        *covering_states,  # the contract source's free hours at a tie
        *rule_params,
    ]
    return sql, params


def supply_columns(bounds: str) -> tuple[str, list]:
    """SQL for a keyed row ``k``'s (from_ledger, contracted, leave_h, assigned, worked): apps/demand/supply.py's
    numbers (the same expressions), read from the ledger sums carried along or, for the contract source, computed
    for this row alone (its covering assignments by the employee index). ``bounds``: the bounds CTE."""
    d = DateSQL.current()
    covering_sql, covering_states = in_list([s.value for s in COVERING_STATES])
    asg_days = d.overlap_days("a.start_date", "a.end_date", "b.lo", "b.hi")
    sql = f"""k.from_ledger,
           CASE WHEN k.from_ledger = 1 THEN COALESCE(k.l_contracted, 0)
                WHEN k.employed > 0 THEN k.cwh * k.employed / 7.0 ELSE 0 END AS contracted,
           CASE WHEN k.from_ledger = 1 THEN COALESCE(k.l_leave, 0) ELSE 0 END AS leave_h,
           CASE WHEN k.from_ledger = 1 THEN COALESCE(k.l_assigned, 0)
                ELSE COALESCE((SELECT SUM(a.weekly_hours * {asg_days} / 7.0) FROM {ASG} a CROSS JOIN {bounds} b
                               WHERE a.employee_id = k.id AND a.state IN {covering_sql}
                                 AND {d.overlaps("a.start_date", "a.end_date", "b.lo", "b.hi")}), 0) END AS assigned,
           COALESCE(k.l_worked, 0) AS worked"""  # noqa: S608 -- table names and choice values are constants
    return sql, covering_states


def candidate_shortlist(
    *,
    position: Position,
    position_tags: list[PositionTag],
    rules: list,
    start: datetime.date,
    end: datetime.date,
    hours: Decimal,
    employees: QuerySet[Employee],
    limit: int,
    template: Facts,
    prefilter: bool = True,
    visit: bool = True,
    holders: bool = True,
    week: bool = True,
    holders_visit: bool = True,
    committed: bool = True,
    active: bool = True,
    one_pass: bool = True,
) -> Shortlist:
    """One query: see the module docstring. PostgreSQL only. ``prefilter=False`` skips the qualified-first paths
    (every key computed, as before they existed), ``visit=False`` the bounded visit (ADR 0036), ``holders=False`` the
    holders' side (ADR 0038), ``week=False`` the week bound (ADR 0042: every period visits by the day's maximum),
    ``holders_visit=False`` the holders' visit (ADR 0045), ``committed=False`` its best keys without the assignments
    pass (ADR 0049: they read the period's assignments again), ``active=False`` the first visit over every state's
    rows, ``one_pass=False`` the holders' best keys materialized and their score's sum written out three times (both ADR
    0050): the benchmarks' baselines."""
    ctx = RuleContext(position, position_tags, start, end, hours, template)
    required = [pt for pt in position_tags if pt.required]

    # One column per rule (1 fails, 0 passes, NULL undecided); the severity groups name them.
    rule_columns, rule_params, severity_columns = [], [], {True: [], False: []}
    for i, rule in enumerate(rules):
        sql, values = rule_sql(rule, ctx)
        rule_columns.append(f"({sql})::int AS r{i}")
        rule_params += values
        severity_columns[rule.severity == Severity.BLOCK].append(f"k.r{i}")
    common = {
        "rule_columns": rule_columns,
        "rule_params": rule_params,
        "severity_columns": severity_columns,
        "required": required,
    }
    qualified = _qualified(employees, required, start, end)
    # The bounded visit (ADR 0036): the qualified in descending order of their free-hours bound (then employee number
    # and id, the ranking's tie-breaks), served by the bound's index; keys for the first ``size`` of them only. The
    # qualified are active: ``cb.active`` (the row's copy of the state, kept by the same triggers) lets a partial index
    # over the active people's rows serve it, so the walk does not pass everyone else's (ADR 0050).
    size = visit_size(limit)
    # The bounds are trusted while the rollups hold a horizon, for periods inside their window (one-time filters).
    in_window = f"""(SELECT EXISTS (SELECT 1 FROM {HORIZON} h WHERE h.bounds_from IS NULL
                                  OR (h.bounds_from <= %s AND %s <= h.bounds_from + {WINDOW_DAYS - 1})))"""  # noqa: S608
    qualified_ids, qualified_params = queryset_sql(qualified.order_by().values("id"))
    # A period of a week or more is visited by the week bound (ADR 0042: the largest average over 7–13 days, which a
    # few free days between two assignments do not lift to the whole contract), a shorter one by the day's maximum.
    bound = "week_bound" if week and (end - start).days + 1 >= WEEK_MIN_DAYS else "bound"
    visit_sql = f"""t_visit AS MATERIALIZED (
        SELECT v.*, ROW_NUMBER() OVER () AS rn FROM (
            SELECT cb.employee_id AS id, cb.{bound} AS bound, cb.employee_number
            FROM {BOUNDS} cb
            WHERE {"cb.active AND" if active else ""} cb.employee_id IN ({qualified_ids}) AND %s AND {in_window}
            ORDER BY cb.{bound} DESC, cb.employee_number COLLATE "C", cb.employee_id
            LIMIT %s
        ) v
    )"""  # noqa: S608 -- table names are constants
    visit_params = [*qualified_params, visit and prefilter, start, end, size + 1]
    visited = _visited_rows("t_visit", size)
    top, top_params = _keys_sql(
        ctx,
        employees=qualified,
        prefix="t_",
        with_score=False,
        qualified=True,
        pool=visited,
        per_person=True,
        **common,
    )
    # Only the qualified can fit, and a fitting employee's score is 100, or 95 with a failing warning: when enough
    # of the qualified fit, the page is decided among them alone (no score needed).
    fast, fast_params = _keys_sql(ctx, employees=qualified, prefix="q_", with_score=False, qualified=True, **common)
    # Otherwise the page reaches employees who do not fit, ranked by score. First the holders of every required tag
    # (any state): when the page's last decided row among them scores above what anyone missing a tag can reach, the
    # page is decided among them (ADR 0038). The active ones are the qualified, whose keys are computed already: their
    # scores come from those rows, and only the others' keys are computed, each one's rows read by the employee index.
    others, others_params = _keys_sql(
        ctx,
        employees=_holders(employees.exclude(state=EmployeeState.ACTIVE), required, start, end),
        prefix="hn_",
        with_score=True,
        tags_held=True,
        per_person=True,
        **common,
    )
    columns = (
        "id, employee_number, free, warn, cwh, employed, from_ledger, l_contracted, l_leave, l_assigned, l_worked, "
        "state, held, block, clashes, undecided, fits"
    )
    holders_sql = f"""{others},
    h_keyed AS MATERIALIZED (
        SELECT {", ".join(f"k.{c}" for c in columns.split(", "))}, {score_sql(required, hours)} AS score FROM q_keyed k
        UNION ALL
        SELECT {columns}, score FROM hn_keyed
    )"""  # noqa: S608 -- fragments and constants
    holders_params = others_params
    # Otherwise everyone's key, as before (read only in that case).
    full, full_params = _keys_sql(ctx, employees=employees, prefix="", with_score=True, **common)
    # The holders' visit (ADR 0045): every holder's best possible key — the key with the ledger source's free hours
    # replaced by their maintained bound, everything else exact (the rules read the period's assignments, which one
    # pass over them gives, like the contract source's free hours) — then exact keys for the first ``size`` holders
    # in order of it, each one's rows read through the employee index.
    scored_order = 'fits DESC, score DESC, free DESC, employee_number COLLATE "C", id'
    if committed:
        # ADR 0049: the best key without the assignments pass, from the rows and the maintained bounds only.
        week_long = week and (end - start).days + 1 >= WEEK_MIN_DAYS
        best_columns, best_params = [], []
        for i, rule in enumerate(rules):
            sql, values = best_rule_sql(rule, ctx, committed=week_long)
            best_columns.append(f"({sql})::int AS r{i}")
            best_params += values
        by_bound, by_bound_params = _best_keys_sql(
            ctx,
            employees=_holders(employees, required, start, end),
            required=required,
            best_columns=best_columns,
            best_params=best_params,
            severity_columns=severity_columns,
            bound=bound,
            one_pass=one_pass,
        )
    else:
        by_bound, by_bound_params = _keys_sql(
            ctx,
            employees=_holders(employees, required, start, end),
            prefix="hb_",
            with_score=True,
            tags_held=True,
            free_bound=bound,
            **common,
        )
    # Could fit: active (every holder holds the tags), free hours up to the bound reach the request's, not on the
    # position, and no blocking rule known to fail (an unknown one may pass).
    could_fit = (
        f"COALESCE(k.state = '{EmployeeState.ACTIVE.value}' AND k.free >= {_numeric(hours)} * 100 AND k.clashes = 0 "
        "AND k.block IS DISTINCT FROM 1, FALSE)"
    )
    holders_visit_sql = f"""{by_bound},
    hv_visit AS MATERIALIZED (
        SELECT v.*, ROW_NUMBER() OVER () AS rn FROM (
            SELECT * FROM (
                SELECT k.id, k.employee_number, {could_fit} AS fits, k.score, k.free FROM hb_keyed k
                WHERE %s AND {in_window}
            ) k
            ORDER BY {scored_order}
            LIMIT %s
        ) v
    )"""  # noqa: S608 -- fragments and constants
    use_holders_visit = prefilter and holders and holders_visit and bool(required)
    holders_visit_params = [*by_bound_params, use_holders_visit, start, end, size + 1]
    holders_visited = _visited_rows("hv_visit", size)
    visited_keys, visited_keys_params = _keys_sql(
        ctx,
        employees=employees,
        prefix="hv_",
        with_score=True,
        tags_held=True,
        pool=holders_visited,
        per_person=True,
        **common,
    )
    pool_sql, pool_params = queryset_sql(employees.order_by().values("id"))
    t_supply, t_supply_params = supply_columns("t_bounds")
    hv_supply, hv_supply_params = supply_columns("hv_bounds")
    q_supply, q_supply_params = supply_columns("q_bounds")
    h_supply, h_supply_params = supply_columns("q_bounds")  # the same period as every side's bounds
    supply, supply_params = supply_columns("bounds")
    decided_fits = "COUNT(*) FILTER (WHERE fits AND NOT undecided)"
    fitters_order = 'warn, free DESC, employee_number COLLATE "C", id'
    # The visit decides the page when ``limit`` decided visited fitters beat every unvisited qualified person: the
    # ``limit``-th of them has no warning and a key before the next person's best possible one (no warning, free
    # hours = bound, same number and id), or nobody was left unvisited. Anyone unvisited then ranks below the page.
    t_gate = f"""t_gate AS (
        SELECT COALESCE(f.n >= %s AND (v.n <= {size} OR (k.warn = 0 AND (k.free > x.bound OR (k.free = x.bound
                   AND (k.employee_number COLLATE "C", k.id) < (x.employee_number COLLATE "C", x.id))))), FALSE)
                   AS enough,
               f.n AS fitting, v.n <= {size} AS complete
        FROM (SELECT {decided_fits} AS n FROM t_keyed) f
        CROSS JOIN (SELECT COUNT(*) AS n FROM t_visit) v
        LEFT JOIN (SELECT * FROM t_keyed WHERE fits AND NOT undecided ORDER BY {fitters_order} OFFSET %s LIMIT 1) k
            ON TRUE
        LEFT JOIN (SELECT * FROM t_visit WHERE rn = {size + 1}) x ON TRUE
    )"""  # noqa: S608 -- fragments and constants
    # The holders' visit decides the page when its ``limit``-th decided row scores above anyone missing a tag (as the
    # holders' side) and its key is before the next unvisited holder's best possible one, or nobody was left unvisited.
    # ``fitting`` is exact when nobody unvisited could fit (the visit takes whoever could fit first).
    hv_gate = f"""hv_gate AS (
        SELECT COALESCE(k.score > {outranking_without_a_tag(required) if required else 0}
                   AND (v.n <= {size} OR (k.fits AND NOT x.fits) OR (k.fits = x.fits AND (k.score > x.score
                        OR (k.score = x.score AND (k.free > x.free OR (k.free = x.free
                            AND (k.employee_number COLLATE "C", k.id) < (x.employee_number COLLATE "C", x.id))))))),
                   FALSE) AS enough,
               f.n AS fitting, v.n <= {size} OR NOT COALESCE(x.fits, FALSE) AS complete
        FROM (SELECT {decided_fits} AS n FROM hv_keyed) f
        CROSS JOIN (SELECT COUNT(*) AS n FROM hv_visit) v
        LEFT JOIN (SELECT * FROM hv_keyed WHERE NOT undecided ORDER BY {scored_order} OFFSET %s LIMIT 1) k ON TRUE
        LEFT JOIN (SELECT * FROM hv_visit WHERE rn = {size + 1}) x ON TRUE
    )"""  # noqa: S608 -- fragments and constants
    q_enough = f"(SELECT {decided_fits} >= %s FROM q_keyed)" if prefilter else "FALSE"  # noqa: S608
    h_enough = (
        f"""COALESCE((SELECT score > {outranking_without_a_tag(required)} FROM h_keyed WHERE NOT undecided
                    ORDER BY {scored_order} OFFSET %s LIMIT 1), FALSE)"""  # noqa: S608 -- constants
        if prefilter and holders and required
        else "FALSE"
    )

    def fitters_page(prefix: str, side: int, supply_sql: str) -> str:
        """A fitters-only side's rows: the ``limit`` best decided fitters in order, then every undecided row."""
        return f"""(SELECT k.id, FALSE AS undecided, ROW_NUMBER() OVER () AS rank, {supply_sql}
         FROM (SELECT * FROM {prefix}keyed WHERE fits AND NOT undecided AND (SELECT side FROM gate) = {side}
               ORDER BY {fitters_order} LIMIT %s) k
         WHERE (SELECT side FROM gate) = {side})
        UNION ALL
        (SELECT k.id, TRUE, 0, {supply_sql} FROM {prefix}keyed k
         WHERE k.undecided AND (SELECT side FROM gate) = {side})"""  # noqa: S608 -- fragments and constants

    def scored_page(prefix: str, side: int, supply_sql: str) -> str:
        """A side ranked by the whole key (fits, score, ...): the ``limit`` best decided rows, then every undecided
        one."""
        return f"""(SELECT k.id, FALSE, ROW_NUMBER() OVER () AS rank, {supply_sql}
         FROM (SELECT * FROM {prefix}keyed WHERE NOT undecided AND (SELECT side FROM gate) = {side}
               ORDER BY {scored_order} LIMIT %s) k
         WHERE (SELECT side FROM gate) = {side})
        UNION ALL
        (SELECT k.id, TRUE, 0, {supply_sql} FROM {prefix}keyed k
         WHERE k.undecided AND (SELECT side FROM gate) = {side})"""  # noqa: S608 -- fragments and constants

    # The side: 1 the visit, 5 the holders' visit, 2 all the qualified, 4 the holders of every required tag, 3 the whole
    # pool. A CASE
    # evaluates a sub-select only when it reaches it, and each branch of ``page`` reads only its side (a one-time
    # filter at its top), so PostgreSQL never starts the CTEs of a side it does not use (it evaluates a CTE only when
    # first read).
    sql = f"""
    WITH {visit_sql},
    {top},
    {t_gate},
    {fast},
    {holders_sql},
    {full},
    {holders_visit_sql},
    {visited_keys},
    {hv_gate},
    gate AS (
        SELECT CASE WHEN (SELECT enough FROM t_gate) THEN 1 WHEN (SELECT enough FROM hv_gate) THEN 5
                    WHEN {q_enough} THEN 2 WHEN {h_enough} THEN 4 ELSE 3 END AS side
    ),
    page AS (
        {fitters_page("t_", 1, t_supply)}
        UNION ALL
        {scored_page("hv_", 5, hv_supply)}
        UNION ALL
        {fitters_page("q_", 2, q_supply)}
        UNION ALL
        {scored_page("h_", 4, h_supply)}
        UNION ALL
        {scored_page("", 3, supply)}
    ),
    totals AS (
        SELECT (SELECT COUNT(*) FROM ({pool_sql}) p) AS considered,
               CASE (SELECT side FROM gate) WHEN 1 THEN (SELECT fitting FROM t_gate)
                    WHEN 5 THEN (SELECT fitting FROM hv_gate)
                    WHEN 2 THEN (SELECT {decided_fits} FROM q_keyed)
                    WHEN 4 THEN (SELECT {decided_fits} FROM h_keyed)
                    ELSE (SELECT {decided_fits} FROM keyed) END AS fitting,
               (SELECT side FROM gate) AS side,
               CASE (SELECT side FROM gate) WHEN 1 THEN (SELECT complete FROM t_gate)
                    WHEN 5 THEN (SELECT complete FROM hv_gate) ELSE TRUE END AS exact
    )
    SELECT t.considered, t.fitting, p.undecided, p.id, p.from_ledger, p.contracted, p.leave_h, p.assigned, p.worked,
           t.side, t.exact
    FROM totals t LEFT JOIN page p ON TRUE
    ORDER BY p.undecided, p.rank"""  # noqa: S608 -- fragments, table names and choice values are constants
    params = [
        *visit_params,
        *top_params,
        limit,  # t_gate: enough decided visited fitters
        limit - 1,  # t_gate: the limit-th of them
        *fast_params,
        *holders_params,
        *full_params,
        *holders_visit_params,
        *visited_keys_params,
        limit - 1,  # hv_gate: the limit-th decided visited holder
        *([limit] if prefilter else []),
        *([limit - 1] if prefilter and holders and required else []),  # gate: the limit-th decided holder
        *t_supply_params,
        limit,
        *t_supply_params,
        *hv_supply_params,
        limit,
        *hv_supply_params,
        *q_supply_params,
        limit,
        *q_supply_params,
        *h_supply_params,
        limit,
        *h_supply_params,
        *supply_params,
        limit,
        *supply_params,
        *pool_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    considered, fitting, side, exact = rows[0][0], rows[0][1], rows[0][9], rows[0][10]
    supply_rows, undecided = {}, set()
    for row in rows:
        if row[3] is None:
            continue
        supply_rows[row[3]] = (bool(row[4]), *row[5:9])
        if row[2]:
            undecided.add(row[3])
    return Shortlist(
        considered,
        fitting,
        supply_rows,
        undecided,
        qualified_only=side == 2,
        holders_only=side == 4,
        fitting_exact=bool(exact),
        visited_only=side == 1,
        holders_visited=side == 5,
    )
