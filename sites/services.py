"""Every state change of the product and every call to Wix (architecture.md, habit 1).

Requests from people (`operation_request`) are validated and recorded in one transaction and
handed to Celery after commit. Workers then move each operation along with compare-and-swap
updates (`Operation.objects.filter(pk=..., state=...).update(...)`), so a redelivered task or two
workers racing can never apply a transition twice.
"""

import logging
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from wixapi import (
    Backup as WixBackup,
)
from wixapi import (
    Restoration as WixRestoration,
)
from wixapi import (
    RestoreCollection,
    WixAuthError,
    WixBackupsClient,
    WixConflict,
    WixError,
    WixNotFound,
    WixPermissionError,
    WixProtocolError,
    WixRateLimited,
    WixServerError,
    WixUnavailable,
    WixValidationError,
)

from . import crypto
from .models import Activity, Backup, Operation, Restoration, Site
from .wix import BaseUrlNotAllowed, allowed_base_urls, client_for

logger = logging.getLogger(__name__)

# Clocks differ between us and Wix; an adopted backup may carry a requestedDate this much earlier
# than our own record of when we asked.
CLOCK_SKEW = timedelta(seconds=30)
# A fresh operation is handed to Celery at once; the sweeper looks again only after this, in case
# the hand-over was lost.
SUBMIT_GRACE = timedelta(seconds=10)
# Upper bound of rows one sweep claims, so one sweep stays short whatever the backlog.
SWEEP_BATCH = 2000


class InternalProblem(Exception):
    """A failure of ours (not Wix's) while handling an operation: retried like a transient one."""

    transient = True


class OperationRefused(Exception):
    """A request the product will not send to Wix; the message is for the site owner."""


def site_touch(site_id: Any) -> None:
    """Say that something the owner's pages show of this site changed (see `Site.version`).

    Call it after the change is written (or inside the same transaction): a page that reads the
    new version must find the new data.
    """
    Site.objects.filter(pk=site_id).update(**_version_up())


def _version_up(news: bool = True) -> dict[str, Any]:
    """The `update()` keywords that move a site's version along with other fields, if `news`."""
    return {"version": F("version") + 1} if news else {}


# --- Words for site owners ---------------------------------------------------------------------


def explain(error: Exception) -> str:
    """A Wix failure in words a site owner understands (never a secret, never a stack trace)."""
    if isinstance(error, WixAuthError):
        return (
            "Wix rejected the API key (it may have been deleted or mistyped). "
            "Replace the key in the site's settings."
        )
    if isinstance(error, WixPermissionError):
        return (
            "Wix refused access: the API key lacks the “Manage Data Backups” permission "
            "or does not belong to this site."
        )
    if isinstance(error, WixNotFound):
        return "Wix no longer has this backup."
    if isinstance(error, WixConflict):
        return {
            "BACKUP_NOT_READY": "Wix says the backup is not ready to be restored.",
            "RESTORATION_IN_PROGRESS": "Another restore of this site is still running on Wix.",
            "BACKUP_IN_USE": "Wix says the backup is in use (still being made or restored from).",
        }.get(error.code or "", "Wix refused the request in the site's current state.")
    if isinstance(error, WixValidationError):
        return "Wix refused the request as invalid."
    if isinstance(error, WixRateLimited):
        return "Wix asked us to slow down (too many requests); trying again shortly."
    if isinstance(error, WixServerError):
        return "Wix had a temporary problem; trying again shortly."
    if isinstance(error, WixUnavailable):
        return "Wix did not answer in time; trying again shortly."
    if isinstance(error, WixProtocolError):
        return "Wix sent an answer we could not read."
    if isinstance(error, BaseUrlNotAllowed):
        return "The site's Wix API address is not allowed by this installation's settings."
    if isinstance(error, crypto.SecretUnreadable):
        return "The stored API key can no longer be decrypted; replace the key."
    if isinstance(error, InternalProblem):
        return "Something went wrong on our side; trying again shortly."
    return "Something went wrong talking to Wix."


def _credentials_problem(error: Exception) -> bool:
    return isinstance(
        error, WixAuthError | WixPermissionError | BaseUrlNotAllowed | crypto.SecretUnreadable
    )


# --- Requests from people ----------------------------------------------------------------------


