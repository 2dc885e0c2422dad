"""The auto-plan's optimiser: a CP-SAT model (Google OR-Tools) over the pairs of a ``Problem``.

Variables: per pair (employee, position) a whole number of weekly hours ``x`` (0, or within the pair's
[low, high]) and a flag ``y`` (the pair is proposed); per position and week the hours of gap it fills ``f``
(centi-hours, at most the gap). A proposal runs over the plan's whole period at ``x`` hours a week.

Hard constraints: the hours range of each pair; each person's weekly free hours (their tightest week); the
plan-wide rules (``max_weekly_hours``, ``max_concurrent_assignments``) for every position they scope; a week's
fill at most the hours the proposals bring that week (pro-rated by the days of the week in the period).

Objective (maximised, integer points; weights in ``DEFAULT_WEIGHTS``, overridable per plan):
coverage × priority factor per hour of gap closed; minus ``warnings`` per proposal that trips a warn rule;
plus ``continuity`` per proposal of someone already on the position; minus ``changes`` per proposal (fewest
changes); minus ``fairness`` per hour that takes someone past 80 % of their contract (spreads the load).

Determinism: one CP-SAT worker in interleaved search mode (its subsolvers take turns, so the run does not depend
on thread timing), the plan's seed, and the plan's time limit as a *deterministic* limit (CP-SAT's work units,
roughly a second of an unloaded core each); a wall-clock limit (``wall_limit``) is only a safety net. A solve that
stops on the deterministic limit (``deterministic`` in the metrics) gives the same plan for the same data and seed.
Measured on the contested benchmark, two interleaved workers found far worse plans than one, and the parallel
portfolio is not reproducible; see ADR 0016.
"""

import math
from dataclasses import dataclass, field
from decimal import Decimal

from apps.demand.planning.problem import Problem

DEFAULT_WEIGHTS = {"coverage": 100, "warnings": 30, "continuity": 5, "changes": 2, "fairness": 10}
# Fairness: each hour that takes a person past this share of their contract costs ``fairness`` points.
FAIR_SHARE = Decimal("0.8")
# Priority 1 (highest) counts five times an hour of priority 5.
PRIORITY_FACTOR = {1: 5, 2: 4, 3: 3, 4: 2, 5: 1}


@dataclass
class Solution:
    """What the solver chose and how sure it is."""

    status: str
    proposals: list[tuple[int, int, int]]  # (employee id, position id, weekly hours)
    fill: dict[tuple[int, object], int]  # (position id, week) → centi-hours of gap filled
    objective: float
    bound: float
    wall_time: float
    terms: dict[str, float] = field(default_factory=dict)
    deterministic: bool = True  # stopped by the deterministic limit or proof, not by the wall clock

    @property
    def optimality_gap(self) -> float | None:
        """|bound − objective| / max(1, |objective|); 0 when proven optimal, None without a solution."""
        if self.status not in ("OPTIMAL", "FEASIBLE"):
            return None
        if self.status == "OPTIMAL":
            return 0.0
        return round(abs(self.bound - self.objective) / max(1.0, abs(self.objective)), 6)


