"""Restore previews: what a restore from a snapshot would change in the live data.

A preview is an operation (`preview_restore`) on the snapshot queue in two steps:

1. the live data is read as a snapshot of the site (an ordinary one, `snapshot_requests`, taken
   with the site's newest snapshot as its parent: it costs about as much as paging the items and
   stores almost nothing new), or the one already being taken when the preview is asked;
2. once that snapshot is complete (snapshot_run wakes the waiting previews; the sweeper hands
   them over too), the worker compares the source with it collection by collection
   (`snapshots.compare_collection`, flat memory) and writes each collection's changes as
   `PreviewChange` rows, then its counts and schema drift as a `PreviewCollection` row.

A worker that dies mid-comparison leaves its lease to expire; the next one drops the changes of
the collections with no counts row yet and goes on from there. An item's field differences are
read on demand (`preview_item_difference`), never stored.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .. import rules
from ..models import (
    Activity,
    Backup,
    Operation,
    Preview,
    PreviewChange,
    PreviewCollection,
    Site,
    Snapshot,
)
from ..snapshots import (
    Entry,
    FieldDifference,
    ManifestError,
    PackReader,
    StorageError,
    compare_collection,
    field_differences,
    read_item,
    read_manifest,
    schema_drift,
)
from .dispatch import enqueue_snapshot_operation
from .errors import OperationRefused
from .leases import LeaseLost, claim_snapshot_work, lease, renew_snapshot_work
from .snapshot_requests import SNAPSHOT_GRACE, record_snapshot
from .snapshot_store import site_store
from .states import backoff, finish, site_touch, version_up
from .words import snapshot_message

logger = logging.getLogger(__name__)

# Changes written per INSERT (and between two renewals of the lease).
WRITE_BATCH = 1000
# How soon a preview waiting for its live reading looks again, should no wake-up come.
WAIT = timedelta(seconds=5)


# --- Asking ------------------------------------------------------------------------------------


def preview_request(
    *,
    site: Site,
    source: Snapshot,
    collections: list[str] | None = None,
    backup: Backup | None = None,
    user: AbstractBaseUser | None = None,
) -> Preview:
    """Preview a restore from `source` (of `collections`, default all it holds): reads the live
    data as a snapshot, then compares. OperationRefused, changing nothing, when the snapshot is
    not complete or a collection is not one of its own."""
    held = [c["id"] for c in source.collections]
    chosen = held if not collections else [c for c in held if c in set(collections)]
    unknown = sorted(set(collections or ()) - set(held))
    if unknown:
        raise OperationRefused(f"This snapshot holds no collection named {unknown[0]}.")
    with transaction.atomic():
        locked = Site.objects.select_for_update().get(pk=site.pk)
        fresh = Snapshot.objects.filter(pk=source.pk, site=locked).first()
        if fresh is None:
            raise OperationRefused("This snapshot no longer exists.")
        reason = rules.preview_refusal(fresh)
        if reason:
            raise OperationRefused(reason)
        if not chosen:
            raise OperationRefused("This snapshot holds no collection to compare.")
        already = rules.snapshot_running(locked)
        reading = already or record_snapshot(
            site=locked, user=user, taken_for=Snapshot.TakenFor.PREVIEW
        )
        now = timezone.now()
        operation = Operation.objects.create(
            site=locked,
            kind=Operation.Kind.PREVIEW_RESTORE,
            requested_by=user,
            due_at=now + SNAPSHOT_GRACE,
        )
        preview = Preview.objects.create(
            site=locked,
            operation=operation,
            source=fresh,
            backup=backup,
            live=Snapshot.objects.get(operation=reading),
            live_taken_for_preview=already is None,
            collections=chosen,
        )
        Activity.objects.create(
            site=locked,
            actor=user,
            operation=operation,
            outcome=Activity.REQUESTED,
            message="Preview a restore from the snapshot",
            backup_at=fresh.started_at,
        )
        _forget_old_previews(locked)
        site_touch(locked.pk)
        transaction.on_commit(lambda: enqueue_snapshot_operation(operation.pk))
    return preview


def _forget_old_previews(site: Site) -> None:
    """Keep the site's newest previews only: their item lists are worth nothing once stale."""
    old = list(
        Preview.objects.filter(site=site)
        .exclude(state=Preview.State.RUNNING)
        .order_by("-created_at")
        .values_list("pk", flat=True)[rules.PREVIEWS_KEPT :]
    )
    if old:
        Preview.objects.filter(pk__in=old).delete()


def wake_previews(snapshot: Snapshot) -> None:
    """The live reading of these previews ended (complete or failed): hand them to a worker."""
    waiting = Operation.objects.filter(
        preview__live=snapshot, state=Operation.State.QUEUED
    ).values_list("pk", flat=True)
    for operation_id in waiting:
        enqueue_snapshot_operation(operation_id)


# --- Computing ---------------------------------------------------------------------------------


class _Hold:
    def __init__(self, operation: Operation, until: datetime) -> None:
        self.operation, self.until = operation, until

    def renew(self) -> None:
        self.until = renew_snapshot_work(self.operation, self.until, timezone.now())

    def release(self, **fields: Any) -> bool:
        return bool(
            Operation.objects.filter(pk=self.operation.pk, claimed_until=self.until).update(
                claimed_until=None, **fields
            )
        )


