from django.contrib.auth.base_user import BaseUserManager

from apps.users.choices import Role
from apps.users.emails import login_email


class UserManager(BaseUserManager):
    """Users log in by email; there is no username."""

    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=login_email(self.normalize_email(email)), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("role", Role.ADMIN)
        extra_fields["is_superuser"] = True
        extra_fields["is_staff"] = True
        if extra_fields["role"] != Role.ADMIN:
            raise ValueError("A superuser has the admin role.")
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        # Exact match on the normalised spelling (see apps.users.emails): never ``iexact``.
        return self.get(**{self.model.USERNAME_FIELD: login_email(username)})