def _describe(kind: str, collections: list[dict[str, Any]]) -> str:
    """What was asked, for the activity trail; the backup's time is kept beside it (`backup_at`)."""
    if kind == Operation.CREATE_BACKUP:
        return "Back up now"
    if kind == Operation.RESTORE:
        return "Restore all collections from the backup"
    if kind == Operation.RESTORE_PARTIAL:
        names = ", ".join(c["dataCollectionId"] for c in collections)
        return f"Restore {names} from the backup"
    return "Delete the backup"


def _clean_collections(
    backup: Backup, collections: Iterable[dict[str, Any] | str] | None
) -> list[dict[str, Any]]:
    chosen: list[dict[str, Any]] = []
    for entry in collections or []:
        item = {"dataCollectionId": entry} if isinstance(entry, str) else dict(entry)
        chosen.append(item)
    if not chosen:
        raise OperationRefused("Choose at least one collection to restore.")
    known = {c.get("id") for c in backup.collections}
    ids = [c.get("dataCollectionId") for c in chosen]
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise OperationRefused(f"The backup has no collection named {unknown[0]!s}.")
    if len(set(ids)) != len(ids):
        raise OperationRefused("A collection was chosen twice.")
    return sorted(chosen, key=lambda c: c["dataCollectionId"])


def _restore_running(site: Site) -> bool:
    return (
        site.operations.filter(
            state__in=Operation.RUNNING, kind__in=[Operation.RESTORE, Operation.RESTORE_PARTIAL]
        ).exists()
        or site.restorations.filter(status=Restoration.PENDING).exists()
    )


def operation_request(
    *,
    site: Site,
    kind: str,
    user: AbstractBaseUser | None = None,
    backup_wix_id: str = "",
    collections: Iterable[dict[str, Any] | str] | None = None,
) -> Operation:
    """Record what the owner asked for and hand it to a worker; refuse what cannot work.

    A repeat of a request that is still running returns the running operation, so a double click
    never makes a second backup or a second restore.
    """
    with transaction.atomic():
        # Requests of one site take turns, so two clicks cannot both pass the checks below.
        Site.objects.select_for_update().filter(pk=site.pk).first()
        running = list(site.operations.filter(state__in=Operation.RUNNING, kind=kind))
        backup = None
        chosen: list[dict[str, Any]] = []
        if kind == Operation.CREATE_BACKUP:
            if running:
                return running[0]
        else:
            backup = site.backups.filter(wix_id=backup_wix_id).first()
            if backup is None:
                raise OperationRefused("This backup is not (or no longer) listed for the site.")
            if kind == Operation.RESTORE_PARTIAL:
                chosen = _clean_collections(backup, collections)
            for op in running:
                if op.backup_wix_id == backup_wix_id and op.collections == chosen:
                    return op
            _check(site, kind, backup)
        now = timezone.now()
        operation = Operation.objects.create(
            site=site,
            kind=kind,
            requested_by=user,
            backup_wix_id=backup_wix_id if backup else "",
            collections=chosen,
            next_poll_at=now + SUBMIT_GRACE,
        )
        Activity.objects.create(
            site=site,
            actor=user,
            operation=operation,
            outcome=Activity.REQUESTED,
            message=_describe(kind, chosen),
            backup_at=backup.requested_at if backup else None,
        )
        site_touch(site.pk)
        transaction.on_commit(lambda: enqueue_submit(operation.pk))
    return operation


def refusal(site: Site, kind: str, backup: Backup) -> str:
    """Why this operation on this backup cannot be asked for now ("" when it can).

    The pages say it before the click (selectors.restore_blocked, delete_blocked); the request
    checks it again under the site's lock.
    """
    if kind in (Operation.RESTORE, Operation.RESTORE_PARTIAL):
        if backup.status != Backup.READY:
            return "Only a READY backup can be restored."
        if _restore_running(site):
            return "A restore of this site is already running; wait for it to end."
    elif kind == Operation.DELETE_BACKUP:
        if backup.status == Backup.PENDING:
            return "This backup is still being made; it can be deleted once done."
        if backup.status == Backup.DELETED:
            return "This backup is already deleted."
        if backup_in_use(site, backup.wix_id):
            return "A running restore uses this backup; delete it afterwards."
    else:
        return "Unknown operation."
    return ""


def _check(site: Site, kind: str, backup: Backup) -> None:
    reason = refusal(site, kind, backup)
    if reason:
        raise OperationRefused(reason)


