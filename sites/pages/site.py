"""A site's page: its summary, what runs, its backups, restorations and activity."""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, NamedTuple

import django
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from .. import cache, rules
from ..models import Activity, Backup, Operation, Restoration, Site, Snapshot
from .live import (
    Announcement,
    Live,
    encode_watch,
    finished_operations,
    parse_watch,
    refreshing,
    site_version_text,
)
from .schedules import ScheduleRow, schedule_rows
from .snapshots import SnapshotSection, read_snapshots, snapshot_section
from .state import STATE_KEPT_SECONDS, site_attention, site_states, state_key

# The watched statuses that keep an open page polling (a backup's, a restoration's).
_NOT_FINAL = frozenset((Backup.PENDING, *Restoration.RUNNING))

BACKUPS_SHOWN = 25
RESTORATIONS_SHOWN = 10
ACTIVITY_SHOWN = 20


@dataclass
class BackupRow:
    """A backup with what its row offers (rules.backup_actions)."""

    backup: "BackupView"
    actions: rules.BackupActions

    @property
    def can_restore(self) -> bool:
        return self.actions.can_restore

    @property
    def can_delete(self) -> bool:
        return self.actions.can_delete

    @property
    def restore_blocked(self) -> str | None:
        return self.actions.restore_refusal

    @property
    def delete_blocked(self) -> str | None:
        return self.actions.delete_refusal

    @property
    def same_reason(self) -> str | None:
        return self.actions.same_reason


@dataclass
class RestorationRow:
    restoration: "RestorationView"
    backup: "BackupView | None"


@dataclass
class SiteTables:
    """The backups, restorations and activity of a site's page.

    All of it moves `Site.version` when it changes, so a poll of an unchanged page skips it.
    """

    backups: list[BackupRow]
    restorations: list[RestorationRow]
    activity: list["ActivityView"]


@dataclass
class SitePage:
    site: Site
    running: list[Operation]
    work: rules.InFlight
    attention: list[rules.Attention]
    refreshing: bool
    refresh_since: float | None
    live: Live
    # The Schedules section (pages/schedules.py), from the kept state.
    schedules: list[ScheduleRow] = field(default_factory=list)

    @property
    def slots(self) -> int:
        return rules.slot_count()

    @property
    def activity_kinds(self) -> list[tuple[str, str]]:
        """The activity log's filter (the whole log is the activity page's)."""
        return Activity.KINDS

    # The rows as fetched from the cache with the state (None: not kept, or not asked).
    kept_rows: object = None

    @cached_property
    def rows(self) -> "TableRows":
        """Read only when drawn: a poll answered 204 never reads them."""
        return table_rows(self.site, self.kept_rows)

    @cached_property
    def next_backup(self) -> rules.NextBackup:
        """What one more backup makes go (Wix's eviction or the rotation's delete), or why none
        can be made now; from the kept rows and what runs (no query)."""
        return rules.next_backup_plan(self.rows.slots, self.work)

    @property
    def evicted(self) -> "BackupView | None":
        """The backup that goes if one more is made (rules.next_backup_plan)."""
        return self.next_backup.goes

    @cached_property
    def tables(self) -> SiteTables:
        return site_tables(rows=self.rows, work=self.work)

    @cached_property
    def snapshots(self) -> SnapshotSection:
        """Kept with the rows: a kept view reads no snapshot (and a poll answered 204 none)."""
        return snapshot_section(self.site, self.rows.snapshots)


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


# Part of every key: a release that changes what the rows hold never reads those kept by another.
_ROWS_FORMAT = hashlib.blake2b(
    repr(
        (
            django.__version__,
            (_BACKUP_FIELDS, _RESTORATION_FIELDS, _ACTIVITY_FIELDS),
            # The snapshots are kept as model rows (with their backup and verify operation).
            [[f.attname for f in m._meta.concrete_fields] for m in (Snapshot, Backup, Operation)],
            (BACKUPS_SHOWN, RESTORATIONS_SHOWN, ACTIVITY_SHOWN),
        )
    ).encode(),
    digest_size=4,
).hexdigest()