def preview_run(*, operation_id: Any) -> None:
    """Compute a preview once its live reading is complete; safe to run twice or after a crash."""
    now = timezone.now()
    until = claim_snapshot_work(operation_id, now, lease())
    if until is None:
        return
    operation = Operation.objects.select_related("site").get(pk=operation_id)
    hold = _Hold(operation, until)
    preview = Preview.objects.select_related("source", "live").filter(operation=operation).first()
    if preview is None:
        _end(hold, None, "The preview's record is gone.")
        return
    live = preview.live
    if live is None or live.state == Snapshot.State.FAILED:
        why = live.error if live is not None and live.error else "the snapshot is gone"
        _end(hold, preview, f"The live data could not be read: {why}")
        return
    if live.state == Snapshot.State.RUNNING:
        # Not a try: the snapshot's end wakes this preview; the sweeper looks again meanwhile.
        hold.release(due_at=now + WAIT, attempts=F("attempts") - 1)
        return
    try:
        _compare(hold, preview)
    except LeaseLost:
        logger.warning("preview operation %s: lease lost to another worker", operation.pk)
    except StorageError as error:
        _failed(hold, preview, error)
    except Exception as error:
        logger.exception("preview operation %s failed unexpectedly", operation.pk)
        _failed(hold, preview, error, internal=True)


def _compare(hold: _Hold, preview: Preview) -> None:
    store = site_store(preview.site_id)
    source = read_manifest(store, preview.source.storage_id)
    current = read_manifest(store, preview.live.storage_id)
    done = set(preview.counts.values_list("collection_id", flat=True))
    # An interrupted attempt's changes of a collection it did not finish.
    preview.changes.exclude(collection_id__in=done).delete()
    for position, collection_id in enumerate(preview.collections):
        if collection_id in done:
            continue
        Preview.objects.filter(pk=preview.pk).update(progress_collection=collection_id)
        counts = {"restore": 0, "revert": 0, "remove": 0}
        batch: list[PreviewChange] = []
        for change in compare_collection(store, source, current, collection_id):
            batch.append(
                PreviewChange(
                    preview=preview,
                    collection_id=collection_id,
                    item_id=change.item_id,
                    kind=change.kind,
                    position=counts[change.kind],
                    source_entry=_entry_json(change.source),
                    current_entry=_entry_json(change.current),
                )
            )
            counts[change.kind] += 1
            if len(batch) == WRITE_BATCH:
                PreviewChange.objects.bulk_create(batch)
                batch = []
                hold.renew()
        PreviewChange.objects.bulk_create(batch)
        drift = schema_drift(store, source, current, collection_id)
        record = next(c for c in source.collections if c.id == collection_id)
        PreviewCollection.objects.create(
            preview=preview,
            position=position,
            collection_id=collection_id,
            same=record.items - counts["restore"] - counts["revert"],
            in_current=drift.in_current,
            fields_added=list(drift.added),
            fields_removed=list(drift.removed),
            fields_retyped=[list(r) for r in drift.retyped],
            **counts,
        )
        hold.renew()
        Preview.objects.filter(pk=preview.pk).update(collections_done=F("collections_done") + 1)
        Site.objects.filter(pk=preview.site_id).update(**version_up())
    now = timezone.now()
    Preview.objects.filter(pk=preview.pk, state=Preview.State.RUNNING).update(
        state=Preview.State.COMPLETE, finished_at=now, progress_collection="", error=""
    )
    if hold.release():
        finish(hold.operation, state=Operation.State.SUCCEEDED, from_state=Operation.State.QUEUED)


def _entry_json(entry: Entry | None) -> dict[str, Any] | None:
    if entry is None:
        return None
    return {
        "id": entry.item_id,
        "hash": entry.digest,
        "size": entry.size,
        "pack": entry.pack,
        "at": entry.offset,
        "len": entry.length,
    }


def _failed(hold: _Hold, preview: Preview, error: Exception, *, internal: bool = False) -> None:
    attempts = (
        Operation.objects.filter(pk=hold.operation.pk).values_list("attempts", flat=True).first()
    )
    transient = internal or getattr(error, "transient", False)
    message = (
        "Something went wrong on our side; trying again shortly."
        if internal
        else snapshot_message(error)
    )
    if transient and (attempts or 0) < settings.WBM_SNAPSHOT_MAX_ATTEMPTS:
        due = timezone.now() + backoff(attempts or 1, error)
        if hold.release(error=message, due_at=due):
            site_touch(preview.site_id)
        return
    if transient:
        message = f"Gave up after {attempts} attempts in a row: {message}"
    _end(hold, preview, message)


def _end(hold: _Hold, preview: Preview | None, message: str) -> None:
    if not hold.release():
        return
    if preview is not None:
        Preview.objects.filter(pk=preview.pk, state=Preview.State.RUNNING).update(
            state=Preview.State.FAILED,
            finished_at=timezone.now(),
            error=message,
            progress_collection="",
        )
    finish(
        hold.operation,
        state=Operation.State.FAILED,
        error=message,
        from_state=Operation.State.QUEUED,
    )


# --- One item's difference ---------------------------------------------------------------------


@dataclass(frozen=True)
class ItemDifference:
    """An item as the snapshot has it and as the live data has it, and the fields that differ."""

    old: dict[str, Any] | None
    current: dict[str, Any] | None
    fields: list[FieldDifference]


def preview_item_difference(change: PreviewChange) -> ItemDifference:
    """Both versions of one changed item, read out of their packs (hash checked). StorageError
    (ObjectNotFound) when the live reading was pruned since, or an object is damaged."""
    store = site_store(change.preview.site_id)
    reader = PackReader(store.backend)

    def read(value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        try:
            entry = Entry.from_json(change.collection_id, value)
        except (KeyError, TypeError, ValueError) as error:
            raise ManifestError("The preview's record of this item does not read.") from error
        return read_item(store, entry, reader)

    old, current = read(change.source_entry), read(change.current_entry)
    return ItemDifference(old, current, field_differences(old, current))