def backup_in_use(site: Site, backup_wix_id: str) -> bool:
    """True while a restore (ours or one started in Wix) reads from this backup."""
    return (
        site.operations.filter(
            state__in=Operation.RUNNING,
            kind__in=[Operation.RESTORE, Operation.RESTORE_PARTIAL],
            backup_wix_id=backup_wix_id,
        ).exists()
        or site.restorations.filter(
            status=Restoration.PENDING, backup_wix_id=backup_wix_id
        ).exists()
    )


def enqueue_submit(operation_id: Any) -> None:
    """Hand an operation to Celery; if the broker is down, the sweeper submits it later."""
    from . import tasks

    try:
        tasks.submit_operation.delay(str(operation_id))
    except Exception:  # kombu raises several types for an unreachable broker
        logger.warning(
            "broker unreachable; operation %s stays queued for the sweeper", operation_id
        )
        Operation.objects.filter(pk=operation_id, state=Operation.QUEUED).update(
            next_poll_at=timezone.now()
        )


# --- Submitting to Wix -------------------------------------------------------------------------


def _backoff(attempts: int, error: Exception | None = None) -> timedelta:
    delay = get_exponential_backoff_interval(
        factor=2, retries=max(attempts - 1, 0), maximum=300, full_jitter=True
    )
    delay = max(delay, 1)
    retry_after = getattr(error, "retry_after", None)
    if retry_after:
        delay = max(delay, min(float(retry_after), 300))
    return timedelta(seconds=delay)


def _finish(operation: Operation, *, state: str, error: str = "", from_state: str) -> bool:
    now = timezone.now()
    done = Operation.objects.filter(pk=operation.pk, state=from_state).update(
        state=state,
        error=error,
        finished_at=now,
        updated_at=now,
        next_poll_at=None,
        claimed_until=None,
    )
    if done:
        # What was just written, set here rather than read back (a query per finished operation,
        # bench/scale.py); the site is the one the caller loaded.
        site = operation.site
        operation.state, operation.error, operation.finished_at = state, error, now
        operation.updated_at, operation.next_poll_at, operation.claimed_until = now, None, None
        backup = (
            site.backups.filter(wix_id=operation.backup_wix_id).first()
            if operation.kind != Operation.CREATE_BACKUP
            else None
        )
        Activity.objects.create(
            site=site,
            actor_id=operation.requested_by_id,
            operation=operation,
            outcome=Activity.SUCCEEDED if state == Operation.SUCCEEDED else Activity.FAILED,
            message=_describe(operation.kind, operation.collections),
            backup_at=backup.requested_at if backup else None,
            detail=error,
        )
        site_touch(site.pk)
    return bool(done)


def operation_submit(*, operation_id: Any) -> None:
    """Send a queued operation to Wix once; safe to run twice or after a crash."""
    now = timezone.now()
    claim = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    claimed = Operation.objects.filter(claim, pk=operation_id, state=Operation.QUEUED).update(
        claimed_until=now + timedelta(seconds=settings.WBM_CLAIM_SECONDS), updated_at=now
    )
    if not claimed:
        return  # finished, submitted, or another worker is on it
    operation = Operation.objects.select_related("site").get(pk=operation_id)
    # Every attempt counts, including one that only looks for what an earlier attempt made, so
    # a Wix that keeps failing ends in a clear failure rather than endless retries.
    operation.attempts += 1
    operation.attempt_started_at = operation.attempt_started_at or now
    Operation.objects.filter(pk=operation.pk).update(
        attempts=operation.attempts, attempt_started_at=operation.attempt_started_at
    )
    try:
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


def _send(operation: Operation, client: WixBackupsClient) -> None:
    if operation.kind == Operation.CREATE_BACKUP:
        backup = client.create_backup()
        _mirror_backups(operation.site, [backup])
        _submitted(operation, backup_wix_id=backup.id)
    elif operation.kind == Operation.RESTORE:
        restoration = client.restore_backup(operation.backup_wix_id)
        _mirror_restorations(operation.site, [restoration])
        _submitted(operation, restoration_wix_id=restoration.id)
    elif operation.kind == Operation.RESTORE_PARTIAL:
        chosen = [
            RestoreCollection(
                c["dataCollectionId"],
                (c.get("restoreDestination") or {}).get("dataCollectionId"),
                (c.get("restoreDestination") or {}).get("displayName"),
            )
            for c in operation.collections
        ]
        restoration = client.restore_partial_backup(operation.backup_wix_id, chosen)
        _mirror_restorations(operation.site, [restoration])
        _submitted(operation, restoration_wix_id=restoration.id)
    else:
        client.delete_backup(operation.backup_wix_id)
        _submitted(operation)


