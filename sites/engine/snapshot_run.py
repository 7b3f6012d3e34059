"""Snapshot work on the snapshot queue: taking a snapshot, and verifying one.

A snapshot operation stays QUEUED from the click to its end (it is never sent to Wix's Backups
API, so submit and refresh leave it alone). The worker taking it holds it with a lease
(`Operation.claimed_until`) and holds the site's snapshot storage (`Site.snapshot_claimed_until`,
so no prune of the site runs meanwhile); every page read renews both. A worker that dies leaves
the leases to expire, and the sweeper hands the operation to another worker, whose
`take_snapshot` goes on from the last page checkpointed in storage.
"""

import logging
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from wixapi import WixError, WixProtocolError

from .. import crypto
from ..models import Activity, Backup, Operation, Site, Snapshot
from ..snapshots import (
    CorruptObject,
    Manifest,
    ManifestError,
    ObjectNotFound,
    Progress,
    StorageError,
    take_snapshot,
    verify_snapshot,
)
from ..snapshots.pending import discard_pending
from ..wix_clients import BaseUrlNotAllowed, data_client_for
from .dispatch import enqueue_prune
from .leases import (
    LeaseLost,
    claim_site_store,
    lease,
    release_site_store,
    renew_snapshot_work,
    verify_lease,
)
from .leases import claim_snapshot_work as _claim
from .preview import preview_run, wake_previews
from .restore_reading import snapshot_ended
from .restore_run import restore_operation_run
from .restore_safety import hand_over_waiting
from .snapshot_store import site_store
from .states import backoff, finish, site_touch, version_up
from .words import InternalProblem, snapshot_message

logger = logging.getLogger(__name__)

# The failures of a snapshot's work that are not bugs of ours: each ends in words for the owner.
EXPECTED = (WixError, BaseUrlNotAllowed, crypto.SecretUnreadable, StorageError)


def snapshot_operation_run(*, operation_id: Any) -> None:
    """Take, verify or restore a snapshot; safe to run twice, after a crash, or racing another
    worker."""
    kind = Operation.objects.filter(pk=operation_id).values_list("kind", flat=True).first()
    if kind == Operation.Kind.SNAPSHOT:
        _take(operation_id)
    elif kind == Operation.Kind.VERIFY_SNAPSHOT:
        _verify(operation_id)
    elif kind == Operation.Kind.PREVIEW_RESTORE:
        preview_run(operation_id=operation_id)
    elif kind == Operation.Kind.RESTORE_SNAPSHOT:
        restore_operation_run(operation_id=operation_id)


# --- Taking ------------------------------------------------------------------------------------


class _Hold:
    """The leases one run of a snapshot holds, renewed after each page with its progress."""

    def __init__(self, operation: Operation, snapshot: Snapshot, until: datetime) -> None:
        self.operation, self.snapshot = operation, snapshot
        self.until = self.site_until = until

    def renew(self, progress: Progress) -> None:
        now = timezone.now()
        # A page was read (leases.renew_snapshot_work: only failures in a row count).
        until = self.until = renew_snapshot_work(self.operation, self.until, now)
        Snapshot.objects.filter(pk=self.snapshot.pk).update(
            progress_collection=progress.collection_id,
            progress_items=progress.items_done,
            progress_total=progress.total,
            collections_done=progress.collections_done,
            collections_total=progress.collections_total,
            error="",
        )
        # The live page shows the progress: one write of the site's row renews the storage's
        # hold and moves the version.
        Site.objects.filter(pk=self.snapshot.site_id).update(
            snapshot_claimed_until=until, **version_up()
        )
        self.site_until = until


def _take(operation_id: Any) -> None:
    now = timezone.now()
    until = _claim(operation_id, now, lease())
    if until is None:
        return  # finished, or another worker is on it
    operation = Operation.objects.select_related("site").get(pk=operation_id)
    site_until = claim_site_store(operation.site_id, now)
    if site_until is None:
        # A prune of the site is writing to its storage: go on once it is done.
        Operation.objects.filter(pk=operation.pk, claimed_until=until).update(
            claimed_until=None, due_at=now + timedelta(seconds=5), attempts=F("attempts") - 1
        )
        return
    hold = None
    try:
        snapshot = Snapshot.objects.filter(operation=operation).first()
        if snapshot is None:
            finish(
                operation,
                state=Operation.State.FAILED,
                error="The snapshot's record is gone.",
                from_state=Operation.State.QUEUED,
            )
            return
        hold = _Hold(operation, snapshot, until)
        hold.site_until = site_until
        _take_held(operation, snapshot, hold)
    finally:
        release_site_store(operation.site_id, hold.site_until if hold else site_until)


