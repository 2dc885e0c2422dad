"""The greedy baseline the benchmark and tests compare the solver against (it is not used to plan).

Positions in priority order (then code); each takes its best candidates one after another — most free hours
first, as a planner reading the candidate ranking would — until its widest weekly gap is covered. Same
problem, same eligibility, same per-person capacity and plan-wide rule caps as the solver.
"""

import math
from collections import defaultdict
from dataclasses import dataclass

from apps.demand.planning.problem import Problem


@dataclass
class GreedyResult:
    proposals: list[tuple[int, int, int]]
    closed_hours: float


def greedy_plan(problem: Problem) -> GreedyResult:
    """Fill positions one at a time in priority order with the best remaining candidates."""
    left = {pk: person.capacity for pk, person in problem.people.items()}
    hours_caps = defaultdict(list)
    for employee_id, _rule, cap, scope in problem.limits.hours:
        hours_caps[employee_id].append([cap, scope])
    count_caps = defaultdict(list)
    for employee_id, _rule, cap, scope in problem.limits.count:
        count_caps[employee_id].append([cap, scope])
    by_position = problem.pairs_by_position()
    proposals = []
    order = sorted(problem.needs.values(), key=lambda n: (n.priority, n.position.code, n.position.pk))
    for need in order:
        if not need.open:
            continue
        wanted = max((need.gap.get(w.monday, 0) * 7 / w.days for w in problem.weeks), default=0)
        got = 0
        candidates = sorted(by_position.get(need.position.pk, []), key=lambda p: (-left[p.employee_id], p.employee_id))
        for pair in candidates:
            if got >= wanted:
                break
            e = pair.employee_id
            room = min([left[e], pair.high] + [c for c, scope in hours_caps[e] if need.position.pk in scope])
            if any(c <= 0 for c, scope in count_caps[e] if need.position.pk in scope):
                continue
            hours = int(min(room, max(pair.low, math.ceil(wanted - got))))
            if hours < pair.low or hours <= 0:
                continue
            proposals.append((e, need.position.pk, hours))
            got += hours
            left[e] -= hours
            for cap in hours_caps[e]:
                cap[0] -= hours
            for cap in count_caps[e]:
                cap[0] -= 1
    return GreedyResult(proposals, closed_hours(problem, proposals))


def closed_hours(problem: Problem, proposals: list[tuple[int, int, int]]) -> float:
    """Gap hours a set of proposals closes (each week's fill capped at its gap)."""
    brought: dict = defaultdict(float)
    for _e, position_id, hours in proposals:
        for week in problem.weeks:
            brought[(position_id, week.monday)] += hours * week.days / 7
    total = 0.0
    for (position_id, monday), value in brought.items():
        total += min(value, float(problem.needs[position_id].gap.get(monday, 0)))
    return round(total, 2)
