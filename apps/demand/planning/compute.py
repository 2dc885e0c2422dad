"""From a plan's inputs to its results: build the problem, solve, have the engine judge the plan, explain it.

The engine has the last word: a proposal it would refuse (a block rule failing with the plan's other proposals
in place) is forbidden and the model solved again, up to ``MAX_ROUNDS`` times; whatever still fails after that
is dropped, so a solved plan never holds a proposal the engine refuses.
"""

import datetime
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

from django.db.models import QuerySet

from apps.api.models import Employee, Position
from apps.demand.periods import Period, hours_text, ratio
from apps.demand.planning.greedy import greedy_plan
from apps.demand.planning.problem import Problem, describe_hours, problem_build
from apps.demand.planning.solver import DEFAULT_WEIGHTS, PRIORITY_FACTOR, Solution, solve
from apps.demand.planning.verify import plan_verify

MAX_ROUNDS = 5
PLAN_REASON = "Auto-plan #{plan}"


def plan_compute(
    *,
    period: Period,
    positions: QuerySet[Position],
    pool: QuerySet[Employee],
    today: datetime.date | None = None,
    weights: dict | None = None,
    seed: int = 0,
    time_limit: float = 10.0,
    min_hours: int = 4,
    reason: str = "auto-plan",
    progress: Callable[[int], None] | None = None,
) -> dict:
    """The results of a plan (JSON-ready): proposals, coverage before/after, open gaps with reasons, metrics."""
    started = time.monotonic()
    report = progress or (lambda _value: None)
    problem = problem_build(period=period, positions=positions, pool=pool, today=today, min_hours=min_hours)
    report(30)
    start_from = greedy_plan(problem).proposals  # the search starts from the greedy plan: never worse than it
    forbidden: set = set()
    refused: list[dict] = []
    rounds = 0
    while True:
        rounds += 1
        solution = solve(
            problem,
            weights=weights,
            seed=seed,
            time_limit=time_limit,
            forbidden=frozenset(forbidden),
            hint=[p for p in start_from if (p[0], p[1]) not in forbidden],
        )
        rows = [{"employee": e, "position": p, "weekly_hours": h} for e, p, h in solution.proposals]
        verdicts = plan_verify(proposals=rows, start=period.start, end=period.end, today=today, reason=reason)
        bad = [(row, v) for row, v in zip(rows, verdicts, strict=True) if v.blocks]
        if not bad:
            break
        for row, v in bad:
            forbidden.add((row["employee"], row["position"]))
            refused.append({**row, "blocks": v.blocks})
        if rounds >= MAX_ROUNDS:
            keep = [(s, v) for s, v in zip(solution.proposals, verdicts, strict=True) if not v.blocks]
            solution.proposals = [s for s, _v in keep]
            verdicts = [v for _s, v in keep]
            _recount_fill(problem, solution)
            break
        report(min(90, 30 + rounds * 10))
    results = _results(problem, solution, verdicts, weights, refused, rounds)
    results["metrics"]["time_seconds"] = round(time.monotonic() - started, 3)
    report(100)
    return results


def _recount_fill(problem: Problem, solution: Solution) -> None:
    """Fill per position-week from the proposals kept (after dropping refused ones)."""
    brought: dict = defaultdict(int)
    for _e, position_id, hours in solution.proposals:
        for week in problem.weeks:
            brought[(position_id, week.monday)] += hours * 100 * week.days // 7
    solution.fill = {
        key: min(value, int(round(problem.needs[key[0]].gap.get(key[1], 0) * 100))) for key, value in brought.items()
    }


def _share(problem: Problem, solution: Solution) -> dict:
    """(employee, position, week) → centi-hours of that week's filled gap credited to the proposal (pro rata)."""
    brought: dict = defaultdict(dict)
    for e, p, h in solution.proposals:
        for week in problem.weeks:
            brought[(p, week.monday)][e] = h * 100 * week.days / 7
    shares = {}
    for key, filled in solution.fill.items():
        total = sum(brought.get(key, {}).values())
        for e, value in brought.get(key, {}).items():
            shares[(e, key[0], key[1])] = filled * value / total if total else 0
    return shares


