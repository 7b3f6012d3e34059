"""Retention: the site's rules applied to its complete snapshots (after each snapshot, after a
change of rules, and hourly from the beat), then the objects no remaining snapshot names are
collected. On the snapshot queue, holding the site's snapshot storage (`claim_site_store`), so
it never runs while a snapshot of the same site is being written.

Order matters (docs/snapshots.md, "Retention"): each pruned snapshot's manifest is deleted, then
its row, and only then are objects collected, keeping every object any remaining row names (a
row still RUNNING or FAILED included: its manifest or checkpoint may exist).
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from .. import rules
from ..models import Activity, Operation, Site, Snapshot
from ..snapshots import StorageError, collect_garbage, delete_snapshot
from .snapshot_run import claim_site_store, release_site_store
from .snapshot_store import site_store
from .states import site_touch

logger = logging.getLogger(__name__)

# Objects written this recently are never collected, whatever names them: a snapshot committed
# while its row was still being written, or objects put just before a crash.
GC_GRACE = timedelta(hours=1)


# Why a preview's live reading or a safety snapshot went (rules.kept_apart), in the activity log.
_APART_GONE = {
    Snapshot.TakenFor.PREVIEW: "it was the live reading of a restore preview, no longer needed",
    Snapshot.TakenFor.READING: "it was read after a Wix restore, whose changes are counted",
    Snapshot.TakenFor.SAFETY: (
        f"it was the safety snapshot of a restore that ended over {rules.SAFETY_KEPT.days} days "
        "ago (Undo no longer offered)"
    ),
}


@dataclass(frozen=True)
class PruneResult:
    # Storage ids of the snapshots removed.
    removed: tuple[str, ...] = ()
    objects_deleted: int = 0
    bytes_deleted: int = 0
    # False when the site's storage was held (a snapshot being taken): nothing was done.
    ran: bool = True


def snapshots_prune(*, site_id: Any, now: datetime | None = None) -> PruneResult:
    """Apply the site's retention rules now, unless a snapshot of the site is being written (the
    prune after that snapshot applies them). Pinned snapshots are never removed, nor one being
    verified. A storage failure stops the prune where it was; the next one goes on. `now`: the
    clock, which a test moves past the garbage collector's grace."""
    # The hold is taken on the real clock whatever `now` says: a moved clock must not make a
    # running snapshot's hold look expired.
    until = claim_site_store(site_id, timezone.now())
    now = now or timezone.now()
    if until is None:
        return PruneResult(ran=False)
    try:
        site = Site.objects.filter(pk=site_id).first()
        if site is None:
            return PruneResult()
        return _prune(site, now)
    except StorageError as error:
        logger.warning("pruning the snapshots of site %s stopped: %s", site_id, error)
        return PruneResult()
    finally:
        release_site_store(site_id, until)


def _prune(site: Site, now: datetime) -> PruneResult:
    preview = rules.retention_preview(site, now=now)
    verifying = set(
        Snapshot.objects.filter(
            site=site, verify_operation__state__in=Operation.RUNNING
        ).values_list("pk", flat=True)
    )
    store = site_store(site.pk)
    removed = []
    gone = [(s, "it was kept by none of the site's retention rules") for s in preview.pruned]
    gone += [(s, _APART_GONE[s.taken_for]) for s in preview.apart_pruned]
    for snapshot, why in gone:
        if snapshot.pk in verifying:
            continue  # next time, once its verify has read what it needs
        delete_snapshot(store, snapshot.storage_id)
        snapshot.delete()
        removed.append(snapshot.storage_id)
        Activity.objects.create(
            site=site,
            outcome=Activity.INFO,
            message="Retention removed the snapshot",
            backup_at=snapshot.started_at,
            detail=why,
        )
    if removed:
        site_touch(site.pk)
    kept = Snapshot.objects.filter(site=site).values_list("storage_id", flat=True)
    try:
        report = collect_garbage(store, list(kept), cutoff=now - GC_GRACE)
    except ValueError as error:
        # A manifest in storage that no row knows of (a row removed by hand): never collect
        # its objects on a guess; say so in the log for the operator.
        logger.warning("site %s: garbage not collected: %s", site.pk, error)
        return PruneResult(removed=tuple(removed))
    if removed or report.deleted:
        logger.info(
            "site %s: pruned %d snapshots, collected %d objects (%d bytes)",
            site.pk,
            len(removed),
            report.deleted,
            report.deleted_bytes,
        )
    return PruneResult(tuple(removed), report.deleted, report.deleted_bytes)


def sites_with_snapshots() -> list[str]:
    """The sites that have complete snapshots: those the periodic prune looks at."""
    return [
        str(pk)
        for pk in Site.objects.filter(snapshots__state=Snapshot.State.COMPLETE)
        .values_list("pk", flat=True)
        .distinct()
    ]