def _take_held(operation: Operation, snapshot: Snapshot, hold: _Hold) -> None:
    try:
        store = site_store(operation.site_id)
        with data_client_for(operation.site) as client:
            manifest = take_snapshot(
                client,
                store,
                snapshot.storage_id,
                progress=hold.renew,
                parent=_parent(snapshot),
            )
        _complete(operation, snapshot, manifest, hold)
    except LeaseLost:
        logger.warning("snapshot operation %s: lease lost to another worker", operation.pk)
    except EXPECTED as error:
        _failed(operation, snapshot, error, hold, transient=_transient(error))
    except Exception as error:
        # Not Wix's nor the storage's doing: keep what was read, retry like a transient failure.
        logger.exception("snapshot operation %s failed unexpectedly", operation.pk)
        _failed(operation, snapshot, InternalProblem(str(error)), hold, transient=True)


def _parent(snapshot: Snapshot) -> str | None:
    """The site's newest complete snapshot: the one this one is compared with, so that what did
    not change since is stored once (take.py). Used only when the snapshot begins; a resumed one
    keeps the parent its checkpoint names."""
    return (
        Snapshot.objects.filter(site_id=snapshot.site_id, state=Snapshot.State.COMPLETE)
        .exclude(pk=snapshot.pk)
        .order_by("-finished_at")
        .values_list("storage_id", flat=True)
        .first()
    )


def _transient(error: Exception) -> bool:
    # A page that came back garbled is read again safely: a snapshot only reads.
    return bool(getattr(error, "transient", False)) or isinstance(error, WixProtocolError)


def _release(operation: Operation, hold: _Hold, **fields: Any) -> bool:
    """Give the operation back (to be retried, or before finishing it), if it is still ours."""
    return bool(
        Operation.objects.filter(
            pk=operation.pk, state=Operation.State.QUEUED, claimed_until=hold.until
        ).update(claimed_until=None, updated_at=timezone.now(), **fields)
    )


def _complete(operation: Operation, snapshot: Snapshot, manifest: Manifest, hold: _Hold) -> None:
    if not _release(operation, hold):
        return  # another worker finishes it
    now = timezone.now()
    fields: dict[str, Any] = {}
    backup = _linked_backup(snapshot)
    if backup is not None:
        fields["backup"] = backup
    Snapshot.objects.filter(pk=snapshot.pk).update(
        state=Snapshot.State.COMPLETE,
        finished_at=now,
        item_count=manifest.items,
        collection_count=len(manifest.collections),
        collections=[_collection_json(c) for c in manifest.collections],
        new_bytes=manifest.new_bytes,
        new_objects=manifest.new_objects,
        progress_collection="",
        progress_total=None,
        progress_items=manifest.items,
        collections_done=len(manifest.collections),
        collections_total=len(manifest.collections),
        error="",
        **fields,
    )
    if manifest.missing:
        # Kept all the same: the other collections are worth having; the owner is told which one
        # is incomplete (the row lists it too).
        Activity.objects.create(
            site_id=operation.site_id,
            operation=operation,
            outcome=Activity.INFO,
            message="The snapshot could not read every collection to the end",
            detail="; ".join(
                f"{c.id}: {c.reason} ({c.items} items kept)" for c in manifest.missing
            ),
        )
    finish(operation, state=Operation.State.SUCCEEDED, from_state=Operation.State.QUEUED)
    wake_previews(snapshot)  # the previews that waited for this reading of the live data
    hand_over_waiting(snapshot.pk)
    logger.info(
        "snapshot %s of site %s: %d items, %d new bytes",
        snapshot.storage_id,
        operation.site_id,
        manifest.items,
        manifest.new_bytes,
    )
    # The site's retention rules, after each snapshot: the storage is let go first, or the prune
    # could find it still held and skip.
    release_site_store(operation.site_id, hold.site_until)
    # The Wix restores this snapshot read the site after: what each changed, in the log.
    snapshot_ended(snapshot)
    enqueue_prune(operation.site_id)


def _collection_json(record: Any) -> dict[str, Any]:
    value = asdict(record)
    return {k: value[k] for k in ("id", "status", "items", "total", "notes", "reason")}


def _linked_backup(snapshot: Snapshot) -> Backup | None:
    """The Wix backup of the "Back up now" this snapshot was taken with, once Wix made it."""
    if snapshot.backup_operation_id is None or snapshot.backup_id is not None:
        return None
    wix_id = (
        Operation.objects.filter(pk=snapshot.backup_operation_id)
        .values_list("backup_wix_id", flat=True)
        .first()
    )
    return (
        Backup.objects.filter(site_id=snapshot.site_id, wix_id=wix_id).first() if wix_id else None
    )