def _results(problem: Problem, solution: Solution, verdicts, weights, refused, rounds) -> dict:
    w = {**DEFAULT_WEIGHTS, **(weights or {})}
    period = problem.period
    pairs = {(p.employee_id, p.position_id): p for p in problem.pairs}
    shares = _share(problem, solution)
    proposals = []
    planned_hours: dict[int, int] = defaultdict(int)
    for (e, p, h), verdict in zip(solution.proposals, verdicts, strict=True):
        person, need, pair = problem.people[e], problem.needs[p], pairs.get((e, p))
        planned_hours[e] += h
        fills = [
            {
                "week": week.monday.isoformat(),
                "hours": hours_text(Decimal(str(shares.get((e, p, week.monday), 0))) / 100),
            }
            for week in problem.weeks
            if shares.get((e, p, week.monday))
        ]
        closed = sum(shares.get((e, p, week.monday), 0) for week in problem.weeks) / 100
        factor = PRIORITY_FACTOR.get(need.priority, 3)
        terms = {
            "coverage": round(w["coverage"] * factor * closed, 2),
            "warnings": -w["warnings"] if pair and pair.warnings else 0,
            "continuity": w["continuity"] if pair and pair.continuity else 0,
            "changes": -w["changes"],
        }
        why = [
            f"fills {describe_hours(closed)} h of {need.position.code}'s gap (priority {need.priority})",
            f"{describe_hours(person.capacity)} h/week free before this plan",
        ]
        if pair and pair.continuity:
            why.append(f"already works on {need.position.code} (continuity)")
        if need.required_tags:
            why.append("holds " + ", ".join(f"{t.tag.code} ≥ {t.min_level}" for t in need.required_tags))
        proposals.append(
            {
                "employee": e,
                "employee_number": person.employee.employee_number,
                "employee_name": person.employee.full_name,
                "position": p,
                "position_code": need.position.code,
                "start": period.start.isoformat(),
                "end": period.end.isoformat(),
                "weekly_hours": hours_text(h),
                "fills": fills,
                "gap_hours_filled": hours_text(Decimal(str(closed))),
                "score": terms,
                "reasons": why,
                "warnings": verdict.warnings,
                "rules_evaluated": verdict.evaluated,
            }
        )

    coverage = []
    gaps = []
    gap_before = Decimal(0)
    closed_total = Decimal(0)
    by_position: dict[int, list] = defaultdict(list)
    for e, p, h in solution.proposals:
        by_position[p].append((e, h))
    for position_id, need in problem.needs.items():
        for week in problem.weeks:
            row = need.before.get(week.monday)
            if row is None:
                continue
            added = sum(Decimal(h) * week.days / 7 for _e, h in by_position.get(position_id, []))
            gap = need.gap.get(week.monday, Decimal(0))
            filled = Decimal(solution.fill.get((position_id, week.monday), 0)) / 100
            gap_before += gap
            closed_total += filled
            assigned_after = Decimal(row["assigned_hours"]) + added
            required = Decimal(row["required_hours"])
            coverage.append(
                {
                    "position": position_id,
                    "position_code": need.position.code,
                    "week": week.monday.isoformat(),
                    "required_hours": row["required_hours"],
                    "assigned_hours_before": row["assigned_hours"],
                    "assigned_hours_after": hours_text(assigned_after),
                    "gap_hours_before": hours_text(gap),
                    "gap_hours_after": hours_text(max(gap - filled, Decimal(0))),
                    "coverage_ratio_before": row["coverage_ratio"],
                    "coverage_ratio_after": ratio(assigned_after, required),
                    "proposals": len(by_position.get(position_id, [])),
                }
            )
            if gap - filled > Decimal("0.005"):
                gaps.append(
                    {
                        "position": position_id,
                        "position_code": need.position.code,
                        "week": week.monday.isoformat(),
                        "gap_hours": hours_text(gap - filled),
                        "reasons": gap_reasons(problem, solution, position_id, week.monday),
                    }
                )

    utilisation = []
    for e, h in planned_hours.items():
        person = problem.people[e]
        if person.contracted > 0:
            used = person.contracted - min(person.free.values(), default=Decimal(0))
            utilisation.append(float((used + h) / person.contracted))
    hours_per_person = list(planned_hours.values())
    metrics = {
        "gap_hours_before": hours_text(gap_before),
        "gap_hours_closed": hours_text(closed_total),
        "gap_hours_after": hours_text(gap_before - closed_total),
        "fill_rate": ratio(closed_total, gap_before),
        "proposals": len(proposals),
        "people_planned": len(planned_hours),
        "hours_per_person": {
            "min": min(hours_per_person, default=0),
            "max": max(hours_per_person, default=0),
            "spread": (max(hours_per_person) - min(hours_per_person)) if hours_per_person else 0,
        },
        "utilisation": {
            "min": round(min(utilisation), 4) if utilisation else None,
            "max": round(max(utilisation), 4) if utilisation else None,
            "spread": round(max(utilisation) - min(utilisation), 4) if utilisation else None,
            "stdev": round(statistics.pstdev(utilisation), 4) if len(utilisation) > 1 else 0.0,
        },
        "solver_status": solution.status,
        "objective": round(solution.objective, 2),
        "bound": round(solution.bound, 2),
        "optimality_gap": solution.optimality_gap,
        "solver_time_seconds": round(solution.wall_time, 3),
        "deterministic": solution.deterministic,
        "rounds": rounds,
        "candidates": len(problem.pairs),
        "pool": problem.pool_size,
        "positions_with_gap": sum(1 for n in problem.needs.values() if n.open),
    }
    return {
        "proposals": proposals,
        "coverage": coverage,
        "gaps": gaps,
        "metrics": metrics,
        "score_terms": {k: round(v, 2) for k, v in solution.terms.items()},
        "weights": w,
        "refused_by_rules": refused,
    }


