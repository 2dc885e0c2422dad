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
do not fit and the same query computes every pool member's key. A gate inside the query picks the side;
PostgreSQL never starts the other (ADR 0012, amendment).

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

**Exactness of the key.** Hours are PostgreSQL ``numeric`` all the way (the supply CTEs of
apps/demand/supply.py, the same values Python reads), rounded half-up to the cent like ``periods.hours``;
the score is rounded half-even to a tenth like ``Decimal.quantize``; employee numbers compare in the "C"
collation (code point order, like Python strings).
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

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
from apps.demand.sql import in_list, queryset_sql
from apps.demand.supply import supply_ctes
from apps.tags.models import EmployeeTag, PositionTag, TagCatalog

ASG = Assignment._meta.db_table
ETAG = EmployeeTag._meta.db_table
TAG = TagCatalog._meta.db_table


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

    def tag_flags_sql(self, prefix: str = "") -> tuple[str, list]:
        """The ``tf(employee_id, f0, f1, ...)`` CTE behind ``holds()``: one pass over the pool's relevant tags
        (``{prefix}tf`` over ``{prefix}pool``)."""
        if not self.flags:
            return f"{prefix}tf AS (SELECT NULL::bigint AS employee_id WHERE FALSE)", []
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
        FROM {ETAG} t JOIN {TAG} c ON c.id = t.tag_id JOIN {prefix}pool pl ON pl.id = t.employee_id
        WHERE ({wanted})
          AND t.valid_from <= %s AND (t.valid_until IS NULL OR t.valid_until >= %s)
        GROUP BY t.employee_id
    )"""  # noqa: S608 -- table names are constants; values are parameters
        return sql, [*params, *ids, *codes, self.start, self.end]


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


def _max_weekly_hours(rule, ctx: RuleContext):
    params = rule.params
    limits = []
    if "max_hours" in params:
        limits.append(_numeric(params["max_hours"]))
    if "max_percent_of_contract" in params:
        limits.append(
            round_half_even(f"e.contracted_weekly_hours * {_numeric(params['max_percent_of_contract'])} / 100", 2)
        )
    if not limits:
        return None
    limit = limits[0] if len(limits) == 1 else f"LEAST({', '.join(limits)})"
    h = _numeric(ctx.hours)
    # The what-if spans the whole period, so it runs beside every committed assignment overlapping it: the peak
    # is at least the largest one plus it, at most their sum plus it (equal with at most one such assignment).
    return (
        f"(CASE WHEN ov.sum_committed + {h} <= {limit} THEN 0 WHEN ov.max_committed + {h} > {limit} THEN 1 "
        "ELSE NULL END)"
    ), []


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


@dataclass
class Shortlist:
    """The pool's size, how many decided employees fit, and the rows Python must rank (with their supply)."""

    considered: int
    fitting_decided: int
    supply: dict[int, tuple]  # employee id → (from_ledger, contracted, leave, assigned, worked), picked rows only
    undecided: set[int]
    qualified_only: bool = False  # the page was decided among the qualified alone (enough of them fit)


