"""Keeps the cached user snapshot (apps.users.snapshots) and the user's sessions in step with the users table.

Signals because every path that changes a user — the admin, services, commands, the shell — must
invalidate, and none of them should have to know about the authentication cache or the sessions.
"""

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from apps.users.models import TokenFamily, User
from apps.users.services import user_sessions_revoke
from apps.users.snapshots import user_snapshot_invalidate


@receiver(post_save, sender=User, dispatch_uid="users.snapshot.saved")
@receiver(post_delete, sender=User, dispatch_uid="users.snapshot.deleted")
def _user_changed(sender, instance: User, **kwargs) -> None:
    user_snapshot_invalidate(instance.pk)


@receiver(pre_save, sender=User, dispatch_uid="users.sessions.deactivating")
def _note_deactivation(sender, instance: User, update_fields=None, raw=False, **kwargs) -> None:
    """Whether this save turns an active user inactive (one query, and only when saving an inactive user)."""
    instance._deactivating = bool(
        not raw
        and instance.pk is not None
        and not instance.is_active
        and (update_fields is None or "is_active" in update_fields)
        and User.objects.filter(pk=instance.pk, is_active=True).exists()
    )


@receiver(post_save, sender=User, dispatch_uid="users.sessions.deactivated")
def _end_sessions_of_deactivated(sender, instance: User, **kwargs) -> None:
    """A deactivated user's sessions end with the deactivation, so reactivating them later revives no token
    (their refresh tokens would otherwise work again until they expire)."""
    if getattr(instance, "_deactivating", False):
        instance._deactivating = False
        with transaction.atomic():
            user_sessions_revoke(user=instance, reason=TokenFamily.RevokedReason.DEACTIVATED)