def gap_reasons(problem: Problem, solution: Solution, position_id: int, week: datetime.date) -> list[str]:
    """Why a position's gap in ``week`` stays open, in words a planner can act on."""
    need = problem.needs[position_id]
    period = problem.period
    reasons = []
    for pt in need.required_tags:
        if not problem.holders.get((pt.tag_id, pt.min_level)):
            reasons.append(
                f"no active employee holds {pt.tag.code} level ≥ {pt.min_level} valid "
                f"{period.start.isoformat()} through {period.end.isoformat()}"
            )
    if reasons:
        return reasons
    candidates = [p for p in problem.pairs if p.position_id == position_id]
    excluded = problem.excluded.get(position_id, {})
    who = problem.excluded_people.get(position_id, {})
    qualified = problem.qualified.get(position_id, 0)
    if problem.pool_size == 0:
        return ["no active employee in the planner's scope is employed over the whole period"]
    if qualified == 0:
        tags = ", ".join(f"{t.tag.code} ≥ {t.min_level}" for t in need.required_tags)
        return [f"no active employee holds all of {tags} valid over the whole period"]
    full = who.get("no_free_hours", [])
    if full:
        caps = sorted({problem.people[e].contracted for e in full})
        limit = f"their {describe_hours(caps[0])} h maximum" if len(caps) == 1 else "their contracted maximum"
        noun = "person who qualifies is" if len(full) == 1 else f"{len(full)} people who qualify are"
        reasons.append(f"the {noun} at {limit} that week (under {problem.min_hours} h/week free)")
    if excluded.get("already_assigned"):
        n = excluded["already_assigned"]
        reasons.append(f"{_people(n, 'qualifying')} already {'has' if n == 1 else 'have'} an open assignment to it")
    for key, count in sorted(excluded.items()):
        if key.startswith("rule:"):
            reasons.append(f"{_people(count, 'qualifying')} {'is' if count == 1 else 'are'} refused by rule {key[5:]}")
    if problem.capped.get(position_id):
        n = problem.capped[position_id]
        reasons.append(
            f"{_people(n, 'more qualifying')} {'was' if n == 1 else 'were'} not considered (candidate cap per position)"
        )
    used = [p for p in candidates if any(e == p.employee_id for e, _p, _h in solution.proposals)]
    if candidates:
        elsewhere = [
            p for p in used if not any(e == p.employee_id and q == position_id for e, q, _h in solution.proposals)
        ]
        planned_here = [e for e, q, _h in solution.proposals if q == position_id]
        if elsewhere:
            codes = sorted(
                {
                    problem.needs[q].position.code
                    for e, q, _h in solution.proposals
                    if e in {p.employee_id for p in elsewhere}
                }
            )
            verb = "is" if len(elsewhere) == 1 else "are"
            reasons.append(
                f"{len(elsewhere)} of the {_people(len(candidates), 'eligible')} {verb} planned on "
                f"{', '.join(codes[:5])} (higher value there)"
            )
        if planned_here:
            n = len(planned_here)
            who = "the 1 person planned here gives" if n == 1 else f"the {n} people planned here give"
            reasons.append(f"{who} all the free hours the rules allow")
        if not used:
            reasons.append(
                f"the {_people(len(candidates), 'eligible')} cost more than the gap is worth at these weights"
            )
    return reasons or ["nobody eligible is left for this week"]


def _people(n: int, adjective: str) -> str:
    """ "1 eligible person", "3 eligible people"."""
    return f"{n} {adjective} {'person' if n == 1 else 'people'}"
