"""The employee's states and transition names are defined with the employee (``apps.api.choices``); the names stay
importable from here for the state machine's callers."""

from apps.api.choices import EmployeeState, EmployeeTransition

__all__ = ["EmployeeState", "EmployeeTransition"]
