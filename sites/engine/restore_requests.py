"""What owners ask of restores from snapshots: restore one (whole collections, merge, chosen
items) and "Undo this restore". Validated and recorded in one transaction under the site's row
lock, with the safety snapshot the restore waits for (restore_safety.py); the work runs on the
snapshot queue (restore_run.py).
"""

from collections.abc import Iterable, Mapping
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from .. import rules
from ..models import Activity, Operation, Site, Snapshot
from ..restore_models import RestoreRun
from .dispatch import enqueue_snapshot_operation
from .errors import OperationRefused
from .requests import wix_safety_backup_record
from .restore_safety import record_safety
from .states import site_touch
from .words import restore_words

GRACE = timedelta(seconds=10)
# At most this many items in one chosen-items restore (a form's worth; a larger choice is a
# whole or merge restore).
MAX_CHOSEN = 10_000
MAX_ID = 256


def _clean(
    snapshot: Snapshot,
    mode: str,
    collections: Iterable[str] | None,
    items: Mapping[str, Iterable[str]] | None,
) -> tuple[list[str], dict[str, list[str]]]:
    """The collections (sorted) and chosen items of a request; OperationRefused for bad input."""
    if mode not in RestoreRun.SNAPSHOT_MODES:
        raise OperationRefused("Choose how to restore: whole collections, merge or chosen items.")
    held = {c["id"] for c in snapshot.collections}
    chosen: dict[str, list[str]] = {}
    if mode == RestoreRun.Mode.ITEMS:
        for collection, ids in (items or {}).items():
            clean = [i for i in ids if isinstance(i, str) and 0 < len(i) <= MAX_ID]
            if len(clean) != len(list(ids)):
                raise OperationRefused("An item id is empty or too long.")
            if clean:
                chosen[collection] = sorted(set(clean))
        if not chosen:
            raise OperationRefused("Choose at least one item to restore.")
        if sum(len(ids) for ids in chosen.values()) > MAX_CHOSEN:
            raise OperationRefused(f"Choose at most {MAX_CHOSEN:,} items at once.")
        wanted = list(chosen)
    else:
        wanted = list(collections or [])
    if not wanted:
        raise OperationRefused("Choose at least one collection to restore.")
    if len(set(wanted)) != len(wanted):
        raise OperationRefused("A collection was chosen twice.")
    unknown = [c for c in wanted if c not in held]
    if unknown:
        raise OperationRefused(f"The snapshot has no collection named {str(unknown[0])[:100]}.")
    return sorted(wanted), chosen


def snapshot_restore_request(
    *,
    site: Site,
    snapshot: Snapshot,
    mode: str,
    collections: Iterable[str] | None = None,
    items: Mapping[str, Iterable[str]] | None = None,
    user: AbstractBaseUser | None = None,
    wix_backup: bool = False,
) -> Operation:
    """Restore collections (or chosen items) of one of the site's snapshots into the site.

    A repeat of a running request returns it; bad input raises OperationRefused and records
    nothing; a refusal of the rules (another restore running) is logged and raised.
    `wix_backup`: "Also take a Wix backup first" (`requests.wix_safety_backup_record`)."""
    if snapshot.site_id != site.pk:
        raise OperationRefused("This snapshot is not one of the site's.")
    wanted, chosen = _clean(snapshot, mode, collections, items)
    return _record(site, snapshot, mode, wanted, chosen, user, undo_of=None, wix_backup=wix_backup)


def restore_undo_request(
    *, operation: Operation, user: AbstractBaseUser | None = None
) -> Operation:
    """ "Undo this restore": restore the restore's safety snapshot, whole, over the collections
    it wrote to. Refused (with why) when `rules.undo_refusal` says so."""
    with transaction.atomic():
        site = Site.objects.select_for_update().get(pk=operation.site_id)
        fresh = Operation.objects.get(pk=operation.pk)
        run = RestoreRun.objects.select_related("safety").filter(operation=fresh).first()
        undone = rules.undo_of(fresh)
        state = undone.state if undone is not None else None
        reason = rules.undo_refusal(fresh, run, rules.in_flight(site), state)
        if reason or run is None or run.safety is None:
            raise OperationRefused(reason)
        backup = site.backups.filter(wix_id=fresh.backup_wix_id).first()
        wanted = rules.undo_collections(fresh, run, backup)
        if not wanted:
            raise OperationRefused("Its safety snapshot holds none of the collections it wrote.")
        return _record(site, run.safety, RestoreRun.Mode.WHOLE, wanted, {}, user, undo_of=fresh)


class _RefusedByRules(OperationRefused):
    def __init__(self, reason: str, words: str) -> None:
        super().__init__(reason)
        self.words = words


def _record(
    site: Site,
    snapshot: Snapshot,
    mode: str,
    wanted: list[str],
    chosen: dict[str, list[str]],
    user: AbstractBaseUser | None,
    *,
    undo_of: Operation | None,
    wix_backup: bool = False,
) -> Operation:
    try:
        return _record_locked(
            site, snapshot, mode, wanted, chosen, user, undo_of=undo_of, wix_backup=wix_backup
        )
    except _RefusedByRules as refused:
        # Logged outside the request's transaction, which the refusal rolled back.
        Activity.objects.create(
            site=site,
            actor=user,
            outcome=Activity.FAILED,
            message=f"{refused.words} (refused)",
            kind=Activity.RESTORE,
            backup_at=snapshot.started_at,
            detail=str(refused),
        )
        site_touch(site.pk)
        raise


def _record_locked(
    site: Site,
    snapshot: Snapshot,
    mode: str,
    wanted: list[str],
    chosen: dict[str, list[str]],
    user: AbstractBaseUser | None,
    *,
    undo_of: Operation | None,
    wix_backup: bool = False,
) -> Operation:
    kind = Operation.Kind.RESTORE_SNAPSHOT
    described = [{"dataCollectionId": c} for c in wanted]
    words = restore_words(described, undo=undo_of is not None)
    with transaction.atomic():
        locked = Site.objects.select_for_update().get(pk=site.pk)
        for running in locked.operations.filter(kind=kind, state__in=Operation.RUNNING):
            same = RestoreRun.objects.filter(
                operation=running, source=snapshot, mode=mode, collections=wanted, items=chosen
            )
            if same.exists():
                return running  # a double click
        fresh = Snapshot.objects.filter(pk=snapshot.pk).first()
        reason = (
            rules.snapshot_restore_refusal(fresh, mode, wanted)
            if fresh is not None
            else "This snapshot no longer exists."
        )
        if reason:
            raise OperationRefused(reason)
        if rules.restore_running(rules.in_flight(locked)):
            raise _RefusedByRules(
                "A restore of this site is already running; wait for it to end.", words
            )
        operation = Operation.objects.create(
            site=locked,
            kind=kind,
            requested_by=user,
            collections=described,
            due_at=timezone.now() + GRACE,
        )
        Activity.objects.create(
            site=locked,
            actor=user,
            operation=operation,
            outcome=Activity.REQUESTED,
            message=words,
            backup_at=snapshot.started_at,
        )
        record_safety(
            site=locked,
            user=user,
            operation=operation,
            mode=mode,
            source=snapshot,
            collections=wanted,
            items=chosen,
            undo_of=undo_of,
        )
        if wix_backup:
            wix_safety_backup_record(locked, operation, fresh, user)
        site_touch(locked.pk)
        transaction.on_commit(lambda: enqueue_snapshot_operation(operation.pk))
    return operation
