"""A site's page: its summary, what runs, its backups, restorations and activity."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from django.utils import timezone

from .. import cache, clock, rules
from ..models import Activity, Backup, Operation, Restoration, Site
from .live import (
    Announcement,
    Live,
    encode_watch,
    finished_operations,
    parse_watch,
    refreshing,
    site_version_text,
)
from .restores import RestoreRow, restore_rows
from .rows import (
    ActivityView,
    BackupSnapshotView,
    BackupView,
    RestorationRow,
    TableRows,
    read_state_and_rows,
    rows_key,
    table_rows,
)
from .schedules import ScheduleRow, schedule_rows
from .snapshots import (
    SnapshotSection,
    snapshot_section,
)
from .state import (
    STATE_KEPT_SECONDS,
    SiteState,
    site_attention,
    site_states,
    state_key,
)

# The watched statuses that keep an open page polling (a backup's, a restoration's).
_NOT_FINAL = frozenset((Backup.PENDING, *Restoration.RUNNING))


@dataclass
class BackupRow:
    """A backup with what its row offers (rules.backup_actions)."""

    backup: "BackupView"
    actions: rules.BackupActions
    # The snapshot taken with it (Back up now with the site's setting on): one row for both.
    snapshot: "BackupSnapshotView | None" = None

    @property
    def snapshot_refusal(self) -> str:
        """Why its snapshot cannot be downloaded ("" when it can), as the Snapshots table says."""
        return rules.snapshot_use_refusal(self.snapshot) if self.snapshot is not None else ""

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
class SiteTables:
    """The backups, restorations and activity of a site's page.

    All of it moves `Site.version` when it changes, so a poll of an unchanged page skips it.
    """

    backups: list[BackupRow]
    restorations: list[RestorationRow]
    activity: list["ActivityView"]
    # Restores from snapshots and undos, with their Undo now (pages/restores.py).
    restores: list[RestoreRow] = field(default_factory=list)
    # More backups than shown (the table links to all of them).
    more_backups: bool = False


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
    def sync_problem(self) -> str:
        """The last sync's failure while it is retried and no incident says it yet (under an
        hour): a status, not something needing attention (that is the incidents)."""
        if self.site.credentials_rejected or any(a.kind == "unreachable" for a in self.attention):
            return ""
        return self.site.last_sync_error

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


def backup_rows(
    backups: Iterable[BackupView],
    *,
    work: rules.InFlight,
    slots: Iterable[BackupView],
    snapshots: dict[str, BackupSnapshotView] | None,
) -> list[BackupRow]:
    """Each backup with what its row offers now (rules.backup_actions) and its snapshot.
    `slots`: the site's slot-holding backups (how many are pinned)."""
    snapshots = snapshots or {}
    pins_used = sum(1 for b in slots if b.pinned)
    return [
        BackupRow(b, rules.backup_actions(b, work, pins_used=pins_used), snapshots.get(b.wix_id))
        for b in backups
    ]


def site_tables(*, rows: TableRows, work: rules.InFlight) -> SiteTables:
    """The tables with what each backup offers now (rules.backup_actions)."""
    return SiteTables(
        backups=backup_rows(
            rows.backups, work=work, slots=rows.slots, snapshots=rows.backup_snapshots
        ),
        more_backups=rows.more_backups,
        restorations=list(rows.restorations),
        activity=list(rows.activity),
        restores=restore_rows(list(rows.restores), work),
    )


def site_page(*, site: Site, watched: str = "", refresh_since: float | None = None) -> SitePage:
    """What a site's page shows around its tables."""
    now = timezone.now()
    # The state and the rows in one round trip to the cache: the page draws both.
    kept_key, site_state_key = rows_key(site), state_key(site)
    found = cache.get_many([site_state_key, kept_key])
    if not isinstance(found.get(site_state_key), SiteState) and not isinstance(
        found.get(kept_key), TableRows
    ):
        # The first view after a change: the state and the rows read in one round trip.
        found[site_state_key], found[kept_key] = read_state_and_rows(site)
        cache.set_many(
            {site_state_key: found[site_state_key], kept_key: found[kept_key]},
            STATE_KEPT_SECONDS,
        )
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
        attention=site_attention(site),
        refreshing=waiting,
        refresh_since=refresh_since if waiting else None,
        live=live,
        kept_rows=found.get(kept_key),
        # "next: …" on the business clock (clock.py), read once for the page.
        schedules=schedule_rows(state, clock.now()),
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
