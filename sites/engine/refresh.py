"""One List Backups call per site serves every operation of that site (architecture.md, habit 5)."""

import logging
import random
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from wixapi import WixError

from .. import clock, crypto
from ..models import Backup, Incident, Operation, Restoration, Site
from ..wix_clients import BaseUrlNotAllowed, client_for
from . import landing
from .dispatch import enqueue_refresh
from .incidents import incident_open, incident_resolve
from .mirror import checked_ids, mirror_backups, mirror_restorations
from .restore_reading import restore_completed
from .states import (
    SiteWrites,
    backoff,
    claim_site,
    finish,
    poll_later,
    site_touch,
    site_writes,
    version_up,
)
from .words import is_credentials_problem, owner_message

logger = logging.getLogger(__name__)

# Upper bound of rows one periodic sync claims, so one run stays short whatever the backlog.
SYNC_BATCH = 2000


def poll_delay(age_seconds: float) -> timedelta:
    """Poll often while fresh work usually finishes; back off for long-running work."""
    base = settings.WBM_POLL_INTERVAL
    if age_seconds < 60:
        return timedelta(seconds=base)
    return timedelta(seconds=min(settings.WBM_POLL_MAX_INTERVAL, max(base, age_seconds / 10)))


def site_refresh(*, site_id: Any, full: bool = False, claimed: bool = False) -> None:
    """One List Backups (and List Restorations when needed) serves every operation of the site.

    `full` (periodic sync, opening a stale page) also lists restorations, to see those started
    in Wix's own screen. `claimed` means the sweeper already holds the site for this refresh.
    """
    now = timezone.now()
    if not claimed and not claim_site(site_id, now):
        return  # a refresh of this site is running right now
    # The claim is released in the one UPDATE of the site's row that ends the refresh.
    with site_writes(site_id) as writes:
        writes.set(refresh_claimed_until=None)
        try:
            _refresh(site_id, full, now, writes)
        except Exception:
            # A bug must not turn into a poll storm: back off as for a Wix outage, and say so.
            logger.exception("refresh of site %s failed unexpectedly", site_id)
            Operation.objects.filter(site_id=site_id, state=Operation.State.SUBMITTED).update(
                due_at=now + backoff(3)
            )


def _refresh(site_id: Any, full: bool, now: datetime, writes: SiteWrites) -> None:
    try:
        site = Site.objects.get(pk=site_id)
    except Site.DoesNotExist:
        return  # disconnected meanwhile
    # Submitted operations, and creates that ended unconfirmed (a backup Wix makes late is theirs).
    watched = list(landing.watched(site, now))
    running = [op for op in watched if op.state == Operation.State.SUBMITTED]
    want_restorations = (
        full
        or any(op.is_restore for op in running)
        or site.restorations.filter(status__in=Restoration.RUNNING).exists()
    )
    try:
        with client_for(site) as client:
            backups = list(client.iter_backups(page_size=1000))
            restorations = (
                list(client.iter_restorations(page_size=1000)) if want_restorations else None
            )
        # Checked before anything is written, so a listing we cannot use changes nothing.
        checked_ids(*(b.id for b in backups))
        checked_ids(*(x for r in restorations or [] for x in (r.id, r.backup.id)))
    except (WixError, BaseUrlNotAllowed, crypto.SecretUnreadable) as error:
        _refresh_failed(site, running, error, now)
        return
    mirror_backups(site, backups, complete=True, listed_at=now)
    # Creates whose answer was lost: adopt what Wix made, or give up past the landing window.
    running = landing.settle(site, watched, backups, now)
    if restorations is not None:
        mirror_restorations(site, restorations)
    jitter = random.uniform(0.9, 1.1)  # noqa: S311 - spreading load, not security
    # Only a first sync or a cleared problem is a change the pages show; the sync time alone is
    # not (a page that polls while work runs would otherwise be redrawn at every poll).
    if site.last_synced_at is None or site.last_sync_error or site.credentials_rejected:
        writes.touch()
    writes.set(
        last_synced_at=now,
        last_sync_error="",
        credentials_rejected=False,
        sync_failing_since=None,
        next_sync_at=now + timedelta(seconds=settings.WBM_SYNC_INTERVAL * jitter),
    )
    # Wix answers again: the key and unreachable incidents end now (looked up only when the
    # site had a problem, so a healthy refresh reads nothing more).
    if site.credentials_rejected and incident_resolve(site, Incident.Cause.KEY, now):
        writes.touch()
    if site.sync_failing_since is not None and incident_resolve(
        site, Incident.Cause.UNREACHABLE, now
    ):
        writes.touch()
    backup_status = {b.id: str(b.status) for b in backups}
    restoration_status = (
        {r.id: str(r.status) for r in restorations} if restorations is not None else None
    )
    for operation in running:
        outcome = _outcome(operation, backup_status, restoration_status)
        if outcome is not None:
            state, error = outcome
            ended = finish(
                operation, state=state, error=error, from_state=Operation.State.SUBMITTED
            )
            if ended and state == Operation.State.SUCCEEDED and operation.is_restore:
                # What it changed, per collection: the site read again and compared.
                restore_completed(operation)
        else:
            poll_later(operation, now, delay=poll_delay(operation.age(now)))


