"""Keeps the cached user snapshot (apps.users.snapshots) in step with the users table.

A signal because every path that changes a user — the admin, services, commands, the shell — must
invalidate, and none of them should have to know about the authentication cache.
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from apps.users.models import User
from apps.users.snapshots import user_snapshot_invalidate


@receiver(post_save, sender=User, dispatch_uid="users.snapshot.saved")
@receiver(post_delete, sender=User, dispatch_uid="users.snapshot.deleted")
def _user_changed(sender, instance: User, **kwargs) -> None:
    user_snapshot_invalidate(instance.pk)
