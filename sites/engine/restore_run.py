"""Restoring a snapshot into the site: an operation of kind `restore_snapshot` on the snapshot
queue (docs/snapshots.md, "Restores").

The live data is known through the restore's safety snapshot, taken just before it
(restore_safety.py; cheap, its parent being the site's newest snapshot): the source snapshot is
compared with it collection by collection (snapshots/compare.py), and only what differs is
written, with Wix's bulk save and bulk remove (`WBM_RESTORE_BULK_ITEMS`, at most 1000 items a
call, `suppressHooks`):

- whole collections: every item deleted or changed since is saved back, every item added since
  removed (what a Wix restore does, item for item);
- merge: deleted and changed items saved back, added items kept;
- chosen items: only the ids asked for, saved back or removed as the comparison says.

Each collection is written in two phases, saves then removes; after every bulk call the
checkpoint (`RestoreRun.position`: collection, phase, changes written) and the counts are saved
in one UPDATE, so a worker that dies or a Wix that fails goes on from the last call: the
comparison of two fixed snapshots yields the same changes in the same order, and the ones
already written are skipped. An item is only ever written to its value in the source snapshot,
so a call sent twice (its answer lost) writes the same values again.
"""

import itertools
import json
import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from wixapi import WixDataClient, WixError, WixNotFound, WixProtocolError

from .. import crypto
from ..models import Activity, Operation, Site
from ..restore_models import RestoreRun
from ..snapshots import Manifest, PackReader, StorageError, read_manifest
from ..snapshots.compare import REMOVE, RESTORE, REVERT, Change
from ..snapshots.objects import ObjectStore
from ..wix_clients import BaseUrlNotAllowed, data_client_for
from .leases import (
    LeaseLost,
    claim_site_store,
    claim_snapshot_work,
    lease,
    release_site_store,
    renew_snapshot_work,
)
from .restore_changes import PHASES, REMOVE_PHASE, SAVE, changes, left_words, remaining
from .restore_safety import SAFETY_WAIT, WAITING, safety_of
from .snapshot_store import site_store
from .states import backoff, finish, site_touch, version_up
from .words import InternalProblem, restore_summary, restore_words, snapshot_message

logger = logging.getLogger(__name__)

EXPECTED = (WixError, BaseUrlNotAllowed, crypto.SecretUnreadable, StorageError)
# Wix's answer for an item that is not there: removing it again is what was wanted.
ITEM_NOT_FOUND = "WDE0073"
# Fields Wix sets itself on every write: sent back, they would only be overwritten.
WIX_SETS = ("_updatedDate",)


def restore_operation_run(*, operation_id: Any) -> None:
    """Write a snapshot back into the site; safe to run twice, after a crash, or racing."""
    now = timezone.now()
    until = claim_snapshot_work(operation_id, now, lease())
    if until is None:
        return  # finished, or another worker is on it
    operation = Operation.objects.select_related("site").get(pk=operation_id)
    safety = safety_of(operation)
    if safety.waiting:
        _give_back(operation, until, now + SAFETY_WAIT, error=safety.reason or WAITING)
        return
    run = safety.run
    reason = safety.reason or ("" if run is not None else "This restore's record is gone.")
    if not reason and run is not None and run.source is None:
        reason = "The snapshot to restore was deleted, so nothing was restored."
    if reason or run is None:
        _end(operation, until, Operation.State.FAILED, reason)
        return
    site_until = claim_site_store(operation.site_id, now)
    if site_until is None:
        # A snapshot of the site is being taken or pruned: go on once it is done.
        _give_back(operation, until, now + timedelta(seconds=5), error=operation.error)
        return
    hold = _Hold(operation, until, site_until)
    try:
        _restore_held(operation, run, hold)
    finally:
        release_site_store(operation.site_id, hold.site_until)


def _give_back(operation: Operation, until: datetime, due: datetime, *, error: str) -> None:
    """Not now (no attempt spent): look again at `due`."""
    done = Operation.objects.filter(pk=operation.pk, claimed_until=until).update(
        claimed_until=None, due_at=due, attempts=F("attempts") - 1, error=error
    )
    if done and error != operation.error:
        site_touch(operation.site_id)


def _end(operation: Operation, until: datetime, state: str, error: str = "") -> bool:
    released = Operation.objects.filter(pk=operation.pk, claimed_until=until).update(
        claimed_until=None
    )
    return bool(released) and finish(
        operation, state=state, error=error, from_state=Operation.State.QUEUED
    )


