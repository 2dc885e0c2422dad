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
changes); minus ``fairness`` per point of the highest utilisation (%) among the people planned.

Determinism: the search is CP-SAT's interleaved mode (deterministic whatever the number of workers) bounded by a
deterministic time limit, with the plan's seed; the same problem and seed give the same plan.
"""

import math
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from apps.demand.planning.problem import Problem

DEFAULT_WEIGHTS = {"coverage": 100, "warnings": 30, "continuity": 5, "changes": 2, "fairness": 1}
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
    workers: int = 2,
    forbidden: frozenset = frozenset(),
) -> Solution:
    """Solve ``problem``; ``forbidden`` pairs (employee id, position id) may not be proposed."""
    w = {**DEFAULT_WEIGHTS, **(weights or {})}
    model = cp_model.CpModel()
    pairs = [p for p in problem.pairs if (p.employee_id, p.position_id) not in forbidden]
    x, y = {}, {}
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

    fill = {}
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
            coverage_terms.append(w["coverage"] * factor * f)

    warn_keys = [(p.employee_id, p.position_id) for p in pairs if p.warnings]
    cont_keys = [(p.employee_id, p.position_id) for p in pairs if p.continuity]
    objective = sum(coverage_terms)
    objective += -100 * w["warnings"] * sum(y[k] for k in warn_keys)
    objective += 100 * w["continuity"] * sum(y[k] for k in cont_keys)
    objective += -100 * w["changes"] * sum(y.values())
    peak_util = None
    if w["fairness"] and by_employee:
        peak_util = model.new_int_var(0, 10_000, "peak_utilisation")
        for employee_id, keys in by_employee.items():
            person = problem.people[employee_id]
            contracted = int(round(person.contracted * 100))
            if contracted <= 0:
                continue
            used = int(round((person.contracted - min(person.free.values(), default=0)) * 100))
            # utilisation % = 100 · (used + 100·Σx) / contracted  ≤  peak (only counted for people planned)
            model.add(100 * (used + 100 * sum(x[k] for k in keys)) <= peak_util * contracted).only_enforce_if(
                _any(model, [y[k] for k in keys])
            )
        objective += -100 * w["fairness"] * peak_util
    model.maximize(objective)

    solver = cp_model.CpSolver()
    params = solver.parameters
    params.random_seed = int(seed)
    params.num_workers = max(1, int(workers))
    params.interleave_search = True
    params.max_deterministic_time = float(time_limit)
    params.max_time_in_seconds = float(time_limit) * 3 + 5  # a safety net; the deterministic limit decides
    status = solver.solve(model)
    name = solver.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Solution(name, [], {}, 0.0, 0.0, solver.wall_time)
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
        "fairness": -w["fairness"] * (solver.value(peak_util) if peak_util is not None else 0),
    }
    return Solution(
        name,
        proposals,
        filled,
        solver.objective_value / 100,
        solver.best_objective_bound / 100,
        solver.wall_time,
        terms,
    )


def _any(model: cp_model.CpModel, flags: list):
    """A literal true when any of ``flags`` is (one flag: itself)."""
    if len(flags) == 1:
        return flags[0]
    anyone = model.new_bool_var("")
    model.add_max_equality(anyone, flags)
    return anyone


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