def _refresh_failed(site: Site, running: list[Operation], error: Exception, now: datetime) -> None:
    logger.info("refresh of site %s failed: %s", site.pk, error)
    message = owner_message(error)
    rejected = is_credentials_problem(error)
    news = message != site.last_sync_error or rejected != site.credentials_rejected
    Site.objects.filter(pk=site.pk).update(
        last_sync_error=message,
        credentials_rejected=rejected,
        # Since when Wix's answers fail: kept through the retries, cleared by the next good sync.
        # On the business clock (clock.py), as the beat's check that compares it with its now.
        sync_failing_since=Coalesce(F("sync_failing_since"), Value(clock.now())),
        next_sync_at=now + timedelta(seconds=min(settings.WBM_SYNC_INTERVAL, 300)),
        **version_up(news),
    )
    if rejected and incident_open(site, Incident.Cause.KEY, message, now):
        site_touch(site.pk)  # at once: the owner must replace the key
    transient = getattr(error, "transient", False)
    for operation in running:
        if not transient and is_credentials_problem(error):
            finish(
                operation,
                state=Operation.State.FAILED,
                error=message,
                from_state=Operation.State.SUBMITTED,
            )
        else:
            delay = max(poll_delay(operation.age(now)), backoff(1, error))
            poll_later(operation, now, delay=delay, error=message)


def _outcome(
    operation: Operation, backups: dict[str, str], restorations: dict[str, str] | None
) -> tuple[str, str] | None:
    """The final state and message of a submitted operation by Wix's fresh lists, if it ended.

    Snapshot work is never submitted (it stays QUEUED on the snapshot queue), so never here."""
    if operation.kind == Operation.Kind.CREATE_BACKUP:
        status = backups.get(operation.backup_wix_id)
        if status == Backup.READY:
            return Operation.State.SUCCEEDED, ""
        if status in (Backup.FAILED, Backup.CANCELED):
            return Operation.State.FAILED, "Wix could not complete the backup."
        if status == Backup.DELETED:
            return Operation.State.FAILED, "The backup was deleted before it was ready."
    elif operation.is_restore:
        status = (restorations or {}).get(operation.restoration_wix_id)
        if status == Restoration.COMPLETED:
            return Operation.State.SUCCEEDED, ""
        if status in (Restoration.FAILED, "CANCELED"):
            return Operation.State.FAILED, "Wix reported that the restore failed."
    elif (
        operation.kind == Operation.Kind.DELETE_BACKUP
        and backups.get(operation.backup_wix_id, Backup.DELETED) == Backup.DELETED
    ):
        # Deleted: shown DELETED, or gone from the list altogether.
        return Operation.State.SUCCEEDED, ""
    return None


def sites_due_for_sync() -> list[str]:
    """The sites whose periodic refresh is due, pushed back so the next run skips them."""
    now = timezone.now()
    with transaction.atomic():
        due = list(
            Site.objects.select_for_update(skip_locked=True)
            .filter(next_sync_at__lte=now)
            .values_list("pk", flat=True)[:SYNC_BATCH]
        )
        # The refresh sets the real next time; this only stops the next run repeating the work.
        Site.objects.filter(pk__in=due).update(
            next_sync_at=now + timedelta(seconds=settings.WBM_CLAIM_SECONDS)
        )
    return [str(pk) for pk in due]


def site_refresh_if_stale(*, site: Site, max_age: timedelta = timedelta(minutes=1)) -> bool:
    """Ask for a refresh when the mirror is older than `max_age` (opening a site's page)."""
    if site.last_synced_at and timezone.now() - site.last_synced_at < max_age:
        return False
    enqueue_refresh(site.pk)
    return True
