import math

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.core.exceptions import ValidationError

from apps.users.models import User
from backend.admin import ChangeReasonAdminMixin
from backend.errors import ServiceUnavailableError, ThrottledError
from backend.signin import SignInPolicy


class CoverisUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "first_name", "last_name", "role")


class CoverisUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(ChangeReasonAdminMixin, DjangoUserAdmin):
    form = CoverisUserChangeForm
    add_form = CoverisUserCreationForm
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "role", "is_active", "is_staff", "last_login")
    list_filter = ("role", "is_active", "is_staff", "is_superuser")
    search_fields = ("email", "first_name", "last_name")
    readonly_fields = ("is_staff", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        ("Access", {"fields": ("role", "is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {"classes": ("wide",), "fields": ("email", "first_name", "last_name", "role", "password1", "password2")},
        ),
    )
    filter_horizontal = ()


class CoverisAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin's sign-in under the API's sign-in policy: the same counters, limits and lockouts (ADR 0021).

    A person whose password is right but whose role does not open the admin (auditor, manager, employee) is told
    so in words, not "enter the correct email and password" — they would retype a right password, then be locked
    out. Only someone who knows the password reads it, and it is not a failure the policy counts.
    """

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "not_staff": (
            "Your password was accepted, but %(email)s may not use the HR workspace: it is open to HR staff and "
            "admins only, and this account's role is %(role)s. Use the Coveris app instead, or ask an admin if your "
            "role should change."
        ),
    }

    def confirm_login_allowed(self, user):
        if user.is_active and not user.is_staff:
            role = user.get_role_display() if user.role else "none"
            raise ValidationError(
                self.error_messages["not_staff"], code="not_staff", params={"email": user.email, "role": role}
            )
        super().confirm_login_allowed(user)

    def clean(self):
        policy = SignInPolicy(self.request, self.cleaned_data.get("username"))
        try:
            policy.check()
        except ThrottledError as exc:
            minutes = max(1, math.ceil((exc.retry_after or 60) / 60))
            raise ValidationError(
                f"Too many failed sign-ins. Try again in {minutes} minute(s).", code="throttled"
            ) from exc
        except ServiceUnavailableError as exc:
            raise ValidationError("Sign-in is briefly unavailable. Try again in a minute.", code="unavailable") from exc
        try:
            cleaned = super().clean()
        except ValidationError as exc:
            if exc.code == "not_staff":  # the right password, the wrong role: not a guess
                policy.succeeded()
            else:
                policy.failed()
            raise
        policy.succeeded()
        return cleaned


admin.site.login_form = CoverisAdminAuthenticationForm