def _submitted(operation: Operation, **wix_ids: str) -> None:
    now = timezone.now()
    done = Operation.objects.filter(pk=operation.pk, state=Operation.QUEUED).update(
        state=Operation.SUBMITTED,
        error="",
        updated_at=now,
        claimed_until=None,
        next_poll_at=now + timedelta(seconds=settings.WBM_POLL_INTERVAL),
        **wix_ids,
    )
    if done:
        site_touch(operation.site_id)


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
    if operation.kind == Operation.CREATE_BACKUP:
        backups = list(client.iter_backups(type=["ON_DEMAND"], page_size=1000))
        _mirror_backups(operation.site, backups, complete=False)
        made = [b for b in backups if b.requested_date >= since and b.id not in taken]
        if made:
            first = min(made, key=lambda b: b.requested_date)
            _submitted(operation, backup_wix_id=first.id)
            return True
    elif operation.is_restore:
        restorations = list(client.iter_restorations(page_size=1000))
        _mirror_restorations(operation.site, restorations)
        made = [
            r
            for r in restorations
            if r.backup.id == operation.backup_wix_id
            and r.requested_date >= since
            and r.id not in taken
        ]
        if made:
            first = min(made, key=lambda r: r.requested_date)
            _submitted(operation, restoration_wix_id=first.id)
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
    if operation.kind == Operation.DELETE_BACKUP and isinstance(error, WixNotFound):
        # Already gone from Wix: what the owner wanted has happened.
        _finish(operation, state=Operation.SUCCEEDED, from_state=Operation.QUEUED)
        return
    if _credentials_problem(error):
        Site.objects.filter(pk=site.pk).update(
            credentials_rejected=True, last_sync_error=explain(error), **_version_up()
        )
    if transient and operation.attempts < settings.WBM_MAX_SUBMIT_ATTEMPTS:
        logger.info("operation %s: transient Wix error, retrying: %s", operation.pk, error)
        retried = Operation.objects.filter(pk=operation.pk, state=Operation.QUEUED).update(
            error=explain(error),
            updated_at=now,
            claimed_until=None,
            next_poll_at=now + _backoff(operation.attempts, error),
        )
        if retried and operation.error != explain(error):
            site_touch(site.pk)  # the operation's "last problem" shows the new error
        return
    logger.info("operation %s failed: %s", operation.pk, error)
    message = explain(error)
    if transient:
        message = f"Gave up after {operation.attempts} attempts: {message}"
    _finish(operation, state=Operation.FAILED, error=message, from_state=Operation.QUEUED)


# --- The mirror --------------------------------------------------------------------------------


# What our URLs and columns accept as a Wix id (Wix's are GUIDs). An id outside it, from a broken
# or hostile Wix, would break the pages that link to it (or overflow the column): such an answer
# is refused whole, like any other answer that breaks the contract.
_WIX_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _checked_ids(*ids: str) -> None:
    for value in ids:
        if not isinstance(value, str) or not _WIX_ID.fullmatch(value):
            raise WixProtocolError("Wix sent an id that is not a Wix id")


# What the mirror stores of Wix's rows, and what of it the pages show: a list that changes none of
# the shown fields (most polls) leaves the site's version alone, so open pages are not redrawn.
BACKUP_STORED = (
    "status",
    "type",
    "requested_at",
    "started_at",
    "finished_at",
    "deleted_at",
    "size_in_bytes",
    "collections",
)
BACKUP_SHOWN = ("status", "type", "requested_at", "finished_at", "size_in_bytes", "collections")
RESTORATION_STORED = (
    "status",
    "backup_wix_id",
    "requested_at",
    "started_at",
    "finished_at",
    "restoration_collections",
)
RESTORATION_SHOWN = (
    "status",
    "backup_wix_id",
    "requested_at",
    "finished_at",
    "restoration_collections",
)


