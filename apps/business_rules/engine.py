"""Rule evaluation entry point used by every transition (the hook the transition service calls).

The catalogue, the rule-type registry and the evaluators arrive with the business-rules issue; until
then no rule applies to any event, so every transition passes this check.
"""

from typing import Any


def evaluate_event(*, event: str, context: dict[str, Any]) -> list[dict[str, Any]]:
    """Every applicable rule's result for ``event`` (e.g. ``employee.terminate``) in ``context``."""
    return []
