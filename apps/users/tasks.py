"""Jobs of the users app on the procrastinate queue (ADR 0015): housekeeping of sign-in sessions."""

from asgiref.sync import sync_to_async
from procrastinate.contrib.django import app

from apps.users.services import sessions_prune


@app.periodic(cron="17 3 * * *", periodic_id="prune_sessions")
@app.task(name="users.prune_sessions", queueing_lock="prune_sessions")
async def prune_sessions(timestamp: int) -> None:
    """Daily: delete sessions and refresh-token rows that can no longer sign anyone in."""
    await sync_to_async(sessions_prune)()
