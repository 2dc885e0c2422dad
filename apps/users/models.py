import uuid

from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.db import models
from django.utils import timezone

from apps.users.choices import HR_ADMIN_APPS, STAFF_ROLES, Role
from apps.users.emails import login_email
from apps.users.managers import UserManager


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in; email is the login and ``role`` decides what they may do."""

    email = models.EmailField("email address", unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, blank=True, default="")
    # A manager reads and proposes within this unit's subtree (SPEC §3).
    org_unit = models.ForeignKey("api.OrgUnit", null=True, blank=True, on_delete=models.SET_NULL, related_name="users")
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Follows the role: admin and hr may use the admin.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=["", *Role.values]),
                name="users_user_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs):
        self.email = login_email(self.email or "")
        self.is_staff = self.role in STAFF_ROLES or self.is_superuser
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"role", "is_superuser"} & set(update_fields):
            # Staff status is derived: a partial save of its inputs must write it too.
            kwargs["update_fields"] = {*update_fields, "is_staff"}
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    # Admin permissions follow the role: admin has all, hr manages workforce apps, others none.
    def has_perm(self, perm, obj=None) -> bool:
        if not self.is_active:
            return False
        if self.role == Role.ADMIN or self.is_superuser:
            return True
        if self.role == Role.HR:
            app_label = perm.split(".", 1)[0]
            if app_label in HR_ADMIN_APPS:
                return True
            return app_label == "users" and perm.endswith("_user") and perm.startswith("users.view")
        return super().has_perm(perm, obj)

    def has_module_perms(self, app_label) -> bool:
        if not self.is_active:
            return False
        if self.role == Role.ADMIN or self.is_superuser:
            return True
        if self.role == Role.HR:
            return app_label in HR_ADMIN_APPS or app_label == "users"
        return super().has_module_perms(app_label)


class TokenFamily(models.Model):
    """One sign-in session: every refresh token rotated from one login shares it (claim ``fam``).

    Revoking the family (logout, log out everywhere, a replayed refresh token) refuses its refresh tokens
    and, through the cached user snapshot, its access tokens on their next request.
    """

    class RevokedReason(models.TextChoices):
        LOGOUT = "logout", "Logged out"
        EVERYWHERE = "everywhere", "Logged out everywhere"
        REUSE = "reuse", "Refresh token replayed"
        DEACTIVATED = "deactivated", "User deactivated"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="token_families")
    created_at = models.DateTimeField(default=timezone.now)
    # The last sign-in or refresh of the session: one unused for a refresh lifetime can hold no valid token.
    last_used_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=16, choices=RevokedReason.choices, blank=True, default="")

    class Meta:
        verbose_name_plural = "token families"
        indexes = [models.Index(fields=["user", "revoked_at"], name="users_tokenfamily_revoked")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(revoked_at__isnull=True, revoked_reason="")
                | models.Q(
                    revoked_at__isnull=False, revoked_reason__in=["logout", "everywhere", "reuse", "deactivated"]
                ),
                name="users_tokenfamily_revoked_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.id}"