class _Hold:
    """The leases a restore holds, renewed after every bulk call."""

    def __init__(self, operation: Operation, until: datetime, site_until: datetime) -> None:
        self.operation, self.until, self.site_until = operation, until, site_until

    def renew(self) -> None:
        # A call went through (leases.renew_snapshot_work: only failures in a row count).
        until = self.until = renew_snapshot_work(self.operation, self.until, timezone.now())
        # The open pages show the counts: one write renews the storage's hold and the version.
        Site.objects.filter(pk=self.operation.site_id).update(
            snapshot_claimed_until=until, **version_up()
        )
        self.site_until = until


def _restore_held(operation: Operation, run: RestoreRun, hold: _Hold) -> None:
    try:
        store = site_store(operation.site_id)
        source = read_manifest(store, run.source.storage_id)
        current = read_manifest(store, run.safety.storage_id)
        with data_client_for(operation.site) as client:
            _Writer(client, store, run, hold).write(source, current)
        _done(operation, run, hold)
    except LeaseLost:
        logger.warning("restore %s: lease lost to another worker", operation.pk)
    except EXPECTED as error:
        _failed(operation, run, hold, error, transient=_transient(error))
    except Exception as error:
        # Not Wix's nor the storage's doing: keep the checkpoint, retry like a transient failure.
        logger.exception("restore %s failed unexpectedly", operation.pk)
        _failed(operation, run, hold, InternalProblem(str(error)), transient=True)


def _transient(error: Exception) -> bool:
    # A garbled answer to a write is ambiguous, and writing the same values again is harmless.
    return bool(getattr(error, "transient", False)) or isinstance(error, WixProtocolError)


class _Writer:
    """Writes the changes, a bulk call at a time, checkpointing after each."""

    def __init__(
        self, client: WixDataClient, store: ObjectStore, run: RestoreRun, hold: _Hold
    ) -> None:
        self.client, self.store, self.run, self.hold = client, store, run, hold
        self.reader = PackReader(store.backend)
        self.counts: dict[str, dict[str, int]] = {k: dict(v) for k, v in run.counts.items()}
        self.left: dict[str, Any] = dict(run.left) or {"count": 0, "items": []}

    def write(self, source: Manifest, current: Manifest) -> None:
        position = self.run.position or {}
        first, first_phase = position.get("collection", 0), position.get("phase", SAVE)
        live = {c.id for c in current.collections}
        for index in range(first, len(self.run.collections)):
            collection_id = self.run.collections[index]
            self.counts.setdefault(collection_id, RestoreRun.empty_counts())
            phases = PHASES[PHASES.index(first_phase) :] if index == first else PHASES
            if collection_id not in live:
                self._collection_gone(source, current, index, phases)
                continue
            for phase in phases:
                skip = position.get("done", 0) if (index, phase) == (first, first_phase) else 0
                try:
                    self._phase(source, current, index, phase, skip)
                except WixNotFound as error:
                    if error.code != "WDE0025":
                        raise
                    # The collection went while the restore ran: its items are left, the
                    # other collections are still written.
                    self._collection_gone(
                        source,
                        current,
                        index,
                        PHASES[PHASES.index(phase) :],
                        self._done(index, phase),
                    )
                    break

    def _phase(
        self, source: Manifest, current: Manifest, index: int, phase: str, skip: int
    ) -> None:
        collection_id = self.run.collections[index]
        done, batch = skip, []
        for change in changes(self.store, source, current, self.run, collection_id, phase):
            if skip:
                skip -= 1
                continue
            batch.append(change)
            if len(batch) == settings.WBM_RESTORE_BULK_ITEMS:
                done += self._call(index, phase, batch, done)
                batch = []
        if batch:
            done += self._call(index, phase, batch, done)
        following = PHASES.index(phase) + 1
        if following < len(PHASES):
            self._checkpoint({"collection": index, "phase": PHASES[following], "done": 0})
        else:
            self._checkpoint({"collection": index + 1, "phase": SAVE, "done": 0})

    def _call(self, index: int, phase: str, batch: list[Change], done: int) -> int:
        collection_id = self.run.collections[index]
        counts = self.counts[collection_id]
        if phase == SAVE:
            result = self.client.bulk_save(
                collection_id, [self._data(c) for c in batch], suppress_hooks=True
            )
        else:
            result = self.client.bulk_remove(
                collection_id, [c.item_id for c in batch], suppress_hooks=True
            )
        failed = {
            r.original_index: r
            for r in result.failed
            if not (phase == REMOVE_PHASE and r.error and r.error.code == ITEM_NOT_FOUND)
        }
        for number, change in enumerate(batch):
            if number in failed:
                error = failed[number].error
                self._leave(collection_id, change.item_id, error.description if error else "")
                counts["failed"] += 1
            else:
                key = {RESTORE: "restored", REVERT: "reverted", REMOVE: "removed"}[change.kind]
                counts[key] += 1
        self._checkpoint({"collection": index, "phase": phase, "done": done + len(batch)})
        return len(batch)

    def _data(self, change: Change) -> dict[str, Any]:
        data = json.loads(self.reader.item(change.source))
        for name in WIX_SETS:
            data.pop(name, None)
        return data

    def _leave(self, collection_id: str, item_id: str, reason: str) -> None:
        self.left["count"] = self.left.get("count", 0) + 1
        if len(self.left["items"]) < RestoreRun.LEFT_KEPT:
            item = {"collection": collection_id, "item_id": item_id, "reason": reason}
            self.left["items"].append(item)

    def _done(self, index: int, phase: str) -> int:
        """How many changes of this phase the last checkpoint says are written."""
        position = self.run.position or {}
        here = (position.get("collection"), position.get("phase")) == (index, phase)
        return position.get("done", 0) if here else 0

    def _collection_gone(
        self,
        source: Manifest,
        current: Manifest,
        index: int,
        phases: tuple[str, ...],
        written: int = 0,
    ) -> None:
        collection_id = self.run.collections[index]
        reason = "The collection no longer exists on the site."
        if collection_id in {c.id for c in current.collections}:
            for phase in phases:
                found = changes(self.store, source, current, self.run, collection_id, phase)
                for change in itertools.islice(found, written if phase == phases[0] else 0, None):
                    self._leave(collection_id, change.item_id, reason)
                    self.counts[collection_id]["failed"] += 1
        else:
            # Nothing to compare with: every item of the source is left.
            chosen = self.run.items.get(collection_id)
            record = next((c for c in source.collections if c.id == collection_id), None)
            count = len(chosen) if chosen is not None else (record.items if record else 0)
            self.left["count"] = self.left.get("count", 0) + count
            self.left["items"].append(
                {"collection": collection_id, "item_id": None, "reason": reason}
            )
            self.counts[collection_id]["failed"] += count
        self._checkpoint({"collection": index + 1, "phase": SAVE, "done": 0})

    def _checkpoint(self, position: dict[str, Any]) -> None:
        self.hold.renew()
        self.run.position, self.run.counts, self.run.left = position, self.counts, self.left
        RestoreRun.objects.filter(pk=self.run.pk).update(
            position=position, counts=self.counts, left=self.left
        )


