"""Sending a queued operation to Wix, once: safe to run twice, after a crash, or racing."""

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from wixapi import RestoreCollection, WixBackupsClient, WixError, WixNotFound, WixProtocolError

from .. import crypto, rules
from ..models import Backup, Incident, Operation, Site
from ..wix_clients import BaseUrlNotAllowed, client_for
from . import landing
from .incidents import incident_open
from .mirror import mirror_backups, mirror_restorations
from .restore_safety import SAFETY_WAIT, WAITING, safety_of
from .rotation import rotation_holds
from .states import (
    backoff,
    finish,
    mark_submitted,
    site_touch,
    site_writes,
    version_up,
    waiting_on_rotation,
)
from .words import InternalProblem, is_credentials_problem, owner_message

logger = logging.getLogger(__name__)


CLOCK_SKEW = landing.CLOCK_SKEW


def operation_submit(*, operation_id: Any) -> None:
    """Send a queued operation to Wix once; safe to run twice or after a crash."""
    now = timezone.now()
    claim = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    # Every attempt counts, including one that only looks for what an earlier attempt made, so
    # a Wix that keeps failing ends in a clear failure rather than endless retries. Counted in
    # the claim itself: one UPDATE.
    # Snapshot work is never sent to Wix's Backups API (engine/snapshot_run.py runs it): a
    # submit that meets one, misdirected, leaves it to the snapshot queue.
    claimed = (
        Operation.objects.filter(claim, pk=operation_id, state=Operation.State.QUEUED)
        .exclude(kind__in=Operation.SNAPSHOT_KINDS)
        # A backup waiting for the delete that frees its slot is left until that ends.
        .filter(~waiting_on_rotation())
        .update(
            claimed_until=now + timedelta(seconds=settings.WBM_CLAIM_SECONDS),
            updated_at=now,
            attempts=F("attempts") + 1,
            attempt_started_at=Coalesce("attempt_started_at", Value(now)),
        )
    )
    if not claimed:
        return  # finished, submitted, or another worker is on it
    operation = Operation.objects.select_related("site").get(pk=operation_id)
    with site_writes(operation.site_id):
        _submit_claimed(operation)


def _submit_claimed(operation: Operation) -> None:
    try:
        if operation.kind == Operation.Kind.CREATE_BACKUP and operation.sent_at is not None:
            # An earlier attempt sent the create and never heard back (a crash mid-call): Wix
            # may be making it, so it is never sent again; the refresh adopts what appears.
            mark_submitted(operation, error=landing.WAITING)
            return
        if _already_deleted(operation):
            # An earlier attempt's answer was lost but the delete went through (or someone
            # deleted it in Wix's screens): what the owner asked for has happened.
            finish(operation, state=Operation.State.SUCCEEDED, from_state=Operation.State.QUEUED)
            return
        if operation.kind == Operation.Kind.CREATE_BACKUP and rotation_holds(operation):
            return
        reason = _refused_now(operation)
        if not reason and operation.is_restore:
            safety = safety_of(operation)
            if safety.waiting:
                _wait_for_safety(operation, safety.reason)
                return
            reason = safety.reason
        if reason:
            finish(
                operation,
                state=Operation.State.FAILED,
                error=reason,
                from_state=Operation.State.QUEUED,
            )
            return
        with client_for(operation.site) as client:
            if operation.attempts > 1 and _adopt(operation, client):
                return
            _send(operation, client)
    except (WixError, BaseUrlNotAllowed, crypto.SecretUnreadable) as error:
        _submit_failed(operation, error)
    except Exception as error:
        # Not Wix's doing: keep the operation, retry with backoff like a transient failure.
        logger.exception("submitting operation %s failed unexpectedly", operation.pk)
        _submit_failed(operation, InternalProblem(str(error)))


def _wait_for_safety(operation: Operation, waiting: str = WAITING) -> None:
    """Give the restore back until its safety snapshot is complete (its end hands it over): the
    wait is no attempt, and the next attempt starts afresh (see `_adopt`)."""
    now = timezone.now()
    done = Operation.objects.filter(pk=operation.pk, state=Operation.State.QUEUED).update(
        claimed_until=None,
        due_at=now + SAFETY_WAIT,
        updated_at=now,
        attempts=F("attempts") - 1,
        attempt_started_at=None,
        error=waiting,
    )
    if done and operation.error != waiting:
        site_touch(operation.site_id)


def _already_deleted(operation: Operation) -> bool:
    return (
        operation.kind == Operation.Kind.DELETE_BACKUP
        and operation.site.backups.filter(
            wix_id=operation.backup_wix_id, status=Backup.DELETED
        ).exists()
    )


def _refused_now(operation: Operation) -> str:
    """The rules again, just before sending: what ran since the request may forbid it now (a
    delete asked for the backup a queued restore reads, a restore started in Wix's screens)."""
    if operation.kind == Operation.Kind.CREATE_BACKUP:
        return ""
    site = operation.site
    backup = rules.with_pins(site.backups.filter(wix_id=operation.backup_wix_id)).first()
    if backup is None:
        return "This backup is not (or no longer) listed for the site."
    return rules.refusal(operation.kind, backup, rules.in_flight(site).without(operation))


