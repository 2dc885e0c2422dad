"""Admin for state machines: transitions as a guided preview/confirm flow through the shared service; logs read-only.

Any ModelAdmin whose model has a ``TransitionKind`` mixes in ``TransitionActionsAdminMixin``: one changelist action
per transition, and buttons on the object's page for the transitions its state and the user's role allow. Both open
an intermediate page (``transition/<name>/``): the objects, the effective date (default: today in the objects' zone,
blank for each one's own today when they span zones), the reason, a preview of every rule result per object and of
the cascades (``apps.fsm.preview``), the acknowledgement of warnings and — for admins — an override reason. Confirm
performs exactly what was previewed, in one batch (``transition_perform_many``); refusals are messages naming each
object, never a 500. ``render_preview_confirm`` renders the page for other operations too (docs/admin.md).
``ServiceModelForm`` with ``ServiceSaveAdminMixin`` saves a record's form through its service and turns the
service's refusals into an error at the top of the form, with what was typed kept.
"""

from collections import Counter

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import IntegrityError, transaction
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from rangefilter.filters import DateRangeFilter

from apps.fsm.describe import refusal_text
from apps.fsm.models import EmployeeTransitionLog
from apps.fsm.preview import REFUSALS, Preview, transition_confirm, transition_preview
from apps.fsm.services import TransitionKind, TransitionRequest, subject_todays_of, transition_options
from apps.users.choices import Role
from backend import timezones
from backend.admin import ReadOnlyAdmin, ReadOnlyInline, adopt_saved

__all__ = [
    "MAX_NAMED_DONE",
    "EmployeeTransitionLogInline",
    "ServiceModelForm",
    "ServiceSaveAdminMixin",
    "TransitionFlowForm",
    "TransitionActionsAdminMixin",
    "TransitionLogAdmin",
    "TransitionLogInline",
    "default_effective_date",
    "refusal_text",
    "render_preview_confirm",
]

# Done objects are named one by one up to this many; refusals are always all named.
MAX_NAMED_DONE = 50

# What a service may refuse a save with: its own refusals (rules, state, conflict, validation) and a database
# constraint that caught what Python did not.
SAVE_REFUSALS = (*REFUSALS, IntegrityError)


class _TrialRun(Exception):
    """Rolls back the service call ``ServiceModelForm.clean`` makes to learn whether the save would be refused."""


class ServiceModelForm(forms.ModelForm):
    """A record's admin form saved through its service (``service_save``).

    ``clean`` makes the very call in a savepoint it rolls back: a refusal — a rule, a conflict, the service's
    validation, a database constraint — becomes an error at the top of the form ("Not saved: …") with everything
    typed kept, and nothing is written. ``ServiceSaveAdminMixin.save_model`` then makes the call for real.
    """

    actor = None  # the signed-in user, set per request by ServiceSaveAdminMixin.get_form

    def service_fields(self, data: dict) -> dict:
        """The model fields the service is given: the form's own (read-only ones are not in ``data``)."""
        model_fields = {field.name for field in self._meta.model._meta.concrete_fields}
        return {name: data[name] for name in self._meta.fields or () if name in data and name in model_fields}

    def service_save(self, data: dict):
        """Create or update the record through its service with ``data`` (cleaned); return the saved row."""
        raise NotImplementedError

    def clean(self):
        data = super().clean()
        if self.errors or not self.service_fields(data):
            return data
        try:
            with transaction.atomic():
                self.service_save(data)
                raise _TrialRun
        except _TrialRun:
            pass
        except SAVE_REFUSALS as exc:
            raise forms.ValidationError(f"Not saved: {refusal_text(exc)}") from exc
        return data