def _upsert(
    existing: Any, rows: list[Any], stored: tuple[str, ...], shown: tuple[str, ...]
) -> bool:
    """Write those of Wix's `rows` that are new or differ from the mirror (`existing`, a site's
    related manager) in the `stored` fields; True when any differs in what the pages show.

    Most polls only confirm what the mirror holds: they then write nothing at all.
    """
    if not rows:
        return False
    before = {
        values[0]: dict(zip(stored, values[1:], strict=True))
        for values in existing.filter(wix_id__in=[r.wix_id for r in rows]).values_list(
            "wix_id", *stored
        )
    }
    write, shown_changed = [], False
    for row in rows:
        old = before.get(row.wix_id)
        new = {name: getattr(row, name) for name in stored}
        if old != new:
            write.append(row)
            shown_changed |= old is None or any(old[name] != new[name] for name in shown)
    if write:
        existing.model.objects.bulk_create(
            write,
            update_conflicts=True,
            unique_fields=["site", "wix_id"],
            update_fields=[*stored, "seen_at"],
        )
    return shown_changed


def _write_backups(
    site: Site, backups: list[WixBackup], complete: bool, listed_at: datetime | None
) -> bool:
    now = timezone.now()
    # A list can name one backup twice (restorations embed theirs): the first, freshest, wins.
    backups = list({b.id: b for b in reversed(backups)}.values())[::-1]
    _checked_ids(*(b.id for b in backups))
    rows = [
        Backup(
            site=site,
            wix_id=b.id,
            status=str(b.status)[:32],
            type=str(b.type)[:32],
            requested_at=b.requested_date,
            started_at=b.started_date,
            finished_at=b.finished_date,
            deleted_at=b.deleted_date,
            size_in_bytes=b.size_in_bytes,
            collections=[{"id": c.id, "displayName": c.display_name} for c in b.collections],
            seen_at=now,
        )
        for b in backups
    ]
    changed = _upsert(site.backups, rows, BACKUP_STORED, BACKUP_SHOWN)
    if complete:
        # Wix may drop deleted backups from its list instead of showing them DELETED.
        gone = site.backups.exclude(wix_id__in=[b.id for b in backups]).exclude(
            status=Backup.DELETED
        )
        if listed_at is not None:
            gone = gone.exclude(seen_at__gte=listed_at)
        changed |= bool(gone.update(status=Backup.DELETED, deleted_at=now, seen_at=now))
    return changed


def _mirror_backups(
    site: Site,
    backups: list[WixBackup],
    *,
    complete: bool = False,
    listed_at: datetime | None = None,
) -> None:
    """Write Wix's view of backups into the mirror; with `complete`, what is gone is DELETED.

    `listed_at`: when the complete list was asked for. A backup written since (a create that
    finished while the list was on its way) is missing from it for being new, not for being gone.
    """
    with transaction.atomic():
        if _write_backups(site, backups, complete, listed_at):
            site_touch(site.pk)


def _mirror_restorations(site: Site, restorations: list[WixRestoration]) -> None:
    now = timezone.now()
    _checked_ids(*(r.id for r in restorations), *(r.backup.id for r in restorations))
    rows = [
        Restoration(
            site=site,
            wix_id=r.id,
            status=str(r.status)[:32],
            backup_wix_id=r.backup.id,
            requested_at=r.requested_date,
            started_at=r.started_date,
            finished_at=r.finished_date,
            restoration_collections=[c.to_wire() for c in r.restoration_collections],
            seen_at=now,
        )
        for r in restorations
    ]
    with transaction.atomic():
        changed = _upsert(site.restorations, rows, RESTORATION_STORED, RESTORATION_SHOWN)
        # The backups embedded in restorations are as fresh as the list's.
        changed |= _write_backups(site, [r.backup for r in restorations], False, None)
        if changed:
            site_touch(site.pk)


# --- Polling -----------------------------------------------------------------------------------


def poll_delay(age_seconds: float) -> timedelta:
    """Poll often while fresh work usually finishes; back off for long-running work."""
    base = settings.WBM_POLL_INTERVAL
    if age_seconds < 60:
        return timedelta(seconds=base)
    return timedelta(seconds=min(settings.WBM_POLL_MAX_INTERVAL, max(base, age_seconds / 10)))


@dataclass
class SweepResult:
    submits: list[str]
    refreshes: list[str]  # sites claimed for a refresh
    watches: list[str] = field(default_factory=list)  # sites claimed for a full refresh


def _claim_site(site_id: Any, now: datetime) -> bool:
    free = Q(refresh_claimed_until__isnull=True) | Q(refresh_claimed_until__lt=now)
    lease = now + timedelta(seconds=settings.WBM_CLAIM_SECONDS)
    return bool(Site.objects.filter(free, pk=site_id).update(refresh_claimed_until=lease))


def _claim_sites(site_ids: Iterable[Any], now: datetime) -> list[str]:
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