def _done(operation: Operation, run: RestoreRun, hold: _Hold) -> None:
    left = (run.left or {}).get("count", 0)
    error = ""
    if left:
        error = f"{left} item{'s' if left != 1 else ''} could not be written: " + left_words(run)
    _finish(
        operation, run, hold, Operation.State.FAILED if left else Operation.State.SUCCEEDED, error
    )


def _finish(operation: Operation, run: RestoreRun, hold: _Hold, state: str, error: str) -> None:
    released = Operation.objects.filter(
        pk=operation.pk, state=Operation.State.QUEUED, claimed_until=hold.until
    ).update(claimed_until=None)
    if not released:
        return
    if finish(operation, state=state, error=error, from_state=Operation.State.QUEUED):
        # The activity log says what the restore changed, collection by collection.
        detail = "; ".join(filter(None, [restore_summary(run.mode, run.counts), error]))
        words = restore_words(operation.collections, undo=run.undo_of_id is not None)
        Activity.objects.filter(operation=operation).exclude(outcome=Activity.INFO).update(
            message=words, detail=detail
        )
    logger.info("restore %s of site %s %s: %s", operation.pk, operation.site_id, state, run.counts)


def _failed(
    operation: Operation, run: RestoreRun, hold: _Hold, error: Exception, *, transient: bool
) -> None:
    now = timezone.now()
    message = snapshot_message(error)
    attempts = Operation.objects.filter(pk=operation.pk).values_list("attempts", flat=True).first()
    if transient and (attempts or 0) < settings.WBM_SNAPSHOT_MAX_ATTEMPTS:
        logger.info("restore %s: transient failure, retrying: %s", operation.pk, error)
        retried = Operation.objects.filter(
            pk=operation.pk, state=Operation.State.QUEUED, claimed_until=hold.until
        ).update(claimed_until=None, error=message, due_at=now + backoff(attempts or 1, error))
        if retried:
            site_touch(operation.site_id)
        return
    if transient:
        message = f"Gave up after {attempts} attempts in a row: {message}"
    run.refresh_from_db()
    left = remaining(run)
    if left:
        message += f" {left}"
    _finish(operation, run, hold, Operation.State.FAILED, message)