class ServiceSaveAdminMixin:
    """For a ModelAdmin whose ``form`` is a ``ServiceModelForm``: the form knows the actor, ``save_model`` saves
    through the service, and a refusal between the form's trial run and the save (someone changed something
    meanwhile; the admin's transaction is rolled back) shows the form again with the reason, not a 500."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user  # a class made for this request by modelform_factory
        return form

    def save_model(self, request, obj, form, change):
        adopt_saved(obj, form.service_save(form.cleaned_data))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except SAVE_REFUSALS as exc:
            if request.method != "POST" or isinstance(exc, DjangoPermissionDenied):
                raise
        # Once more: the form's trial run now meets the refusal and shows it above what was typed (or, if the cause
        # has gone, e.g. a deadlock, the save goes through).
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except SAVE_REFUSALS as exc:
            if isinstance(exc, DjangoPermissionDenied):
                raise
            self.message_user(request, f"Not saved: {refusal_text(exc)}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class TransitionFlowForm(forms.Form):
    """What the API's POST body carries, as the intermediate page asks for it (nothing filled in for the user)."""

    effective_date = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        required=False,
        help_text="The day the change takes effect. Blank: today where each one works (their org unit's zone).",
    )
    reason = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Why (kept in the log; rules may require one).",
    )
    acknowledge_warnings = forms.BooleanField(
        required=False, label="Acknowledge warnings", help_text="Proceed despite the failing warn rules shown below."
    )
    override_reason = forms.CharField(
        required=False,
        max_length=2000,
        label="Override blocks, because",
        help_text="Admins only: perform despite failing block rules, for this reason (kept in the log).",
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if getattr(user, "role", None) != Role.ADMIN:
            del self.fields["override_reason"]

    def transition_request(self, name: str, actor) -> TransitionRequest:
        data = self.cleaned_data
        return TransitionRequest(
            name=name,
            actor=actor,
            reason=data.get("reason", ""),
            effective_date=data["effective_date"],
            acknowledge_warnings=data.get("acknowledge_warnings", False),
            override_reason=data.get("override_reason", ""),
        )


def default_effective_date(todays) -> tuple[str, str | None]:
    """The date a preview page offers first, from each object's today (its employee's unit's zone, docs/time-zones.md).

    One day for all: that day. Objects whose todays differ (a selection spanning zones) get a blank date, which the
    services read as each object's own today, and a note saying so and which days those are.
    """
    counts = Counter(todays)
    if len(counts) <= 1:
        return (next(iter(counts)) if counts else timezones.today()).isoformat(), None
    spread = ", ".join(f"{day.isoformat()} for {count}" for day, count in sorted(counts.items()))
    return "", (
        f"The selection spans time zones where today is not the same day ({spread}): with the date left blank, "
        "each takes effect today where it is. Enter a date to use one day for all."
    )


def render_preview_confirm(request, modeladmin, *, title: str, rows, form, context: dict) -> TemplateResponse:
    """The preview/confirm page (``admin/coveris/preview_confirm.html``) for ``rows`` of ``modeladmin``'s model.

    ``rows``: objects with ``instance``, ``label``, ``source``, ``target``, ``allowed``, ``refusal``, ``rules``
    (``RuleLine``), ``cascades`` (strings) and optionally ``url`` — ``apps.fsm.preview.ObjectPreview`` is one.
    ``context`` adds ``action_url`` (where the form posts), ``selected`` (pks), ``hidden`` (extra fields),
    ``fingerprint``, ``confirm_label``, ``can_confirm``, ``notes`` and ``cancel_url``.
    """
    opts = modeladmin.model._meta
    going = sum(1 for row in rows if row.allowed)
    page = {
        **modeladmin.admin_site.each_context(request),
        "opts": opts,
        "title": title,
        "rows": rows,
        "form": form,
        "going_count": going,
        "refused_count": len(rows) - going,
        "hidden": {},
        "notes": [],
        "cancel_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
        **context,
    }
    return TemplateResponse(request, "admin/coveris/preview_confirm.html", page)


def _transition_action(name: str, label: str, plural: str):
    def action(modeladmin, request, queryset):
        return modeladmin.transition_flow(request, name, list(queryset.values_list("pk", flat=True)))

    action.__name__ = name
    return admin.action(description=f"{label} selected {plural}…", permissions=["change"])(action)


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


class TransitionActionsAdminMixin:
    """One action per transition of ``transition_kind``, object-page buttons, and the preview/confirm page."""

    transition_kind: TransitionKind
    change_form_template = "admin/coveris/change_form_transitions.html"

    def get_actions(self, request):
        actions = super().get_actions(request)
        plural = str(self.model._meta.verbose_name_plural)
        if self.has_change_permission(request):
            for name in self.transition_kind.names:
                func = _transition_action(name, _label(name), plural)
                actions[name] = (func, name, func.short_description)
        return actions

    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                "transition/<str:name>/",
                self.admin_site.admin_view(self.transition_view),
                name=f"{opts.app_label}_{opts.model_name}_transition",
            ),
            *super().get_urls(),
        ]

    def _admin_url(self, page: str, *args) -> str:
        opts = self.model._meta
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_{page}", args=args)

    def transition_url(self, name: str) -> str:
        return self._admin_url("transition", name)

    def transition_buttons(self, request, obj) -> list[dict]:
        """The transitions this object's state and the user's role allow (rules may still block: the preview says)."""
        options = transition_options(kind=self.transition_kind, instance=obj, actor=request.user)
        return [
            {
                "name": option["name"],
                "label": _label(option["name"]),
                "target": option["target"],
                "blocked": option["blocked_by"] == "rules",
                "url": f"{self.transition_url(option['name'])}?ids={obj.pk}&next={request.path}",
            }
            for option in options
            if option["blocked_by"] not in ("role", "state")
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk and self.has_change_permission(request, obj):
            context["transition_buttons"] = self.transition_buttons(request, obj)
            context["object_state"] = obj.state
        return super().render_change_form(request, context, add, change, form_url, obj)

    def transition_view(self, request, name: str):
        if name not in self.transition_kind.names:
            return HttpResponseRedirect(self._admin_url("changelist"))
        if not self.has_change_permission(request):
            raise DjangoPermissionDenied
        if request.method == "POST":
            pks = request.POST.getlist("_selected_action")
        else:
            pks = [pk for pk in request.GET.get("ids", "").split(",") if pk]
        return self.transition_flow(request, name, pks)

    def _clean_pks(self, pks) -> list:
        field = self.model._meta.pk
        cleaned = []
        for pk in pks:
            try:
                cleaned.append(field.to_python(pk))
            except Exception:  # noqa: BLE001, S112 - a tampered id is ignored, not a 500
                continue
        return sorted(set(self.get_queryset_for_flow().filter(pk__in=cleaned).values_list("pk", flat=True)))

    def get_queryset_for_flow(self):
        return self.model._default_manager.all()

    def _next_url(self, request) -> str:
        candidate = request.POST.get("next") or request.GET.get("next") or ""
        if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}):
            return candidate
        return self._admin_url("changelist")

    def transition_flow(self, request, name: str, pks):
        """The intermediate page for ``name`` on ``pks``; on Confirm, perform what it previewed and go back."""
        pks = self._clean_pks(pks)
        label = _label(name)
        plural = str(self.model._meta.verbose_name_plural)
        next_url = self._next_url(request)
        if not pks:
            self.message_user(request, f"{label}: no {plural} selected.", messages.WARNING)
            return HttpResponseRedirect(next_url)
        submitted = request.method == "POST" and "fingerprint" in request.POST
        notes = []
        if submitted:
            form = TransitionFlowForm(request.POST, user=request.user)
        else:  # the first preview: today where the objects are, no reason, nothing acknowledged
            default, note = default_effective_date(subject_todays_of(self.transition_kind, pks).values())
            form = TransitionFlowForm({"effective_date": default}, user=request.user)
            notes += [note] if note else []
        preview = None
        if form.is_valid():
            transition_request = form.transition_request(name, request.user)
            try:
                if submitted and "_confirm" in request.POST:
                    confirmation = transition_confirm(
                        kind=self.transition_kind,
                        pks=pks,
                        request=transition_request,
                        fingerprint=request.POST.get("fingerprint", ""),
                    )
                    if not confirmation.changed:
                        self._log_history(request, label, transition_request, confirmation.performed)
                        self._report(request, label, plural, len(pks), confirmation)
                        return HttpResponseRedirect(next_url)
                    notes.append(
                        "Something changed since the preview you saw: nothing was done. Review it and confirm again."
                    )
                    preview = confirmation.preview
                else:
                    preview = transition_preview(kind=self.transition_kind, pks=pks, request=transition_request)
            except REFUSALS as exc:
                notes.append(f"{label} not performed: {refusal_text(exc)}")
        if preview is None:
            preview = Preview(name, [])
            notes.append("Correct the form below to see the preview.")
        if preview.batch_refusal:
            notes.append(f"Together these cannot all go ahead: {preview.batch_refusal}")
        for row in preview.objects:
            row.url = self._admin_url("change", quote(row.instance.pk))
        can_confirm = bool(preview.allowed) and not preview.batch_refusal
        return render_preview_confirm(
            request,
            self,
            title=f"{label}: preview {len(pks)} {plural if len(pks) != 1 else self.model._meta.verbose_name}",
            rows=preview.objects,
            form=form,
            context={
                "action_url": self.transition_url(name),
                "selected": pks,
                "hidden": {"next": next_url},
                "fingerprint": preview.fingerprint if preview.objects else "",
                "confirm_label": f"Confirm: {label.lower()} {len(preview.allowed)} of {len(pks)}",
                "can_confirm": can_confirm,
                "notes": notes,
                "cancel_url": next_url,
            },
        )

    def _log_history(self, request, label: str, transition_request: TransitionRequest, performed) -> None:
        """The admin's own "History" of each object lists the transition too (one insert for the batch); the full
        record, whichever door a transition came through, is the object's transitions log on its page."""
        if not performed:
            return
        reason = transition_request.reason or "none given"
        effective = transition_request.effective_date or "today where each one is"
        message = f"{label} → {performed[0].target}, effective {effective}. Reason: {reason}"
        LogEntry.objects.log_actions(
            user_id=request.user.pk,
            queryset=[item.instance for item in performed],
            action_flag=CHANGE,
            change_message=message,
        )

    def _report(self, request, label: str, plural: str, selected: int, confirmation) -> None:
        done = confirmation.performed
        if done:
            names = ", ".join(item.label for item in done) if len(done) <= MAX_NAMED_DONE else ""
            cascades = sum(len(item.cascades) for item in done)
            text = f"{label}: done for {len(done)} of {selected} selected {plural}"
            text = f"{text}: {names}" if names else text
            text += f"; {cascades} cascaded change(s), as previewed." if cascades else "."
            self.message_user(request, text, messages.SUCCESS)
        for item in confirmation.refused:
            self.message_user(request, f"{label} refused for {item.label}: {item.refusal_summary()}", messages.ERROR)