def sweep() -> SweepResult:
    """Claim what is due: queued operations to submit, and sites with operations to poll.

    A site is claimed as a whole, so however many of its operations are due, one refresh (one
    list call) serves them all, and no second refresh starts while one runs.
    """
    now = timezone.now()
    lease = now + timedelta(seconds=settings.WBM_CLAIM_SECONDS)
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    with transaction.atomic():
        queued = list(
            Operation.objects.select_for_update(skip_locked=True)
            .filter(free, state=Operation.QUEUED, next_poll_at__lte=now)
            .order_by("next_poll_at")
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        # Not handed out again until the lease ends, unless the work reschedules it sooner.
        Operation.objects.filter(pk__in=queued).update(next_poll_at=lease)
    # Sweeps run on a fixed beat, and a refresh sets the next poll a moment after a sweep: a poll
    # due before the next sweep is halfway comes now, else it waits a whole sweep more (2 s polls
    # with 2 s sweeps were 4 s apart; bench/wix_calls.py, bench/freshness.py).
    horizon = now + timedelta(seconds=settings.WBM_SWEEP_INTERVAL / 2)
    due_sites = set(
        Operation.objects.filter(state=Operation.SUBMITTED, next_poll_at__lte=horizon)
        .values_list("site_id", flat=True)
        .distinct()[:SWEEP_BATCH]
    )
    refreshes = _claim_sites(due_sites, now)
    # Work nobody here asked for (Wix's AUTO backups, a restore started in Wix's own screen) is
    # watched too while it is PENDING, so its badge turns final within seconds, not at the next
    # periodic sync.
    stale = now - timedelta(seconds=settings.WBM_WATCH_INTERVAL)
    watched = (
        set(
            Site.objects.filter(
                Q(backups__status=Backup.PENDING) | Q(restorations__status=Restoration.PENDING),
                Q(last_synced_at__isnull=True) | Q(last_synced_at__lt=stale),
            )
            .values_list("pk", flat=True)
            .distinct()[:SWEEP_BATCH]
        )
        - due_sites
    )
    watches = _claim_sites(watched, now)
    return SweepResult(submits=[str(pk) for pk in queued], refreshes=refreshes, watches=watches)


def site_refresh(*, site_id: Any, full: bool = False, claimed: bool = False) -> None:
    """One List Backups (and List Restorations when needed) serves every operation of the site.

    `full` (periodic sync, opening a stale page) also lists restorations, to see those started
    in Wix's own screen. `claimed` means the sweeper already holds the site for this refresh.
    """
    now = timezone.now()
    if not claimed and not _claim_site(site_id, now):
        return  # a refresh of this site is running right now
    try:
        _refresh(site_id, full, now)
    except Exception:
        # A bug must not turn into a poll storm: back off as for a Wix outage, and say so.
        logger.exception("refresh of site %s failed unexpectedly", site_id)
        Operation.objects.filter(site_id=site_id, state=Operation.SUBMITTED).update(
            next_poll_at=now + _backoff(3)
        )
    finally:
        Site.objects.filter(pk=site_id).update(refresh_claimed_until=None)


def _refresh(site_id: Any, full: bool, now: datetime) -> None:
    site = Site.objects.filter(pk=site_id).first()
    if site is None:
        return
    running = list(site.operations.filter(state=Operation.SUBMITTED))
    want_restorations = (
        full
        or any(op.is_restore for op in running)
        or site.restorations.filter(status=Restoration.PENDING).exists()
    )
    try:
        with client_for(site) as client:
            backups = list(client.iter_backups(page_size=1000))
            restorations = (
                list(client.iter_restorations(page_size=1000)) if want_restorations else None
            )
        # Checked before anything is written, so a listing we cannot use changes nothing.
        _checked_ids(*(b.id for b in backups))
        _checked_ids(*(x for r in restorations or [] for x in (r.id, r.backup.id)))
    except (WixError, BaseUrlNotAllowed, crypto.SecretUnreadable) as error:
        _refresh_failed(site, running, error, now)
        return
    _mirror_backups(site, backups, complete=True, listed_at=now)
    if restorations is not None:
        _mirror_restorations(site, restorations)
    jitter = random.uniform(0.9, 1.1)  # noqa: S311 - spreading load, not security
    # Only a first sync or a cleared problem is a change the pages show; the sync time alone is
    # not (a page that polls while work runs would otherwise be redrawn at every poll).
    news = site.last_synced_at is None or bool(site.last_sync_error or site.credentials_rejected)
    Site.objects.filter(pk=site.pk).update(
        last_synced_at=now,
        last_sync_error="",
        credentials_rejected=False,
        next_sync_at=now + timedelta(seconds=settings.WBM_SYNC_INTERVAL * jitter),
        **_version_up(news),
    )
    backup_status = {b.id: str(b.status) for b in backups}
    restoration_status = (
        {r.id: str(r.status) for r in restorations} if restorations is not None else None
    )
    for operation in running:
        outcome = _outcome(operation, backup_status, restoration_status)
        if outcome is not None:
            state, error = outcome
            _finish(operation, state=state, error=error, from_state=Operation.SUBMITTED)
        else:
            _poll_later(operation, now, delay=poll_delay(operation.age(now)))


def _refresh_failed(site: Site, running: list[Operation], error: Exception, now: datetime) -> None:
    logger.info("refresh of site %s failed: %s", site.pk, error)
    message = explain(error)
    rejected = _credentials_problem(error)
    news = message != site.last_sync_error or rejected != site.credentials_rejected
    Site.objects.filter(pk=site.pk).update(
        last_sync_error=message,
        credentials_rejected=rejected,
        next_sync_at=now + timedelta(seconds=min(settings.WBM_SYNC_INTERVAL, 300)),
        **_version_up(news),
    )
    transient = getattr(error, "transient", False)
    for operation in running:
        if not transient and _credentials_problem(error):
            _finish(
                operation, state=Operation.FAILED, error=message, from_state=Operation.SUBMITTED
            )
        else:
            delay = max(poll_delay(operation.age(now)), _backoff(1, error))
            _poll_later(operation, now, delay=delay, error=message)


def _poll_later(operation: Operation, now: datetime, *, delay: timedelta, error: str = "") -> None:
    """Look again after `delay`, unless the operation has waited past its deadline."""
    if operation.age(now) > settings.WBM_OPERATION_DEADLINE:
        hours = settings.WBM_OPERATION_DEADLINE / 3600
        message = (
            f"Wix had not finished after {hours:g} hours, so we stopped waiting. "
            "Check the site's backups in Wix."
        )
        _finish(operation, state=Operation.FAILED, error=message, from_state=Operation.SUBMITTED)
        return
    done = Operation.objects.filter(pk=operation.pk, state=Operation.SUBMITTED).update(
        error=error, updated_at=now, next_poll_at=now + delay
    )
    if done and error != operation.error:
        site_touch(operation.site_id)


def _outcome(
    operation: Operation, backups: dict[str, str], restorations: dict[str, str] | None
) -> tuple[str, str] | None:
    """The final state and message of a submitted operation by Wix's fresh lists, if it ended."""
    if operation.kind == Operation.CREATE_BACKUP:
        status = backups.get(operation.backup_wix_id)
        if status == Backup.READY:
            return Operation.SUCCEEDED, ""
        if status in (Backup.FAILED, Backup.CANCELED):
            return Operation.FAILED, "Wix could not complete the backup."
        if status == Backup.DELETED:
            return Operation.FAILED, "The backup was deleted before it was ready."
    elif operation.is_restore:
        status = (restorations or {}).get(operation.restoration_wix_id)
        if status == Restoration.COMPLETED:
            return Operation.SUCCEEDED, ""
        if status in (Restoration.FAILED, "CANCELED"):
            return Operation.FAILED, "Wix reported that the restore failed."
    elif backups.get(operation.backup_wix_id, Backup.DELETED) == Backup.DELETED:
        # Deleted: shown DELETED, or gone from the list altogether.
        return Operation.SUCCEEDED, ""
    return None


def sites_due_for_sync() -> list[str]:
    """The sites whose periodic refresh is due, pushed back so the next run skips them."""
    now = timezone.now()
    with transaction.atomic():
        due = list(
            Site.objects.select_for_update(skip_locked=True)
            .filter(next_sync_at__lte=now)
            .values_list("pk", flat=True)[:SWEEP_BATCH]
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
    _enqueue_refresh(site)
    return True


# --- Connecting sites --------------------------------------------------------------------------


class ConnectionProblem(Exception):
    """Wix refused or could not check the credentials; the message is for the site owner."""


def credentials_check(*, site: Site) -> None:
    """One live List Backups call with the site's credentials; raise in plain words if refused."""
    try:
        with client_for(site) as client:
            client.list_backups(limit=1)
    except WixAuthError as error:
        raise ConnectionProblem(
            "Wix does not know this API key. Check that it was copied whole."
        ) from error
    except WixPermissionError as error:
        raise ConnectionProblem(
            "Wix refused the key for this site: check the site id, and that the key has the "
            "“Manage Data Backups” permission."
        ) from error
    except WixNotFound as error:
        raise ConnectionProblem("Wix does not know this site id.") from error
    except WixError as error:
        if error.transient:
            raise ConnectionProblem(
                "Wix could not be reached to check the key; try again in a minute."
            ) from error
        raise ConnectionProblem(explain(error)) from error
    except BaseUrlNotAllowed as error:
        raise ConnectionProblem(explain(error)) from error


@sensitive_variables("api_key", "site")
def site_connect(
    *,
    owner: AbstractBaseUser,
    name: str,
    wix_site_id: str,
    api_key: str = "",
    instance_id: str = "",
    api_base_url: str,
    check: bool = True,
) -> Site:
    """Connect a site after checking its credentials against Wix; nothing is kept on failure."""
    # Refused here too (not only by the form's choices and by client_for), so no path, not even
    # `connect_site --skip-check`, stores a site that points the worker at another host.
    if api_base_url.rstrip("/") not in allowed_base_urls():
        raise ConnectionProblem(explain(BaseUrlNotAllowed(api_base_url)))
    site = Site(
        owner=owner,
        name=name.strip(),
        wix_site_id=wix_site_id.strip(),
        api_base_url=api_base_url.rstrip("/"),
        auth_kind=Site.APP if instance_id else Site.API_KEY,
        instance_id=instance_id.strip(),
    )
    if api_key:
        site.secret_encrypted = crypto.encrypt(api_key.strip())
        site.secret_hint = api_key.strip()[-4:]
    if check:
        credentials_check(site=site)
    with transaction.atomic():
        site.save()
        Activity.objects.create(
            site=site, actor=owner, outcome=Activity.INFO, message="Connected the site"
        )
    transaction.on_commit(lambda: _enqueue_refresh(site))
    return site


def _enqueue_refresh(site: Site) -> None:
    from . import tasks

    try:
        tasks.refresh_site.delay(str(site.pk), full=True)
    except Exception:  # broker down: the periodic sync catches up
        logger.warning("broker unreachable; first refresh of site %s deferred", site.pk)


@sensitive_variables("api_key", "candidate")
def site_replace_key(*, site: Site, api_key: str, user: AbstractBaseUser) -> None:
    """Swap in a new API key after checking it live; the old one stays if the new one fails."""
    candidate = Site(
        pk=site.pk,
        owner=site.owner,
        wix_site_id=site.wix_site_id,
        api_base_url=site.api_base_url,
        auth_kind=Site.API_KEY,
        secret_encrypted=crypto.encrypt(api_key.strip()),
    )
    credentials_check(site=candidate)
    with transaction.atomic():
        Site.objects.filter(pk=site.pk).update(
            auth_kind=Site.API_KEY,
            secret_encrypted=candidate.secret_encrypted,
            secret_hint=api_key.strip()[-4:],
            instance_id="",
            credentials_rejected=False,
            last_sync_error="",
            **_version_up(),
        )
        Activity.objects.create(
            site=site, actor=user, outcome=Activity.INFO, message="Replaced the API key"
        )
    transaction.on_commit(lambda: _enqueue_refresh(site))


def site_disconnect(*, site: Site) -> None:
    """Forget the site here (its key, mirror, operations, activity); nothing changes on Wix."""
    site.delete()


def secrets_rotate() -> int:
    """Re-encrypt every stored secret with the current (first) key; returns how many."""
    count = 0
    for site in Site.objects.exclude(secret_encrypted="").only("pk", "secret_encrypted"):
        Site.objects.filter(pk=site.pk, secret_encrypted=site.secret_encrypted).update(
            secret_encrypted=crypto.rotate(site.secret_encrypted)
        )
        count += 1
    return count


# --- People's preferences (added with the owner's dashboard) -----------------------------------


def profile_set_time_zone(*, user: AbstractBaseUser, time_zone: str) -> None:
    """Remember the zone the owner's pages show times in ("" for the installation's zone)."""
    # Imported here so that this addition touches nothing above it in this shared module.
    from .models import Profile

    Profile.objects.update_or_create(user=user, defaults={"time_zone": time_zone})
