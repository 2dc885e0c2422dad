"""django-filter FilterSets for the audit lists: the object, the actor, states, the time range, the request id.

``transition_log_filterset(log_model)`` builds one for any ``TransitionLogBase`` table, so a new state machine's
log (assignments next) gets its filters from its model rather than from a copied class.

Bad values are 400s, never empty pages or 500s: an unknown object, actor, tag, state or transition name is
refused with the valid choices (``ModelChoiceFilter`` / ``ChoiceFilter``), and so is a malformed, out-of-range
or inverted time range. Naive datetimes are read as UTC, the zone every log timestamp is stored in.
"""

import datetime

from django import forms
from django.contrib.auth import get_user_model
from django.db import models
from django.utils.dateparse import parse_datetime
from django.utils.encoding import force_str
from django_filters import rest_framework as filters
from django_fsm import FSMFieldMixin

from apps.api.models import Employee, Position
from apps.tags.choices import TagAction, TagTarget
from apps.tags.models import TagCatalog, TagChangeLog


class UTCDateTimeField(forms.DateTimeField):
    """An ISO 8601 instant, returned in UTC. Naive input is UTC (not the server's zone, as Django would read it);
    a value that UTC cannot hold is invalid rather than a 500 further down."""

    default_error_messages = {
        "invalid": "Enter an ISO 8601 date and time, e.g. 2026-01-31T09:30:00Z.",
        "overflow": "The date and time is out of range.",
    }

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime.datetime):
            parsed = value
        else:
            try:
                parsed = parse_datetime(force_str(value).strip())
            except ValueError:  # well formed but impossible, e.g. February 30th
                parsed = None
            if parsed is None:
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=datetime.UTC)
        try:
            return parsed.astimezone(datetime.UTC)
        except OverflowError as exc:  # e.g. 9999-12-31T23:59:59-14:00 lies past datetime.max in UTC
            raise forms.ValidationError(self.error_messages["overflow"], code="overflow") from exc


class UTCDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UTCDateTimeField


class IntegerFilter(filters.NumberFilter):
    """A whole number (NumberFilter alone takes decimals, and 1.5 would quietly match id 1)."""

    field_class = forms.IntegerField


class TimeRangeForm(forms.Form):
    """The filter form: ``since`` may not come after ``until``."""

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", "'until' must not be earlier than 'since'.")
        return cleaned


class AuditLogFilterSet(filters.FilterSet):
    """Filters every log table shares. ``since`` and ``until`` are both inclusive bounds on ``created_at``."""

    actor = filters.ModelChoiceFilter(queryset=get_user_model()._default_manager.all())
    since = UTCDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = UTCDateTimeFilter(field_name="created_at", lookup_expr="lte")
    request_id = filters.CharFilter(field_name="request_id")

    class Meta:
        form = TimeRangeForm
        fields: tuple[str, ...] = ()


def _fsm_field(model: type[models.Model]) -> FSMFieldMixin:
    fields = [f for f in model._meta.get_fields() if isinstance(f, FSMFieldMixin)]
    if len(fields) != 1:
        raise TypeError(f"{model.__name__} must have exactly one FSM field to derive audit filters from.")
    return fields[0]


def transition_log_filterset(
    log_model: type[models.Model],
    subject_field: str | None = None,
    *,
    states: list[tuple[str, str]] | None = None,
    transitions: list[str] | None = None,
) -> type[filters.FilterSet]:
    """A FilterSet for one transition log table: its object, actor, transition, source/target state, time range.

    The object filter is named after ``subject_field`` (default: the log model's own ``subject_field``).
    State and transition choices come from the object model's FSM field unless given.
    """
    subject_field = subject_field or log_model.subject_field
    subject_model = log_model._meta.get_field(subject_field).related_model
    if states is None or transitions is None:
        fsm_field = _fsm_field(subject_model)
        states = states if states is not None else list(fsm_field.choices)
        if transitions is None:
            transitions = sorted({t.name for t in fsm_field.get_all_transitions(subject_model)})
    transition_choices = [(name, name) for name in transitions]

    attrs = {
        subject_field: filters.ModelChoiceFilter(
            field_name=subject_field, queryset=subject_model._default_manager.all()
        ),
        "transition": filters.ChoiceFilter(field_name="transition", choices=transition_choices),
        "source": filters.ChoiceFilter(field_name="source_state", choices=states),
        "target": filters.ChoiceFilter(field_name="target_state", choices=states),
        "Meta": type("Meta", (AuditLogFilterSet.Meta,), {"model": log_model, "fields": ()}),
    }
    return type(f"{log_model.__name__}FilterSet", (AuditLogFilterSet,), attrs)


class TagChangeLogFilterSet(AuditLogFilterSet):
    """Tag changes: by employee, position, tag, action, target type and id, actor, time range."""

    employee = filters.ModelChoiceFilter(queryset=Employee.objects.all())
    position = filters.ModelChoiceFilter(queryset=Position.objects.all())
    tag = filters.ModelChoiceFilter(queryset=TagCatalog.objects.all())
    action = filters.ChoiceFilter(choices=TagAction.choices)
    target_type = filters.ChoiceFilter(choices=TagTarget.choices)
    target_id = IntegerFilter(field_name="target_id", min_value=1, max_value=2**63 - 1)

    class Meta(AuditLogFilterSet.Meta):
        model = TagChangeLog
        fields = ()