def _send_create(operation: Operation, client: WixBackupsClient) -> None:
    now = timezone.now()
    # Written before the call: if the answer never comes (or this worker dies), no later attempt
    # sends it again.
    Operation.objects.filter(pk=operation.pk, state=Operation.State.QUEUED).update(sent_at=now)
    operation.sent_at = now
    try:
        backup = client.create_backup()
    except landing.AMBIGUOUS as error:
        logger.info("operation %s: create's answer lost (%s); waiting for Wix", operation.pk, error)
        mark_submitted(operation, error=landing.WAITING)
        return
    except WixError:
        # Wix answered: it made nothing, and a retry may send the create again.
        Operation.objects.filter(pk=operation.pk).update(sent_at=None)
        operation.sent_at = None
        raise
    mirror_backups(operation.site, [backup], made=True)
    mark_submitted(operation, backup_wix_id=backup.id)


def _send(operation: Operation, client: WixBackupsClient) -> None:
    if operation.kind == Operation.Kind.CREATE_BACKUP:
        _send_create(operation, client)
    elif operation.kind == Operation.Kind.RESTORE:
        restoration = client.restore_backup(operation.backup_wix_id)
        mirror_restorations(operation.site, [restoration])
        mark_submitted(operation, restoration_wix_id=restoration.id)
    elif operation.kind == Operation.Kind.RESTORE_PARTIAL:
        chosen = [
            RestoreCollection(
                c["dataCollectionId"],
                (c.get("restoreDestination") or {}).get("dataCollectionId"),
                (c.get("restoreDestination") or {}).get("displayName"),
            )
            for c in operation.collections
        ]
        restoration = client.restore_partial_backup(operation.backup_wix_id, chosen)
        mirror_restorations(operation.site, [restoration])
        mark_submitted(operation, restoration_wix_id=restoration.id)
    else:
        client.delete_backup(operation.backup_wix_id)
        mark_submitted(operation)


def _adopt(operation: Operation, client: WixBackupsClient) -> bool:
    """After an ambiguous attempt, take over what Wix made then instead of asking again.

    A create that timed out may have made a backup; making another could evict one of the
    owner's on-demand backups (architecture.md, habit 5). Likewise for a restore.
    """
    since = operation.attempt_started_at - CLOCK_SKEW
    taken = set(
        Operation.objects.exclude(pk=operation.pk)
        .filter(site=operation.site)
        .values_list(
            "backup_wix_id" if not operation.is_restore else "restoration_wix_id", flat=True
        )
    )
    if operation.kind == Operation.Kind.CREATE_BACKUP:
        backups = list(client.iter_backups(type=["ON_DEMAND"], page_size=1000))
        mirror_backups(operation.site, backups, complete=False)
        made = [b for b in backups if b.requested_date >= since and b.id not in taken]
        if made:
            first = min(made, key=lambda b: b.requested_date)
            mark_submitted(operation, backup_wix_id=first.id)
            return True
    elif operation.is_restore:
        restorations = list(client.iter_restorations(page_size=1000))
        mirror_restorations(operation.site, restorations)
        made = [
            r
            for r in restorations
            if r.backup.id == operation.backup_wix_id
            and r.requested_date >= since
            and r.id not in taken
        ]
        if made:
            first = min(made, key=lambda r: r.requested_date)
            mark_submitted(operation, restoration_wix_id=first.id)
            return True
    return False


def _submit_failed(operation: Operation, error: Exception) -> None:
    now = timezone.now()
    transient = getattr(error, "transient", False)
    # A lost connection or timeout on a POST may have reached Wix: the next attempt adopts what
    # was made (see _adopt). A protocol error after a POST is just as ambiguous.
    if isinstance(error, WixProtocolError):
        transient = True
    site = operation.site
    if operation.kind == Operation.Kind.DELETE_BACKUP and isinstance(error, WixNotFound):
        # Already gone from Wix: what the owner wanted has happened.
        finish(operation, state=Operation.State.SUCCEEDED, from_state=Operation.State.QUEUED)
        return
    if is_credentials_problem(error):
        Site.objects.filter(pk=site.pk).update(
            credentials_rejected=True, last_sync_error=owner_message(error), **version_up()
        )
        incident_open(site, Incident.Cause.KEY, owner_message(error), now)
    if transient and operation.attempts < settings.WBM_MAX_SUBMIT_ATTEMPTS:
        logger.info("operation %s: transient Wix error, retrying: %s", operation.pk, error)
        retried = Operation.objects.filter(pk=operation.pk, state=Operation.State.QUEUED).update(
            error=owner_message(error),
            updated_at=now,
            claimed_until=None,
            due_at=now + backoff(operation.attempts, error),
        )
        if retried and operation.error != owner_message(error):
            site_touch(site.pk)  # the operation's "last problem" shows the new error
        return
    logger.info("operation %s failed: %s", operation.pk, error)
    message = owner_message(error)
    if transient:
        message = f"Gave up after {operation.attempts} attempts: {message}"
    finish(
        operation, state=Operation.State.FAILED, error=message, from_state=Operation.State.QUEUED
    )