def solve(
    problem: Problem,
    *,
    weights: dict | None = None,
    seed: int = 0,
    time_limit: float = 10.0,
    forbidden: frozenset = frozenset(),
    hint: list[tuple[int, int, int]] | None = None,
) -> Solution:
    """Solve ``problem``; ``forbidden`` pairs (employee id, position id) may not be proposed; ``hint`` proposals
    (employee, position, hours) — the greedy plan — are where the search starts."""
    # Imported here, not with the module: OR-Tools brings pandas and numpy (about 1.2 s and tens of MB per process),
    # and every process that loads the URLs or the admin imports this module, while only a plan's computation solves.
    from ortools.sat.python import cp_model

    w = {**DEFAULT_WEIGHTS, **(weights or {})}
    model = cp_model.CpModel()
    pairs = [p for p in problem.pairs if (p.employee_id, p.position_id) not in forbidden]
    x, y = {}, {}
    pairs_high = {(p.employee_id, p.position_id): p.high for p in pairs}
    for pair in pairs:
        key = (pair.employee_id, pair.position_id)
        domain = cp_model.Domain.from_intervals([[0, 0], [pair.low, pair.high]])
        x[key] = model.new_int_var_from_domain(domain, f"x_{key[0]}_{key[1]}")
        y[key] = model.new_bool_var(f"y_{key[0]}_{key[1]}")
        model.add(x[key] >= pair.low).only_enforce_if(y[key])
        model.add(x[key] == 0).only_enforce_if(~y[key])

    by_employee: dict[int, list] = {}
    by_position: dict[int, list] = {}
    for key in x:
        by_employee.setdefault(key[0], []).append(key)
        by_position.setdefault(key[1], []).append(key)

    for employee_id, keys in by_employee.items():
        model.add(sum(x[k] for k in keys) <= problem.people[employee_id].capacity)
    for employee_id, _rule, cap, scope in problem.limits.hours:
        keys = by_employee.get(employee_id, [])
        _cap_when_in_scope(model, keys, scope, sum(x[k] for k in keys), cap, y)
    for employee_id, _rule, cap, scope in problem.limits.count:
        keys = by_employee.get(employee_id, [])
        _cap_when_in_scope(model, keys, scope, sum(y[k] for k in keys), cap, y)

    fill, fill_parts = {}, {}
    coverage_terms = []
    for position_id, need in problem.needs.items():
        keys = by_position.get(position_id, [])
        factor = PRIORITY_FACTOR.get(need.priority, 3)
        for week in problem.weeks:
            gap = int(round(need.gap.get(week.monday, 0) * 100))
            if gap <= 0 or not keys:
                continue
            f = model.new_int_var(0, gap, f"f_{position_id}_{week.monday}")
            # 7·f ≤ 100·days·Σx: a proposal of x h/week brings x·days/7 hours in a week the period covers partly.
            model.add(7 * f <= 100 * week.days * sum(x[k] for k in keys))
            fill[(position_id, week.monday)] = f
            fill_parts[(position_id, week.monday)] = (gap, week.days, keys)
            coverage_terms.append(w["coverage"] * factor * f)

    warn_keys = [(p.employee_id, p.position_id) for p in pairs if p.warnings]
    cont_keys = [(p.employee_id, p.position_id) for p in pairs if p.continuity]
    objective = sum(coverage_terms)
    objective += -100 * w["warnings"] * sum(y[k] for k in warn_keys)
    objective += 100 * w["continuity"] * sum(y[k] for k in cont_keys)
    objective += -100 * w["changes"] * sum(y.values())
    over_terms, over_parts = [], {}
    if w["fairness"]:
        for employee_id, keys in by_employee.items():
            person = problem.people[employee_id]
            room = int(math.floor(person.contracted * FAIR_SHARE)) - person.used
            if room >= sum(pairs_high[k] for k in keys):
                continue  # cannot go over the fair share: no variable needed
            over = model.new_int_var(0, 168, f"over_{employee_id}")
            model.add(over >= sum(x[k] for k in keys) - room)
            over_terms.append(over)
            over_parts[over] = (room, keys)
        objective += -100 * w["fairness"] * sum(over_terms)
    model.maximize(objective)
    # A complete hint (every variable) is taken as the first solution; a partial one is only a search guide.
    hinted = {(e, p): h for e, p, h in hint or [] if (e, p) in x}
    for key in x:
        hours = hinted.get(key, 0)
        model.add_hint(x[key], hours)
        model.add_hint(y[key], hours > 0)
    for key, f in fill.items():
        gap, days, keys = fill_parts[key]
        model.add_hint(f, min(gap, 100 * days * sum(hinted.get(k, 0) for k in keys) // 7))
    for over, (room, keys) in over_parts.items():
        model.add_hint(over, max(0, sum(hinted.get(k, 0) for k in keys) - room))

    solver = cp_model.CpSolver()
    params = solver.parameters
    params.random_seed = int(seed)
    params.num_workers = 1
    params.interleave_search = True
    params.max_deterministic_time = float(time_limit)
    params.max_time_in_seconds = wall_limit(time_limit)
    status = solver.solve(model)
    name = solver.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        on_time = solver.wall_time < wall_limit(time_limit) * 0.99
        return Solution(name, [], {}, 0.0, 0.0, solver.wall_time, deterministic=on_time)
    proposals = sorted(
        (k[0], k[1], int(solver.value(x[k]))) for k in x if solver.boolean_value(y[k]) and solver.value(x[k]) > 0
    )
    filled = {k: int(solver.value(v)) for k, v in fill.items()}
    terms = {
        "coverage": sum(
            w["coverage"] * PRIORITY_FACTOR.get(problem.needs[k[0]].priority, 3) * v / 100 for k, v in filled.items()
        ),
        "warnings": -w["warnings"] * sum(solver.boolean_value(y[k]) for k in warn_keys),
        "continuity": w["continuity"] * sum(solver.boolean_value(y[k]) for k in cont_keys),
        "changes": -w["changes"] * len(proposals),
        "fairness": -w["fairness"] * sum(solver.value(v) for v in over_terms),
    }
    return Solution(
        name,
        proposals,
        filled,
        solver.objective_value / 100,
        solver.best_objective_bound / 100,
        solver.wall_time,
        terms,
        deterministic=status == cp_model.OPTIMAL or solver.wall_time < wall_limit(time_limit) * 0.99,
    )


def wall_limit(time_limit: float) -> float:
    """The wall-clock safety net behind the deterministic limit (a loaded machine runs slower than CP-SAT's units)."""
    return 3 * float(time_limit) + 10


def _cap_when_in_scope(model, keys, scope, total, cap, y) -> None:
    """``total ≤ cap`` whenever one of the employee's proposals is to a position the rule scopes."""
    in_scope = [k for k in keys if k[1] in scope]
    if not in_scope:
        return
    if len(in_scope) == len(keys):
        model.add(total <= cap)
        return
    for k in in_scope:
        model.add(total <= cap).only_enforce_if(y[k])


def fill_hours(solution: Solution) -> float:
    """Gap hours the solution closes."""
    return math.fsum(solution.fill.values()) / 100
