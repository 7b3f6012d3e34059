"""The rows of a site's page at one version: its backups (each with the snapshot taken with
it), restorations, activity, snapshots and the backup Wix would evict next.

Data that does not depend on who looks (what each row offers is decided per request, from the
rules), so it is kept in the shared cache per version like the site's state. With nothing kept,
the state and the rows are read in one round trip (pages/batch.py).
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import django
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from .. import cache, rules
from ..batch import fetch_prepared
from ..models import Backup, Operation, RestoreRun, Site, Snapshot
from .restores import restores_queryset
from .snapshots import snapshot_rows_read, snapshots_queryset
from .state import (
    STATE_KEPT_SECONDS,
    STATE_QUERIES,
    SiteState,
    state_querysets,
    states_from_rows,
)

# The site's page shows the newest backups (Wix keeps at most 3 on-demand and 4 automatic ones
# at a time; the rest are its history) and links to all of them (pages/backups.py).
BACKUPS_SHOWN = 10
RESTORATIONS_SHOWN = 10
ACTIVITY_SHOWN = 20


@dataclass
class RestorationRow:
    restoration: "RestorationView"
    backup: "BackupView | None"


class BackupView(NamedTuple):
    """What a backup's row draws, and what the rules read of it (status, wix_id): kept per
    version as plain tuples, which the cache gives back several times faster than model rows
    (or dataclasses)."""

    wix_id: str
    status: str
    type: str
    requested_at: datetime
    finished_at: datetime | None = None
    size_in_bytes: int | None = None
    collections: list[Any] | None = None
    pinned: bool = False  # "keep this one" (rules.with_pins)


class RestorationView(NamedTuple):
    wix_id: str
    status: str
    requested_at: datetime
    finished_at: datetime | None
    restoration_collections: list[Any]
    backup_wix_id: str


class ActivityView(NamedTuple):
    created_at: datetime
    actor_name: str | None
    message: str
    backup_at: datetime | None
    detail: str
    outcome: str
    operation_id: Any
    via: str = ""  # who asked when no person did: "schedule"


class BackupSnapshotView(NamedTuple):
    """The snapshot a backup's row shows: taken with its Back up now (linked to the backup once
    Wix made it, to the request before)."""

    backup_wix_id: str
    id: Any
    state: str
    item_count: int | None
    collection_count: int | None
    progress_collection: str
    progress_items: int
    progress_total: int | None

    @property
    def progress(self) -> str:
        if not self.progress_collection:
            return "Starting…"
        total = f" of {self.progress_total:,}" if self.progress_total is not None else ""
        return f"{self.progress_collection}: {self.progress_items:,}{total} items"

    @property
    def holds(self) -> str:
        items = self.item_count or 0
        return f"{items:,} item{'s' if items != 1 else ''}"


_BACKUP_FIELDS = BackupView._fields
_RESTORATION_FIELDS = RestorationView._fields
_ACTIVITY_FIELDS = ActivityView._fields


@dataclass(frozen=True)
class TableRows:
    """The rows of a site's tables at one version: data that does not depend on who looks (what
    each row offers is decided per request, from the rules), so it is kept like the site's state.
    """

    backups: tuple[BackupView, ...]
    restorations: tuple[RestorationRow, ...]
    activity: tuple[ActivityView, ...]
    # The backups that hold a slot, oldest first, with their pins (rules.next_backup_plan).
    slots: tuple[BackupView, ...]
    snapshots: tuple[list[Snapshot], int] = ([], 0)
    # The snapshot of each backup shown that has one, by the backup's Wix id.
    backup_snapshots: dict[str, BackupSnapshotView] | None = None
    # Restores from snapshots and undos (pages/restores.py).
    restores: tuple[RestoreRun, ...] = ()
    # More backups than shown: the table links to all of them.
    more_backups: bool = False


# Part of every key: a release that changes what the rows hold never reads those kept by another.
_ROWS_FORMAT = hashlib.blake2b(
    repr(
        (
            django.__version__,
            (_BACKUP_FIELDS, _RESTORATION_FIELDS, _ACTIVITY_FIELDS, BackupSnapshotView._fields),
            # The snapshots are kept as model rows (with their backup and verify operation).
            [
                [f.attname for f in m._meta.concrete_fields]
                for m in (Snapshot, Backup, Operation, RestoreRun)
            ],
            (BACKUPS_SHOWN, RESTORATIONS_SHOWN, ACTIVITY_SHOWN),
        )
    ).encode(),
    digest_size=4,
).hexdigest()


def rows_querysets(site: Site) -> list[QuerySet]:
    """The queries of a site's three tables and of the backup a new one evicts (none depends
    on another's answer: a first view sends them with the state's, pages/batch.py)."""
    # One more than shown: whether to link to all of them.
    backups = rules.with_pins(site.backups.all()).values_list(*_BACKUP_FIELDS)[: BACKUPS_SHOWN + 1]
    # What a restoration's row says of its backup (its type and when), read with it: the backup
    # may be far down the list, or gone from it.
    source = Backup.objects.filter(site=OuterRef("site"), wix_id=OuterRef("backup_wix_id"))
    restorations = site.restorations.annotate(
        source_type=Subquery(source.values("type")[:1]),
        source_requested_at=Subquery(source.values("requested_at")[:1]),
        # Its collections' display names: the row names what was restored as the backup does.
        source_collections=Subquery(source.values("collections")[:1]),
    ).values_list(*_RESTORATION_FIELDS, "source_type", "source_requested_at", "source_collections")[
        :RESTORATIONS_SHOWN
    ]
    # The actor's name only: no user row (password hash included) ever goes into the cache.
    activity = site.activities.annotate(actor_name=F("actor__username")).values_list(
        *_ACTIVITY_FIELDS
    )[:ACTIVITY_SHOWN]
    # The backups holding a slot, oldest first, with their pins: what one more backup makes go
    # (rules.next_backup_plan: Wix's eviction, or the rotation's delete of an unpinned one).
    holding = rules.holding_slots(site).values_list(*_BACKUP_FIELDS)
    shown = site.backups.all()  # in the table's order
    backup_snapshots = backup_snapshots_queryset(
        site,
        Subquery(shown.values("pk")[:BACKUPS_SHOWN]),
        Subquery(shown.values("wix_id")[:BACKUPS_SHOWN]),
    )
    return [backups, restorations, activity, holding, backup_snapshots]


def backup_snapshots_queryset(site: Site, pks: Any, wix_ids: Any) -> QuerySet:
    """The snapshots taken with the backups `pks` (or of Wix ids `wix_ids`), so each shows as
    one row with its backup: by the backup once linked (engine/states.py), by the Back up now
    that made it before. Oldest first: a backup with two (a retry) shows its newest."""
    return (
        site.snapshots.filter(
            Q(backup__in=pks) | Q(backup__isnull=True, backup_operation__backup_wix_id__in=wix_ids)
        )
        .annotate(backup_wix=Coalesce("backup__wix_id", "backup_operation__backup_wix_id"))
        .order_by("started_at", "id")
        .values_list("backup_wix", *BackupSnapshotView._fields[1:])
    )


def backup_snapshot_views(rows: list[tuple[Any, ...]]) -> dict[str, BackupSnapshotView]:
    """`backup_snapshots_queryset`'s rows by backup (the newest of a backup wins)."""
    return {row[0]: BackupSnapshotView(*row) for row in rows}


