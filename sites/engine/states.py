"""Every transition of an operation and every claim, as compare-and-swap updates.

`Operation.objects.filter(pk=..., state=...).update(...)`: zero rows means someone else already
moved it, so a redelivered task or two workers racing never apply a transition twice.
"""

import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.utils import timezone

from ..models import Activity, Backup, Operation, Site, Snapshot
from .backoff import backoff  # noqa: F401 - the engine's modules import it from here
from .incidents import operation_ended, operation_incident
from .words import operation_words

logger = logging.getLogger(__name__)


def site_touch(site_id: Any) -> None:
    """Say that something the owner's pages show of this site changed (see `Site.version`).

    Call it after the change is written (or inside the same transaction): a page that reads the
    new version must find the new data. Inside `site_writes` it only takes note, and the version
    moves once, when that block ends.
    """
    pending = _open_site_writes().get(str(site_id))
    if pending is not None:
        pending.touched = True
        return
    Site.objects.filter(pk=site_id).update(**version_up())


class SiteWrites:
    """What a task will write to its site's row when it ends: one UPDATE for every version step
    and field set (`set`) inside `site_writes`, instead of one per transition (bench/scale.py)."""

    def __init__(self, site_id: Any) -> None:
        self.site_id = site_id
        self.touched = False
        self.fields: dict[str, Any] = {}

    def set(self, **fields: Any) -> None:
        self.fields.update(fields)

    def touch(self) -> None:
        self.touched = True

    def flush(self) -> None:
        fields = {**self.fields, **version_up(self.touched)}
        if fields:
            Site.objects.filter(pk=self.site_id).update(**fields)
        self.touched, self.fields = False, {}


_local = threading.local()


def _open_site_writes() -> dict[str, SiteWrites]:
    if not hasattr(_local, "open"):
        _local.open = {}
    return _local.open


@contextmanager
def site_writes(site_id: Any) -> Iterator[SiteWrites]:
    """Gather the site row's writes of the block into one UPDATE at its end, however it ends
    (what was written before an exception is still announced). A nested block joins the outer."""
    key = str(site_id)
    opened = _open_site_writes()
    if key in opened:
        yield opened[key]
        return
    pending = opened[key] = SiteWrites(site_id)
    try:
        yield pending
    finally:
        del opened[key]
        pending.flush()


def version_up(news: bool = True) -> dict[str, Any]:
    """The `update()` keywords that move a site's version along with other fields, if `news`."""
    return {"version": F("version") + 1} if news else {}


def finish(operation: Operation, *, state: str, error: str = "", from_state: str) -> bool:
    # An end that opens an incident, or may resolve one, is one transaction with its activity
    # entry and that incident (its alert in the outbox): none is ever written without the others.
    # Any other end (every success while its cause has no incident open: nearly all of them)
    # writes what it wrote before alerts, without that transaction (bench/scale.py).
    if operation_incident(operation, failed=state == Operation.State.FAILED) is None:
        return _finish(operation, state=state, error=error, from_state=from_state)
    with transaction.atomic():
        return _finish(operation, state=state, error=error, from_state=from_state)


def _finish(operation: Operation, *, state: str, error: str, from_state: str) -> bool:
    now = timezone.now()
    done = Operation.objects.filter(pk=operation.pk, state=from_state).update(
        state=state,
        error=error,
        finished_at=now,
        updated_at=now,
        due_at=None,
        claimed_until=None,
    )
    if done:
        # What was just written, set here rather than read back (a query per finished operation,
        # bench/scale.py); the site is the one the caller loaded.
        site = operation.site
        operation.state, operation.error, operation.finished_at = state, error, now
        operation.updated_at, operation.due_at, operation.claimed_until = now, None, None
        backup = (
            site.backups.filter(wix_id=operation.backup_wix_id).first()
            if operation.kind != Operation.Kind.CREATE_BACKUP and operation.backup_wix_id
            else None
        )
        if (
            operation.kind == Operation.Kind.CREATE_BACKUP
            and state == Operation.State.SUCCEEDED
            and site.snapshot_with_backup
        ):
            _link_snapshots(operation)
        outcome = {
            "outcome": Activity.SUCCEEDED
            if state == Operation.State.SUCCEEDED
            else Activity.FAILED,
            "message": operation_words(
                operation.kind, operation.collections, backup.collections if backup else None
            ),
            "detail": error,
        }
        if backup is not None:
            outcome["backup_at"] = backup.requested_at
        # One entry per action: the request's entry now says how it went (one UPDATE); only an
        # operation recorded without one gets an entry of its own.
        requested = Activity.objects.filter(operation=operation, outcome=Activity.REQUESTED)
        if not requested.update(**outcome):
            Activity.objects.create(
                site=site,
                actor_id=operation.requested_by_id,
                via=operation.via,
                operation=operation,
                **outcome,
            )
        if operation.kind in (Operation.Kind.DELETE_BACKUP, Operation.Kind.CREATE_BACKUP):
            # A backup waiting for this delete to free its slot (engine/rotation.py), or a
            # restore waiting for this Wix safety backup (engine/requests.py): due now.
            Operation.objects.filter(after=operation, state=Operation.State.QUEUED).update(
                due_at=now
            )
        operation_ended(operation, failed=state == Operation.State.FAILED, error=error, now=now)
        site_touch(site.pk)
        logger.info("operation %s (%s) of site %s %s", operation.pk, operation.kind, site.pk, state)
    return bool(done)