def _qualified(employees: QuerySet[Employee], required: list[PositionTag], start, end) -> QuerySet[Employee]:
    """The employees of ``employees`` who *can* fit: active and holding every required tag at its level by one row
    valid over the whole period (apps/demand/candidates.py ``_tag_check``): the state and one ``EXISTS`` per tag
    (a semi-join PostgreSQL answers from the tag's holders, through the tag foreign key's index when they are few),
    before any per-person work."""
    qualified = employees.filter(state=EmployeeState.ACTIVE)
    for need in required:
        holds = EmployeeTag.objects.filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=end),
            employee=OuterRef("pk"),
            tag_id=need.tag_id,
            level__gte=need.min_level,
            valid_from__lte=start,
        )
        qualified = qualified.filter(Exists(holds))
    return qualified


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
) -> tuple[str, list]:
    """CTEs ending in ``{prefix}keyed(id, employee_number, free, undecided, fits, warn[, score])`` for ``employees``:
    their supply, their open assignments overlapping the period, their tags, every rule's outcome, the sort key."""
    start, end, hours, position = ctx.start, ctx.end, ctx.hours, ctx.position
    p = prefix
    # The pool and the qualified are employee rows filtered without joins that could repeat one: no DISTINCT pass.
    supply, supply_params = supply_ctes(employees=employees, start=start, end=end, prefix=p, unique=True)
    open_sql, open_states = in_list([s.value for s in OPEN_STATES])
    committed_sql, committed_states = in_list([s.value for s in COMMITTED_STATES])
    period_days = (end - start).days + 1
    held = " + ".join(
        f"(CASE WHEN {ctx.holds(tag_id=pt.tag_id, level=pt.min_level)} THEN 1 ELSE 0 END)" for pt in required
    )
    held = held or "0"

    def outcome(columns: list[str]) -> str:
        if not columns:
            return "0"
        failing = " OR ".join(f"{c} IS NOT DISTINCT FROM 1" for c in columns)
        unknown = " OR ".join(f"{c} IS NULL" for c in columns)
        return f"(CASE WHEN {failing} THEN 1 WHEN {unknown} THEN NULL ELSE 0 END)"

    tag_flags, tag_params = ctx.tag_flags_sql(prefix=p)
    h = _numeric(hours)
    score = ""
    if with_score:
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
        hours_part = f"LEAST(1, GREATEST(0, k.free / {h}))" if hours else "1"
        rules_part = "(CASE WHEN k.block = 1 OR k.clashes > 0 THEN 0 WHEN k.warn = 1 THEN 0.5 ELSE 1 END)"
        raw_score = (
            f"40 * {tag_part} + 30 * {hours_part} + 20 * (CASE k.state {state_score} ELSE 0 END) + 10 * {rules_part}"
        )
        score = f", {round_half_even(f'({raw_score})', 1)} AS score"
    sql = f"""{supply},
    {p}ovagg AS (
        SELECT a.employee_id AS employee_id,
               COUNT(*) FILTER (WHERE a.state IN {committed_sql}) AS n_committed,
               COALESCE(SUM(a.weekly_hours) FILTER (WHERE a.state IN {committed_sql}), 0) AS sum_committed,
               COALESCE(MAX(a.weekly_hours) FILTER (WHERE a.state IN {committed_sql}), 0) AS max_committed,
               COUNT(*) AS n_open,
               COUNT(*) FILTER (WHERE a.position_id = %s) AS clashes
        FROM {ASG} a JOIN {p}pool pl ON pl.id = a.employee_id
        WHERE a.state IN {open_sql}
          AND a.start_date <= %s AND (a.end_date IS NULL OR a.end_date >= %s)
        GROUP BY a.employee_id
    ),
    {tag_flags},
    {p}rules AS (
        SELECT e.id, e.employee_number, e.state,
               ROUND((e.contracted - e.leave_h - e.assigned) * 7 / {period_days}, 2) AS free,
               {held} AS held, ov.clashes AS clashes{"".join(", " + c for c in rule_columns)}
        FROM {p}supply e
        LEFT JOIN {p}tf tf ON tf.employee_id = e.id
        LEFT JOIN {p}ovagg o ON o.employee_id = e.id
        CROSS JOIN LATERAL (
            SELECT COALESCE(o.n_committed, 0) AS n_committed, COALESCE(o.sum_committed, 0) AS sum_committed,
                   COALESCE(o.max_committed, 0) AS max_committed, COALESCE(o.n_open, 0) AS n_open,
                   COALESCE(o.clashes, 0) AS clashes
        ) ov
    ),
    {p}facts AS (
        SELECT k.id, k.employee_number, k.state, k.free, k.held, k.clashes,
               {outcome(severity_columns[True])} AS block, {outcome(severity_columns[False])} AS warn
        FROM {p}rules k
    ),
    {p}keyed AS (
        SELECT k.id, k.employee_number, k.free, k.warn,
               -- out already (on the position, or a blocking rule fails) or every rule known: decided
               NOT (k.clashes > 0 OR COALESCE(k.block = 1, FALSE)
                    OR (k.block IS NOT NULL AND k.warn IS NOT NULL)) AS undecided,
               COALESCE(k.state = %s AND k.held = {len(required)} AND k.free >= {h} AND k.clashes = 0
                        AND k.block = 0, FALSE) AS fits{score}
        FROM {p}facts k
    )"""  # noqa: S608 -- fragments, table names and choice values are constants
    params = [
        *supply_params,
        *committed_states,
        *committed_states,
        *committed_states,
        position.pk,
        *open_states,
        end,
        start,
        *tag_params,
        *rule_params,
        EmployeeState.ACTIVE.value,
    ]
    return sql, params


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
) -> Shortlist:
    """One query: see the module docstring. PostgreSQL only. ``prefilter=False`` skips the qualified-first path
    (every key computed, as before it existed): the benchmark's baseline."""
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
    # Only the qualified can fit, and a fitting employee's score is 100, or 95 with a failing warning: when enough
    # of the qualified fit, the page is decided among them alone (no score needed).
    fast, fast_params = _keys_sql(
        ctx,
        employees=_qualified(employees, required, start, end),
        prefix="q_",
        with_score=False,
        **common,
    )
    # Otherwise the page reaches employees who do not fit: everyone's key, as before (read only in that case).
    full, full_params = _keys_sql(ctx, employees=employees, prefix="", with_score=True, **common)
    pool_sql, pool_params = queryset_sql(employees.order_by().values("id"))
    supply_columns = "s.from_ledger, s.contracted, s.leave_h, s.assigned, s.worked"
    decided_fits = "COUNT(*) FILTER (WHERE fits AND NOT undecided)"
    gate = "SELECT FALSE AS enough, 0 AS fitting"
    if prefilter:
        gate = f"SELECT {decided_fits} >= %s AS enough, {decided_fits} AS fitting FROM q_keyed"  # noqa: S608
    # Each branch of ``page`` runs only on its side of the gate: a one-time filter at the branch's top, so PostgreSQL
    # does not even start the other side's CTEs (it evaluates a CTE only when first read; a join below the filter
    # would read one row of its outer side first).
    sql = f"""
    WITH {fast},
    {full},
    gate AS ({gate}),
    page AS (
        (SELECT k.id, FALSE AS undecided, k.rank, {supply_columns}
         FROM (SELECT id, ROW_NUMBER() OVER () AS rank FROM (
                   SELECT id FROM q_keyed WHERE fits AND NOT undecided AND (SELECT enough FROM gate)
                   ORDER BY warn, free DESC, employee_number COLLATE "C", id LIMIT %s) top) k
         JOIN q_supply s ON s.id = k.id WHERE (SELECT enough FROM gate))
        UNION ALL
        (SELECT k.id, TRUE, 0, {supply_columns} FROM q_keyed k JOIN q_supply s ON s.id = k.id
         WHERE k.undecided AND (SELECT enough FROM gate))
        UNION ALL
        (SELECT k.id, FALSE, k.rank, {supply_columns}
         FROM (SELECT id, ROW_NUMBER() OVER () AS rank FROM (
                   SELECT id FROM keyed WHERE NOT undecided AND NOT (SELECT enough FROM gate)
                   ORDER BY fits DESC, score DESC, free DESC, employee_number COLLATE "C", id LIMIT %s) top) k
         JOIN supply s ON s.id = k.id WHERE NOT (SELECT enough FROM gate))
        UNION ALL
        (SELECT k.id, TRUE, 0, {supply_columns} FROM keyed k JOIN supply s ON s.id = k.id
         WHERE k.undecided AND NOT (SELECT enough FROM gate))
    ),
    totals AS (
        SELECT (SELECT COUNT(*) FROM ({pool_sql}) p) AS considered,
               CASE WHEN (SELECT enough FROM gate) THEN (SELECT fitting FROM gate)
                    ELSE (SELECT {decided_fits} FROM keyed) END AS fitting
    )
    SELECT t.considered, t.fitting, p.undecided, p.id, p.from_ledger, p.contracted, p.leave_h, p.assigned, p.worked,
           (SELECT enough FROM gate)
    FROM totals t LEFT JOIN page p ON TRUE
    ORDER BY p.undecided, p.rank"""  # noqa: S608 -- fragments, table names and choice values are constants
    params = [*fast_params, *full_params, *([limit] if prefilter else []), limit, limit, *pool_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    considered, fitting, qualified_only = rows[0][0], rows[0][1], rows[0][9]
    supply_rows, undecided = {}, set()
    for row in rows:
        if row[3] is None:
            continue
        supply_rows[row[3]] = (bool(row[4]), *row[5:9])
        if row[2]:
            undecided.add(row[3])
    return Shortlist(considered, fitting, supply_rows, undecided, qualified_only)