def _models_querysets(site: Site) -> list[QuerySet]:
    """The rows kept as models: the snapshots section's and the restores from snapshots'."""
    return [snapshots_queryset(site), restores_queryset(site)]


def _rows_from(results: list[list[tuple[Any, ...]]], models: list[list[Any]]) -> TableRows:
    snapshots, restores = models
    backups, restorations, activity, holding, backup_snapshots = results
    return TableRows(
        backups=tuple(BackupView(*values) for values in backups[:BACKUPS_SHOWN]),
        more_backups=len(backups) > BACKUPS_SHOWN,
        restorations=tuple(_restoration_row(values) for values in restorations),
        activity=tuple(ActivityView(*values) for values in activity),
        slots=tuple(BackupView(*values) for values in holding),
        snapshots=snapshot_rows_read(snapshots),
        backup_snapshots=backup_snapshot_views(backup_snapshots),
        restores=tuple(restores),
    )


def _read_rows(site: Site) -> TableRows:
    """The newest rows of a site's three tables, in one round trip."""
    results, models = fetch_prepared(
        ("site-rows", rules.slot_count()),
        [site.pk],
        lambda: rows_querysets(site),
        lambda: _models_querysets(site),
    )
    return _rows_from(results, models)


def _restoration_row(values: tuple[Any, ...]) -> RestorationRow:
    *own, source_type, source_requested_at, source_collections = values
    restoration = RestorationView(*own)
    # No source when the backup is no longer listed.
    source = (
        BackupView(
            restoration.backup_wix_id,
            "",
            source_type,
            source_requested_at,
            collections=source_collections,
        )
        if source_type is not None
        else None
    )
    return RestorationRow(restoration, source)


def rows_key(site: Site) -> str:
    return f"wbm:site-rows:{_ROWS_FORMAT}:{site.pk}:{site.version}"


def read_state_and_rows(site: Site) -> tuple[SiteState, TableRows]:
    results, models = fetch_prepared(
        ("site-state-and-rows", rules.slot_count()),
        [site.pk],
        lambda: [*state_querysets([site.pk]), *rows_querysets(site)],
        lambda: _models_querysets(site),
    )
    split = STATE_QUERIES
    state = states_from_rows([site.pk], results[:split])[site.pk]
    return state, _rows_from(results[split:], models)


def table_rows(site: Site, kept: object = None) -> TableRows:
    """The site's rows at its version: `kept` (fetched with the state), from the cache, or read
    (then kept)."""
    key = rows_key(site)
    found = kept if kept is not None else cache.get_many([key]).get(key)
    if isinstance(found, TableRows):
        return found
    rows = _read_rows(site)
    cache.set_many({key: rows}, STATE_KEPT_SECONDS)
    return rows