class TransitionLogAdmin(ReadOnlyAdmin):
    """A transition log table: newest first, with reason and actor; searchable and filterable, never editable."""

    list_display = (
        "created_at",
        "subject",
        "transition",
        "source_state",
        "target_state",
        "effective_date",
        "reason",
        "actor_email",
    )
    list_filter = ("transition", "source_state", "target_state", ("effective_date", DateRangeFilter))
    search_fields = ("actor_email", "reason", "request_id", "hash")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")


@admin.register(EmployeeTransitionLog)
class EmployeeTransitionLogAdmin(TransitionLogAdmin):
    list_display = tuple(name if name != "subject" else "employee" for name in TransitionLogAdmin.list_display)
    list_select_related = ("employee",)
    search_fields = ("employee__employee_number", "employee__last_name", *TransitionLogAdmin.search_fields)


class TransitionLogInline(ReadOnlyInline):
    """A record's transitions on its page, newest first, with reason and actor."""

    fields = (
        "created_at",
        "transition",
        "source_state",
        "target_state",
        "effective_date",
        "reason",
        "override_reason",
        "actor_email",
    )
    ordering = ("-created_at", "-id")
    verbose_name = "transition"
    verbose_name_plural = "Transitions (newest first)"


class EmployeeTransitionLogInline(TransitionLogInline):
    model = EmployeeTransitionLog
