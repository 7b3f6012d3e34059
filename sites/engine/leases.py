"""The holds of snapshot work (taking, verifying, restoring, pruning): on its operation
(`Operation.claimed_until`) and on the site's snapshot storage (`Site.snapshot_claimed_until`).
A worker that dies leaves them to expire; the sweeper then hands the operation to another.
"""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, Q

from ..models import Operation, Site


class LeaseLost(Exception):
    """Our hold on the operation expired and another worker took it: stop, quietly."""


def lease() -> timedelta:
    return timedelta(seconds=settings.WBM_SNAPSHOT_LEASE_SECONDS)


def verify_lease() -> timedelta:
    # A verify reports nothing until it ends (verify_snapshot has no progress), so its hold covers
    # the whole read of a large snapshot; one that outlives it is merely done twice.
    return lease() * 10


def claim_site_store(site_id: Any, now: datetime) -> datetime | None:
    """Hold the site's snapshot storage (taking a snapshot, pruning); the lease, or None when
    someone else holds it."""
    until = now + lease()
    free = Q(snapshot_claimed_until__isnull=True) | Q(snapshot_claimed_until__lt=now)
    held = Site.objects.filter(free, pk=site_id).update(snapshot_claimed_until=until)
    return until if held else None


def release_site_store(site_id: Any, until: datetime) -> None:
    """Let go of the site's storage, if the hold is still ours."""
    Site.objects.filter(pk=site_id, snapshot_claimed_until=until).update(
        snapshot_claimed_until=None
    )


def claim_snapshot_work(operation_id: Any, now: datetime, hold: timedelta) -> datetime | None:
    """Hold a QUEUED operation of the snapshot queue for `hold`; the lease, or None when it is
    finished or another worker holds it. Every claim counts as an attempt."""
    until = now + hold
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    claimed = Operation.objects.filter(
        free, pk=operation_id, state=Operation.State.QUEUED, kind__in=Operation.SNAPSHOT_KINDS
    ).update(claimed_until=until, due_at=until, updated_at=now, attempts=F("attempts") + 1)
    return until if claimed else None


def renew_snapshot_work(operation: Operation, held_until: datetime, now: datetime) -> datetime:
    """Renew our hold on a QUEUED operation of the snapshot queue after a step went through (a
    page read, a bulk call, a collection compared); the new lease. The attempt is doing well, so
    only failures in a row count (a long task with a rare hiccup never runs out of attempts) and
    its last problem is over. LeaseLost when the hold is no longer ours."""
    until = now + lease()
    renewed = Operation.objects.filter(
        pk=operation.pk, state=Operation.State.QUEUED, claimed_until=held_until
    ).update(claimed_until=until, due_at=until, updated_at=now, attempts=1, error="")
    if not renewed:
        raise LeaseLost(str(operation.pk))
    return until