def _link_snapshots(operation: Operation) -> None:
    """The snapshot taken with this "Back up now" names the backup Wix made, so the two show as
    one row (a snapshot that completed first could not know it yet). One UPDATE."""
    backup = Backup.objects.filter(site_id=operation.site_id, wix_id=operation.backup_wix_id)
    Snapshot.objects.filter(backup_operation_id=operation.pk, backup__isnull=True).update(
        backup_id=Subquery(backup.values("pk")[:1])
    )


def mark_submitted(operation: Operation, *, error: str = "", **wix_ids: str) -> None:
    """Sent: from now on the refresh polls Wix for it (`error`: what it waits for, if unusual)."""
    now = timezone.now()
    done = Operation.objects.filter(pk=operation.pk, state=Operation.State.QUEUED).update(
        state=Operation.State.SUBMITTED,
        error=error,
        updated_at=now,
        claimed_until=None,
        due_at=now + timedelta(seconds=settings.WBM_POLL_INTERVAL),
        **wix_ids,
    )
    if done:
        site_touch(operation.site_id)


def poll_later(operation: Operation, now: datetime, *, delay: timedelta, error: str = "") -> None:
    """Look again after `delay`, unless the operation has waited past its deadline."""
    if operation.age(now) > settings.WBM_OPERATION_DEADLINE:
        hours = settings.WBM_OPERATION_DEADLINE / 3600
        message = (
            f"Wix had not finished after {hours:g} hours, so we stopped waiting. "
            "Check the site's backups in Wix."
        )
        finish(
            operation,
            state=Operation.State.FAILED,
            error=message,
            from_state=Operation.State.SUBMITTED,
        )
        return
    done = Operation.objects.filter(pk=operation.pk, state=Operation.State.SUBMITTED).update(
        error=error, updated_at=now, due_at=now + delay
    )
    if done and error != operation.error:
        site_touch(operation.site_id)


def waiting_on_rotation() -> Exists:
    """Operations whose `after` (the delete freeing their slot) still runs: never claimed."""
    return Exists(Operation.objects.filter(pk=OuterRef("after_id"), state__in=Operation.RUNNING))


def claim_site(site_id: Any, now: datetime) -> bool:
    free = Q(refresh_claimed_until__isnull=True) | Q(refresh_claimed_until__lt=now)
    lease = now + timedelta(seconds=settings.WBM_CLAIM_SECONDS)
    return bool(Site.objects.filter(free, pk=site_id).update(refresh_claimed_until=lease))


def claim_sites(site_ids: Iterable[Any], now: datetime) -> list[str]:
    """Claim those of these sites nobody holds, in two queries however many (bench/scale.py).

    One UPDATE takes every free site at once; the lease it wrote, unique to this call, then
    names which sites are ours (a site claimed by someone else meanwhile keeps their lease).
    """
    ids = list(site_ids)
    if not ids:
        return []
    free = Q(refresh_claimed_until__isnull=True) | Q(refresh_claimed_until__lt=now)
    lease = now + timedelta(seconds=settings.WBM_CLAIM_SECONDS)
    Site.objects.filter(free, pk__in=ids).update(refresh_claimed_until=lease)
    ours = Site.objects.filter(pk__in=ids, refresh_claimed_until=lease).values_list("pk", flat=True)
    return sorted(str(pk) for pk in ours)