def _failed(
    operation: Operation, snapshot: Snapshot, error: Exception, hold: _Hold, *, transient: bool
) -> None:
    now = timezone.now()
    message = snapshot_message(error)
    attempts = Operation.objects.filter(pk=operation.pk).values_list("attempts", flat=True).first()
    if transient and (attempts or 0) < settings.WBM_SNAPSHOT_MAX_ATTEMPTS:
        logger.info("snapshot operation %s: transient failure, retrying: %s", operation.pk, error)
        if _release(operation, hold, error=message, due_at=now + backoff(attempts or 1, error)):
            Snapshot.objects.filter(pk=snapshot.pk).update(error=message)
            site_touch(operation.site_id)
        return
    if transient:
        message = f"Gave up after {attempts} attempts in a row: {message}"
    logger.info("snapshot operation %s failed: %s", operation.pk, error)
    if not _release(operation, hold):
        return
    # Never shown as usable: no manifest was written (take_snapshot writes it last), and what
    # was read so far is dropped, so it holds no object back from the garbage collector.
    Snapshot.objects.filter(pk=snapshot.pk, state=Snapshot.State.RUNNING).update(
        state=Snapshot.State.FAILED, finished_at=now, error=message, progress_collection=""
    )
    try:
        discard_pending(site_store(operation.site_id), snapshot.storage_id)
    except StorageError as cleanup:
        logger.info("snapshot %s: its progress stays in storage: %s", snapshot.storage_id, cleanup)
    finish(
        operation, state=Operation.State.FAILED, error=message, from_state=Operation.State.QUEUED
    )
    wake_previews(snapshot)
    hand_over_waiting(snapshot.pk)
    snapshot_ended(snapshot)


# --- Verifying ---------------------------------------------------------------------------------


def _verify(operation_id: Any) -> None:
    now = timezone.now()
    until = _claim(operation_id, now, verify_lease())
    if until is None:
        return
    operation = Operation.objects.select_related("site").get(pk=operation_id)
    snapshot = Snapshot.objects.filter(verify_operation=operation).first()

    def end(state: str, error: str = "") -> None:
        if Operation.objects.filter(pk=operation.pk, claimed_until=until).update(
            claimed_until=None
        ):
            finish(operation, state=state, error=error, from_state=Operation.State.QUEUED)

    if snapshot is None:
        end(Operation.State.FAILED, "The snapshot was deleted before it could be verified.")
        return
    try:
        report = verify_snapshot(site_store(snapshot.site_id), snapshot.storage_id)
    except (ObjectNotFound, ManifestError, CorruptObject) as error:
        # The manifest itself is gone or damaged: nothing of the snapshot can be trusted.
        _record_verify(snapshot, ok=False, problems=[_problem(None, None, "manifest", error)])
        end(Operation.State.FAILED, f"The snapshot cannot be read: {error.message}")
        return
    except StorageError as error:
        _verify_failed(operation, until, error, end)
        return
    problems = [_problem(p.collection, p.item_id, "damaged", p) for p in report.damaged]
    problems += [_problem(p.collection, p.item_id, "missing", p) for p in report.missing]
    _record_verify(
        snapshot,
        ok=report.ok,
        damaged=len(report.damaged),
        missing=len(report.missing),
        problems=problems,
    )
    if report.ok:
        end(Operation.State.SUCCEEDED)
    else:
        end(
            Operation.State.FAILED,
            f"{len(report.damaged)} damaged and {len(report.missing)} missing items: a restore "
            "from this snapshot could not bring them back.",
        )


def _problem(collection: str | None, item_id: str | None, kind: str, source: Any) -> dict:
    message = getattr(source, "message", str(source))
    return {"collection": collection, "item_id": item_id, "kind": kind, "message": message}


def _record_verify(
    snapshot: Snapshot, *, ok: bool, damaged: int = 0, missing: int = 0, problems: list[dict]
) -> None:
    Snapshot.objects.filter(pk=snapshot.pk).update(
        verified_at=timezone.now(),
        verify_ok=ok,
        damaged_count=damaged,
        missing_count=missing,
        verify_problems=problems[: Snapshot.PROBLEMS_KEPT],
    )
    site_touch(snapshot.site_id)


def _verify_failed(
    operation: Operation, until: datetime, error: StorageError, end: Callable[..., None]
) -> None:
    attempts = Operation.objects.filter(pk=operation.pk).values_list("attempts", flat=True).first()
    message = snapshot_message(error)
    if error.transient and (attempts or 0) < settings.WBM_SNAPSHOT_MAX_ATTEMPTS:
        now = timezone.now()
        Operation.objects.filter(pk=operation.pk, claimed_until=until).update(
            claimed_until=None, error=message, due_at=now + backoff(attempts or 1, error)
        )
        site_touch(operation.site_id)
        return
    end(Operation.State.FAILED, message)