def _read_rows(site: Site) -> TableRows:
    """The newest rows of a site's three tables, in a fixed number of queries."""
    backups = rules.with_pins(site.backups.all()).values_list(*_BACKUP_FIELDS)[:BACKUPS_SHOWN]
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
    slots = rules.with_pins(site.backups.holding_slot()).order_by("requested_at", "wix_id")
    return TableRows(
        backups=tuple(BackupView(*values) for values in backups),
        restorations=tuple(_restoration_row(values) for values in restorations),
        activity=tuple(ActivityView(*values) for values in activity),
        slots=tuple(BackupView(*values) for values in slots.values_list(*_BACKUP_FIELDS)),
        snapshots=read_snapshots(site),
    )


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


def _rows_key(site: Site) -> str:
    return f"wbm:site-rows:{_ROWS_FORMAT}:{site.pk}:{site.version}"


def table_rows(site: Site, kept: object = None) -> TableRows:
    """The site's rows at its version: `kept` (fetched with the state), from the cache, or read
    (then kept)."""
    key = _rows_key(site)
    found = kept if kept is not None else cache.get_many([key]).get(key)
    if isinstance(found, TableRows):
        return found
    rows = _read_rows(site)
    cache.set_many({key: rows}, STATE_KEPT_SECONDS)
    return rows


def site_tables(*, rows: TableRows, work: rules.InFlight) -> SiteTables:
    """The tables with what each backup offers now (rules.backup_actions)."""
    pins_used = sum(1 for b in rows.slots if b.pinned)
    return SiteTables(
        backups=[
            BackupRow(b, rules.backup_actions(b, work, pins_used=pins_used)) for b in rows.backups
        ],
        restorations=list(rows.restorations),
        activity=list(rows.activity),
    )


def site_page(*, site: Site, watched: str = "", refresh_since: float | None = None) -> SitePage:
    """What a site's page shows around its tables."""
    now = timezone.now()
    # The state and the rows in one round trip to the cache: the page draws both.
    rows_key = _rows_key(site)
    found = cache.get_many([state_key(site), rows_key])
    state = site_states([site], found)[0]
    work = state.in_flight()
    running = list(work.operations)
    waiting = refreshing(site.last_synced_at, refresh_since, now.timestamp())
    states = {f"o.{op.pk}": op.state for op in running} | state.watch
    in_flight = waiting or any(
        key.startswith("o.") or status in _NOT_FINAL for key, status in states.items()
    )
    live = Live(
        site_version_text(site.version, waiting),
        encode_watch(states),
        in_flight,
        _site_announcements(site, parse_watch(watched)),
    )
    return SitePage(
        site=site,
        running=running,
        work=work,
        attention=site_attention(site, now),
        refreshing=waiting,
        refresh_since=refresh_since if waiting else None,
        live=live,
        kept_rows=found.get(rows_key),
        schedules=schedule_rows(state, now),
    )


def _site_announcements(site: Site, previous: dict[str, str]) -> list[Announcement]:
    """What changed since the poll's watch list, read for the watched items only."""
    if not previous:
        return []
    wanted = {"b": [], "r": []}
    for key in previous:
        kind, ident = key.split(".", 1)
        if kind in wanted:
            wanted[kind].append(ident)
    backups = (
        {b.wix_id: b for b in site.backups.filter(wix_id__in=wanted["b"])} if wanted["b"] else {}
    )
    by_restoration = (
        {r.wix_id: r for r in site.restorations.filter(wix_id__in=wanted["r"])}
        if wanted["r"]
        else {}
    )
    finished = finished_operations([site.pk], previous)
    found = []
    for key, status in previous.items():
        kind, ident = key.split(".", 1)
        if kind == "b" and ident in backups and backups[ident].status != status:
            found.append(Announcement("backup", backups[ident], backups[ident].status))
        elif kind == "r" and ident in by_restoration:
            restoration = by_restoration[ident]
            if restoration.status != status:
                found.append(
                    Announcement("restoration", restoration, restoration.status, site=site)
                )
        elif kind == "o" and ident in finished and finished[ident].state == Operation.State.FAILED:
            # Successes show as the backup's or restoration's new status; failures of a request
            # Wix never saw (no backup row to change) would otherwise go unannounced.
            found.append(Announcement("operation", finished[ident], Operation.State.FAILED))
    return found
