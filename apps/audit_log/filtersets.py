"""django-filter FilterSets for the audit lists: the object, the actor, states, the time range, the request id.

``transition_log_filterset(log_model)`` builds one for any ``TransitionLogBase`` table, so a new state machine's
log (assignments next) gets its filters from its model rather than from a copied class.

Bad values are 400s, never empty pages or 500s: an unknown object, actor, tag, state or transition name is
refused with the valid choices (``ModelChoiceFilter`` / ``ChoiceFilter``), and so is a malformed, out-of-range
or inverted time range. Naive datetimes are read as UTC, the zone every log timestamp is stored in.
"""

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Q
from django_filters import rest_framework as filters
from django_fsm import FSMFieldMixin

from apps.api.models import Employee, Position
from apps.audit_log.models import ChainVerification
from apps.audit_log.selectors import ACTIONS, CHANGE_MODELS
from apps.tags.choices import TagAction, TagTarget
from apps.tags.models import TagCatalog, TagChangeLog
from backend.filters import IdFilter, SinceUntilForm, UTCDateTimeFilter


class AuditLogFilterSet(filters.FilterSet):
    """Filters every log table shares. ``since`` and ``until`` are both inclusive bounds on ``created_at``."""

    actor = filters.ModelChoiceFilter(queryset=get_user_model()._default_manager.all())
    since = UTCDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = UTCDateTimeFilter(field_name="created_at", lookup_expr="lte", end_of_day=True)
    request_id = filters.CharFilter(field_name="request_id")

    class Meta:
        form = SinceUntilForm
        fields: tuple[str, ...] = ()


def _fsm_field(model: type[models.Model]) -> FSMFieldMixin:
    fields = [f for f in model._meta.get_fields() if isinstance(f, FSMFieldMixin)]
    if len(fields) != 1:
        raise TypeError(f"{model.__name__} must have exactly one FSM field to derive audit filters from.")
    return fields[0]


def _employee_fk(model: type[models.Model]) -> str | None:
    """The name of ``model``'s one foreign key to Employee (None: none, or more than one)."""
    names = [f.name for f in model._meta.get_fields() if f.many_to_one and f.related_model is Employee]
    return names[0] if len(names) == 1 else None


def transition_log_filterset(
    log_model: type[models.Model],
    subject_field: str | None = None,
    *,
    states: list[tuple[str, str]] | None = None,
    transitions: list[str] | None = None,
) -> type[filters.FilterSet]:
    """A FilterSet for one transition log table: its object, actor, transition, source/target state, time range.

    The object filter is named after ``subject_field`` (default: the log model's own ``subject_field``).
    State and transition choices come from the object model's FSM field unless given. When the object belongs to
    an employee (an assignment's ``employee``), ``employee`` filters by that employee too, like every audit list.
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
    owner = _employee_fk(subject_model)
    if owner is not None and "employee" not in attrs:
        attrs["employee"] = filters.ModelChoiceFilter(
            field_name=f"{subject_field}__{owner}", queryset=Employee._default_manager.all()
        )
    return type(f"{log_model.__name__}FilterSet", (AuditLogFilterSet,), attrs)


class TagChangeLogFilterSet(AuditLogFilterSet):
    """Tag changes: by employee, position, tag, action, target type and id, actor, time range."""

    employee = filters.ModelChoiceFilter(queryset=Employee.objects.all())
    position = filters.ModelChoiceFilter(queryset=Position.objects.all())
    tag = filters.ModelChoiceFilter(queryset=TagCatalog.objects.all())
    action = filters.ChoiceFilter(choices=TagAction.choices)
    target_type = filters.ChoiceFilter(choices=TagTarget.choices)
    target_id = IdFilter(field_name="target_id")

    class Meta(AuditLogFilterSet.Meta):
        model = TagChangeLog
        fields = ()


class ChangeFilterSet(filters.FilterSet):
    """``/api/audit/changes/``: ``model``, ``object`` (its id), ``actor`` (a user id), ``action`` (create, update,
    delete), ``field`` (rows that set or changed it), ``since``/``until`` (inclusive, on the change's time)."""

    model = filters.ChoiceFilter(choices=[(name, name) for name in CHANGE_MODELS], method="filter_model")
    object = IdFilter(method="filter_object")
    actor = IdFilter(method="filter_actor")
    action = filters.ChoiceFilter(choices=[(name, name) for name in ACTIONS], method="filter_action")
    field = filters.CharFilter(method="filter_field", max_length=64)
    since = UTCDateTimeFilter(field_name="pgh_created_at", lookup_expr="gte")
    until = UTCDateTimeFilter(field_name="pgh_created_at", lookup_expr="lte", end_of_day=True)

    class Meta:
        form = SinceUntilForm
        fields: tuple[str, ...] = ()

    def filter_model(self, queryset, name, value):
        return queryset.across(CHANGE_MODELS[value])

    def filter_object(self, queryset, name, value):
        return queryset.filter(pgh_obj_id=str(value))

    def filter_actor(self, queryset, name, value):
        return queryset.filter(pgh_context__user=value)

    def filter_action(self, queryset, name, value):
        return queryset.filter(pgh_label=ACTIONS[value])

    def filter_field(self, queryset, name, value):
        # The snapshot holds columns: a foreign key "org_unit" is the column "org_unit_id".
        columns = [value, f"{value}_id"]
        return queryset.filter(
            Q(pgh_diff__has_any_keys=columns) | Q(pgh_label__in=("insert", "delete"), pgh_data__has_any_keys=columns)
        )


class ChainVerificationFilterSet(filters.FilterSet):
    """Full walks of the trail: by ``status`` (ok, broken, error), ``source``, and ``since``/``until`` (inclusive,
    on when the walk ended)."""

    status = filters.ChoiceFilter(choices=ChainVerification.Status.choices)
    source = filters.ChoiceFilter(choices=ChainVerification.Source.choices)
    since = UTCDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = UTCDateTimeFilter(field_name="created_at", lookup_expr="lte", end_of_day=True)

    class Meta:
        form = SinceUntilForm
        model = ChainVerification
        fields: tuple[str, ...] = ()
