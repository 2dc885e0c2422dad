from rest_framework import serializers

from apps.users.models import User
from backend.serializers import ModelSerializer


class UserSerializer(ModelSerializer):
    """The signed-in user as the SPA sees them."""

    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "role", "is_active", "is_staff", "last_login"]
        read_only_fields = fields


_DATETIME = serializers.DateTimeField()


def user_representation(user: User) -> dict:
    """``UserSerializer(user).data`` without building a serializer: ``/api/auth/me/`` answers every page load,
    and a ModelSerializer introspects the model on each instantiation (most of the endpoint's cost, issue 8).
    A test keeps the two equal; ``UserSerializer`` still documents the shape in the schema."""
    return {
        "id": user.pk,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": user.role,
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "last_login": _DATETIME.to_representation(user.last_login) if user.last_login else None,
    }


class LoginInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class RefreshInputSerializer(serializers.Serializer):
    refresh = serializers.CharField(required=False, allow_blank=False, max_length=4096)


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class CsrfTokenSerializer(serializers.Serializer):
    csrfToken = serializers.CharField()  # noqa: N815 (the SPA contract's name)
