"""The snapshots section of a site's page, and its snapshot settings page (docs/snapshots.md).

Read in one query whatever the number of snapshots: the newest SNAPSHOTS_SHOWN rows, with the
Wix backup each goes with, its verify's state and the count of all of them (a window over the
same query). What each row offers is decided here from `rules.snapshot_actions`, so the page
and the views refuse for the same reasons.
"""

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery, Window

from .. import rules
from ..models import Operation, Preview, RestoreRun, Site, Snapshot

SNAPSHOTS_SHOWN = 10


@dataclass(frozen=True)
class SnapshotRow:
    snapshot: Snapshot
    actions: rules.SnapshotActions

    @property
    def running(self) -> bool:
        return self.snapshot.state == Snapshot.State.RUNNING

    @property
    def verifying(self) -> bool:
        op = self.snapshot.verify_operation
        return op is not None and op.state in Operation.RUNNING

    @property
    def kept_apart(self) -> str:
        """A preview's live reading or a safety snapshot: not one of the owner's copies, kept by a
        rule of its own (words; "" for the owner's)."""
        return rules.kept_apart_words(self.snapshot)

    @property
    def progress(self) -> str:
        """While it runs: "Products: 12,000 of 40,000 items" (the page read last)."""
        s = self.snapshot
        if not s.progress_collection:
            return "Starting…"
        total = f" of {s.progress_total:,}" if s.progress_total is not None else ""
        return f"{s.progress_collection}: {s.progress_items:,}{total} items"

    @property
    def collections_progress(self) -> str:
        s = self.snapshot
        if s.collections_total is None:
            return ""
        return f"{s.collections_done} of {s.collections_total} collections done"

    @property
    def holds(self) -> str:
        """Once complete: "436 items in 3 collections"."""
        s = self.snapshot
        items, collections = s.item_count or 0, s.collection_count or 0
        return (
            f"{items:,} item{'s' if items != 1 else ''} in "
            f"{collections:,} collection{'s' if collections != 1 else ''}"
        )

    @property
    def csv_collections(self) -> list[str]:
        """The collections whose CSV can be downloaded alone (a complete snapshot's)."""
        if self.actions.download_refusal:
            return []
        return [c["id"] for c in self.snapshot.collections if c.get("id")]


@dataclass(frozen=True)
class SnapshotSection:
    rows: list[SnapshotRow]
    total: int
    with_backup: bool
    retention: rules.RetentionRules

    @property
    def safety_days(self) -> int:
        return rules.SAFETY_KEPT.days

    @property
    def more(self) -> int:
        """How many older snapshots the section does not list."""
        return max(self.total - len(self.rows), 0)


def snapshots_queryset(site: Site, limit: int = SNAPSHOTS_SHOWN) -> QuerySet[Snapshot]:
    """The site's newest snapshots (newest first), each with how many the site has: one query."""
    # A safety snapshot names the restore it was taken before (engine/restore_safety.py).
    safety_for = RestoreRun.objects.filter(safety=OuterRef("pk")).order_by("id")
    return (
        site.snapshots.select_related("backup", "verify_operation")
        .annotate(
            total=Window(expression=Count("id")),
            # Taken to read the live data for a restore preview: the owner is told so.
            for_preview=Exists(
                Preview.objects.filter(live=OuterRef("pk"), live_taken_for_preview=True)
            ),
            restore_guarded=Subquery(safety_for.values("operation_id")[:1]),
        )
        .order_by("-started_at", "-id")[:limit]
    )


def snapshot_rows_read(found: list[Snapshot]) -> tuple[list[Snapshot], int]:
    """What `snapshots_queryset` read, as kept with the site's rows per version (pages/site.py:
    every change to a snapshot moves the version)."""
    return found, found[0].total if found else 0


def read_snapshots(site: Site, limit: int = SNAPSHOTS_SHOWN) -> tuple[list[Snapshot], int]:
    """The site's newest snapshots (newest first) and how many it has, in one query."""
    return snapshot_rows_read(list(snapshots_queryset(site, limit)))


def snapshot_rows(
    site: Site, kept: tuple[list[Snapshot], int] | None = None
) -> tuple[list[SnapshotRow], int]:
    """The rows with what each offers now (decided per request, like the backups' actions)."""
    found, total = kept if kept is not None else read_snapshots(site)
    rows = []
    for snapshot in found:
        op = snapshot.verify_operation
        verifying = op is not None and op.state in Operation.RUNNING
        rows.append(SnapshotRow(snapshot, rules.snapshot_actions(snapshot, verifying=verifying)))
    return rows, total


def snapshot_section(site: Site, kept: tuple[list[Snapshot], int] | None = None) -> SnapshotSection:
    """What the site's page shows of its snapshots (`kept`: as read with the site's rows)."""
    rows, total = snapshot_rows(site, kept)
    return SnapshotSection(
        rows=rows,
        total=total,
        with_backup=site.snapshot_with_backup,
        retention=rules.retention_rules(site),
    )
